"""No unused imports or names, no syntax errors: ruff's pyflakes rules (selected in pyproject.toml)
over the code and the tests."""

import subprocess
import sys


def test_ruff_finds_nothing():
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--quiet", "models", "sim", "midair", "tests", "benchmarks"], capture_output=True, text=True)
    assert (proc.returncode, proc.stdout) == (0, "")
