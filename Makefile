# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CHECKED := $(wildcard src tests migrations bench)

.PHONY: run test lint unit integration fuzz bench clean mysqlclient-if-possible

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

# mysqlclient (the optional C driver) compiles against MariaDB's client headers: with
# them (Debian: libmariadb-dev, pkg-config; .ci/run installs them) its tests run too;
# without them they skip locally, and fail under CI=true.
$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	if pkg-config --exists libmariadb 2>/dev/null; then $(BIN)/pip install --quiet -e '.[mysqlclient]'; \
	else echo "no libmariadb-dev: mysqlclient not installed, its tests will skip"; fi
	touch $@ $(VENV)/.runtime

## Run the service on the embedded default (SQLite + in-process cache under ./var) on 127.0.0.1:3000.
run: $(VENV)/.runtime
	$(BIN)/logistic run

## Quality gates, then the whole test suite.
test: lint
	@echo "screenshots of the tracking pages (browser tests) go to $(CURDIR)/build/screenshots"
	$(BIN)/pytest
	@echo "screenshots of the tracking pages: $(CURDIR)/build/screenshots"

# The headers installed after the venv was made: build mysqlclient now.
mysqlclient-if-possible: $(VENV)/.test
	@if pkg-config --exists libmariadb 2>/dev/null && ! $(BIN)/python -c 'import MySQLdb' 2>/dev/null; \
	then $(BIN)/pip install --quiet -e '.[mysqlclient]' \
	  || echo "mysqlclient not built: its tests skip locally, and fail under CI=true"; fi

lint: mysqlclient-if-possible
	$(BIN)/ruff check $(CHECKED)
	$(BIN)/ruff format --check $(CHECKED)
	$(BIN)/mypy
	$(BIN)/lint-imports

## The benchmark (bench/run.py): MariaDB on 127.0.0.1:3306 and Redis database 9, wrk installed.
## It runs from a venv of its own holding what production installs (plus gunicorn for the
## ceiling): the test tools would add modules to every worker (dependency-injector imports
## pydantic and PyYAML when they are present), and the workers' memory is one of the figures.
BENCH_VENV ?= .venv-bench
bench:
	@pkg-config --exists libmariadb || { echo "make bench builds mysqlclient: apt-get install libmariadb-dev pkg-config"; exit 1; }
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/pip install --quiet -e '.[bench]'
	$(BENCH_VENV)/bin/python -m bench $(BENCH_ARGS)

## Schemathesis against the real server for longer than `make test` does: more cases per
## operation and a random seed (printed), on both back ends (tests/integration/test_contract_fuzz.py).
FUZZ_EXAMPLES ?= 1000
fuzz: $(VENV)/.test
	LOGISTIC_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) LOGISTIC_FUZZ_SEED=random $(BIN)/pytest -p no:cacheprovider tests/integration/test_contract_fuzz.py

unit: $(VENV)/.test
	$(BIN)/pytest tests/unit

integration: $(VENV)/.test
	$(BIN)/pytest tests/integration

## Load through two workers while Redis, MariaDB and S3 are paused or killed and a worker
## is killed; prints the table of docs/faults.md (about a minute and a half).
.PHONY: faults
faults: $(VENV)/.test
	$(BIN)/python -m tests.integration.fault_suite

clean:
	rm -rf $(VENV) $(BENCH_VENV) .mypy_cache .ruff_cache .pytest_cache
