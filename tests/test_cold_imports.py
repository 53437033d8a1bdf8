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
)
NEVER = ("tagwarden.cli", "tagwarden.guardrails", "tagwarden_testing", "tagwarden_demo")
BUILD = {
    "aws": "from tagwarden.aws import handler\nhandler.enforcer()\n",
    "azure": "from tagwarden.azure import handler\nhandler.enforcer()\n",
}
OTHER = {"aws": ("tagwarden.azure", "azure."), "azure": ("tagwarden.aws", "boto3", "botocore")}


@pytest.mark.parametrize("cloud", ["aws", "azure"])
def test_a_cold_function_loads_only_what_its_first_event_needs(cloud: str) -> None:
    code = BUILD[cloud] + "import json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    env = {
        "PATH": "/usr/bin",
        "PYTHONPATH": str(ROOT / "functions"),
        "TAGWARDEN_RULES_PATH": str(RULES),
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
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    early = [m for m in loaded if m.startswith(LATER)]
    assert not early, f"loaded before the first event needs them: {early}"
    wrong = [m for m in loaded if m.startswith(NEVER + OTHER[cloud])]
    assert not wrong, wrong
    assert f"tagwarden.{cloud}.normalize" in loaded and "tagwarden.enforce" in loaded
