"""The defects a new user's trial found in the command line (issue 13), one regression test each.

Defects of the scenario checker are in test_scenario_errors.py, beside the other file errors.
"""

import importlib.metadata
import tomllib


def test_project_license_is_an_spdx_expression_so_install_does_not_warn():
    with open("pyproject.toml", "rb") as fh:
        project = tomllib.load(fh)
    # a {text = ...} table makes setuptools 77+ warn on every install; a string is an SPDX expression
    assert project["project"]["license"] == "Apache-2.0"
    assert project["build-system"]["requires"] == ["setuptools>=77"]
    assert importlib.metadata.metadata("midair")["License-Expression"] == "Apache-2.0"
