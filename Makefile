# Two commands do the whole set-up on a fresh machine with Python 3.11 and Java 17:
#   make demo   - create/refresh .venv, install, simulate the plant, materialize every asset, print a summary
#   make test   - create/refresh .venv, install, run the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: demo test ui bench lock validate clean notebook services app

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $@

$(DAGSTER_HOME)/dagster.yaml:
	@mkdir -p $(DAGSTER_HOME) && cp deploy/local/dagster.yaml $@

demo: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/plantlake demo

test: $(STAMP)
	$(BIN)/python -m pytest

# PostgreSQL and Mosquitto on loopback, and Debian's chromium, for the tests that need them (.ci/run does the same).
# Export what it prints in PLANTLAKE_TEST_* before `make test`, or run: . .ci/services && make test
services:
	@bash -c '. .ci/services && env | grep ^PLANTLAKE_TEST_ | sed "s/^/export /"'

validate: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster definitions validate -w workspace.yaml

ui: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

# The example notebooks (notebooks/README.md) in JupyterLab, on the lake `make demo` built (or PLANTLAKE_LAKE=...).
notebook: PLANTLAKE_LAKE ?= $(CURDIR)/lake
notebook: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[notebook]'
	PLANTLAKE_LAKE="$(PLANTLAKE_LAKE)" $(BIN)/jupyter lab notebooks/

# The plant app (apps/README.md) on http://127.0.0.1:8501, on the lake `make demo` built (or PLANTLAKE_LAKE=...).
app: PLANTLAKE_LAKE ?= $(CURDIR)/lake
app: $(STAMP)
	$(BIN)/plantlake --lake "$(PLANTLAKE_LAKE)" app --host 127.0.0.1 --port 8501

# Refresh the constraints file from the current venv after changing dependencies in pyproject.toml.
lock:
	$(BIN)/python -m pip freeze --exclude-editable | grep -iv '^plantlake' > constraints.txt

clean:
	rm -rf $(VENV) lake landing .dagster_home .pytest_cache
