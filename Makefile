# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CHECKED := $(wildcard src tests migrations bench)

.PHONY: run test lint unit integration bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.runtime

## Run the service on the embedded default (SQLite + in-process cache under ./var) on 127.0.0.1:3000.
run: $(VENV)/.runtime
	$(BIN)/logistic run

## Quality gates, then the whole test suite.
test: lint
	$(BIN)/pytest

lint: $(VENV)/.test
	$(BIN)/ruff check $(CHECKED)
	$(BIN)/ruff format --check $(CHECKED)
	$(BIN)/mypy
	$(BIN)/lint-imports

## The benchmark (bench/run.py): MariaDB on 127.0.0.1:3306 and Redis database 9, wrk installed.
bench: $(VENV)/.test
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench

unit: $(VENV)/.test
	$(BIN)/pytest tests/unit

integration: $(VENV)/.test
	$(BIN)/pytest tests/integration

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
