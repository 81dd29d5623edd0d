"""``pytest -p midair.pytest_plugin``: scenario files with ``expect:`` as tests (``sim.testing.pytest_plugin``)."""

from sim.testing.pytest_plugin import (
    ScenarioFile,
    ScenarioItem,
    pytest_addoption,
    pytest_collect_file,
    pytest_configure,
)

__all__ = ["ScenarioFile", "ScenarioItem", "pytest_addoption", "pytest_collect_file", "pytest_configure"]
