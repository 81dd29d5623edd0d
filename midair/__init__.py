"""The distribution's own name, for what must be importable as ``midair.*``: the opt-in pytest
plugin, ``pytest -p midair.pytest_plugin`` (its code is ``sim.testing.pytest_plugin``).

Everything else lives in ``models`` (what decides) and ``sim`` (what acts); nothing there
imports this package.
"""
