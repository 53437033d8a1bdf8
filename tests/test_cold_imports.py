"""What each cloud's function loads before its first event: nothing the first event does not need
(the quarantine tables, the sweepers, the notification renderers come on first use) and nothing of
the other cloud. Module sets, not timings (those are in bench/)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "functions" / "tagwarden" / "examples" / "rules.yaml"
LATER = (
    "tagwarden.aws.quarantine",
    "tagwarden.aws.sweeper",
    "tagwarden.azure.quarantine",
    "tagwarden.azure.sweeper",
    "tagwarden.lifecycle.messages",
    "tagwarden.lifecycle.sweep",
    "tagwarden.channels.webhook",
    "tagwarden.aws.rules_providers",  # rules from S3, SSM or AppConfig only
    "aws_lambda_powertools.utilities.parameters",
    "tagwarden.azure.rules_source",  # rules from a blob only
    "azure.storage.blob",
    "tagwarden.rules.live",  # rules from a store only: the packaged file is read once
    "tagwarden.aws.members",  # organization mode only
)
# The packaged rules are read from their compiled form (rules.compiled): no YAML parser, no schema,
# no semantic checks; the runaway limits and their price table only when the rules have limits; the
# local SQLite ledger only where no cloud ledger is configured.
COMPILED = (
    "yaml",
    "tagwarden.rules.loader",
    "tagwarden.rules.yamlpos",
    "tagwarden.rules.schema",
    "tagwarden.rules.spec",
    "tagwarden.rules.checks",
    "tagwarden.rules.limits",
    "tagwarden.runaway",  # the limits, their price table and the agents' metric guard
    "tagwarden.ledger.sqlite",
    "sqlite3",
)
NEVER = ("tagwarden.cli", "tagwarden.guardrails", "tagwarden_testing", "tagwarden_demo")
BUILD = {
    "aws": "from tagwarden.aws import handler\nhandler.enforcer()\n",
    "azure": "from tagwarden.azure import handler\nhandler.enforcer()\n",
}
OTHER = {"aws": ("tagwarden.azure", "azure."), "azure": ("tagwarden.aws", "boto3", "botocore")}


# Counts the dataclasses a build defines (the functions' records are msgspec Structs: a dataclass
# costs ~0.4 ms to define, ~25 ms over the ones the functions used to define at a cold start).
COUNT_DATACLASSES = """
import dataclasses
DEFINED = []
_process = dataclasses._process_class
def _counted(cls, *args, **kwargs):
    DEFINED.append(f"{cls.__module__}.{cls.__qualname__}")
    return _process(cls, *args, **kwargs)
dataclasses._process_class = _counted
"""


def _cold_modules(cloud: str, rules: Path) -> list[str]:
    """The modules a fresh interpreter holds after building `cloud`'s enforcer on `rules`, then
    the dataclasses tagwarden defined on the way (as a module name `dataclass:<class>`)."""
    code = (
        COUNT_DATACLASSES
        + BUILD[cloud]
        + "import json, sys\n"
        + "ours = [f'dataclass:{c}' for c in DEFINED if c.startswith('tagwarden')]\n"
        + "print(json.dumps(sorted(sys.modules) + ours))\n"
    )
    env = {
        "PATH": "/usr/bin",
        "PYTHONPATH": str(ROOT / "functions"),
        "TAGWARDEN_RULES_PATH": str(rules),
        "TAGWARDEN_ARM_ENDPOINT": "http://127.0.0.1:9",  # nothing is called
        "TAGWARDEN_LEDGER_TABLE": "tagwarden-ledger",  # the deployed ledgers (nothing is called)
        "TAGWARDEN_LEDGER_TABLE_ENDPOINT": "https://devstore.table.core.windows.net",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, timeout=120
    )
    loaded: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize("cloud", ["aws", "azure"])
def test_a_cold_function_loads_only_what_its_first_event_needs(cloud: str) -> None:
    loaded = _cold_modules(cloud, RULES)
    early = [m for m in loaded if m.startswith(LATER + COMPILED)]
    assert not early, f"loaded before the first event needs them: {early}"
    wrong = [m for m in loaded if m.startswith(NEVER + OTHER[cloud])]
    assert not wrong, wrong
    assert f"tagwarden.{cloud}.normalize" in loaded and "tagwarden.enforce" in loaded
    assert "tagwarden.rules.compiled" in loaded
    defined = [m for m in loaded if m.startswith("dataclass:")]
    assert not defined, f"dataclasses defined at a cold start (make them msgspec Structs): {defined}"


@pytest.mark.parametrize("cloud", ["aws", "azure"])
def test_without_its_compiled_form_the_yaml_is_read(cloud: str, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES.read_text(encoding="utf-8"), encoding="utf-8")
    loaded = _cold_modules(cloud, rules)
    assert "yaml" in loaded and "tagwarden.rules.loader" in loaded
