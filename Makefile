# Two entry points, each doing all set-up on a fresh machine:
#   make demo   create .venv if missing, install midair, rehearse the default scenario
#   make test   the same set-up, then the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: demo example docs-figures test test-thorough bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "midair needs Python 3.11 or newer (found " + sys.version.split()[0] + "); set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/midair validate scenarios/*.yaml
	$(BIN)/midair path --scenario scenarios/quickstart.yaml
	$(BIN)/midair sweep scenarios/quickstart.yaml --out reports/demo

# The figures of docs/strategies.md: every built-in strategy on the default scenario.
docs-figures: $(STAMP)
	$(BIN)/midair sweep scenarios/quickstart.yaml --out reports/strategies \
	  --set 'strategies=[{name: inplace}, {name: replace}, {name: surge, maxSurge: 2, maxUnavailable: 1}, {name: bluegreen, drainBatch: 2, soakSeconds: 2m}]'
	mkdir -p docs/figures && cp reports/strategies/figures/*.svg docs/figures/

# Refresh the committed example report from the demo's.
example: demo
	rm -rf reports/example && cp -r reports/demo reports/example

test: $(STAMP)
	$(BIN)/python -m pytest -n auto  # one worker per core: the suite is over 5 min of CPU

# Speed and memory figures (written down in benchmarks/README.md).
bench: $(STAMP)
	$(BIN)/python benchmarks/scale.py
	$(BIN)/python benchmarks/sweep.py
	$(BIN)/python benchmarks/recommend.py

# Hypothesis' thorough profile: many more examples per property.
test-thorough: $(STAMP)
	HYPOTHESIS_PROFILE=thorough $(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
