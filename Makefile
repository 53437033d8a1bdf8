# make demo  - set up and run the main job on the local embedded default
# make test  - set up and run the whole suite: ruff, mypy, pytest
# Each target creates its own virtualenv on first use (PYTHON picks the interpreter).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PYTEST_ARGS ?=

.PHONY: demo test lint typecheck unit bench schema clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

demo: $(STAMP)
	$(BIN)/python -m tagwarden.demo

test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check functions tests bench function_app.py

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/core_bench.py

# Regenerate the shipped JSON Schema after changing rules/spec.py (a test checks it is current).
schema: $(STAMP)
	$(BIN)/tagwarden rules schema > functions/tagwarden/rules/rules.schema.json

clean:
	rm -rf .venv .venv-* .pytest_cache .mypy_cache .ruff_cache
