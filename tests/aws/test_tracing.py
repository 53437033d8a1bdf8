"""X-Ray tracing of the handlers: on in Lambda (handler subsegment sent to the daemon, botocore
patched), off with POWERTOOLS_TRACE_DISABLED (then the X-Ray SDK is not even imported). Each case
runs in a fresh interpreter: the Tracer is decided once per cold start."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tagwarden.aws.tracing import enabled

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "functions" / "tagwarden" / "examples" / "rules.yaml"

# One skipped event (a failed call): the handler runs end to end and calls no AWS API.
SCRIPT = """
import json, sys
from tagwarden.aws import handler
from tagwarden_testing.events import cloudtrail, eventbridge
class Context:
    function_name = "tagwarden-enforcer"
event = eventbridge(cloudtrail("RunInstances", "ec2.amazonaws.com", error_code="Denied"))
out = handler.lambda_handler(event, Context())
patched = []
if "aws_xray_sdk" in sys.modules:
    from aws_xray_sdk.core import patcher
    patched = sorted(patcher._PATCHED_MODULES)
print(json.dumps({"xray": "aws_xray_sdk" in sys.modules, "patched": patched,
                  "wrapped": hasattr(handler.lambda_handler.__wrapped__, "__wrapped__"),
                  "tracer": handler._TRACER is not None, "skipped": out["events"][0]["skipped"]}))
"""


def run(daemon_port: int, **env: str) -> dict[str, object]:
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin"),
        "PYTHONPATH": f"{ROOT / 'functions'}:{ROOT / 'devkit'}",
        "TAGWARDEN_RULES_PATH": str(RULES),
        "TAGWARDEN_LEDGER_TABLE": "tagwarden-ledger",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "LAMBDA_TASK_ROOT": str(ROOT / "functions"),
        "AWS_LAMBDA_FUNCTION_NAME": "tagwarden-enforcer",
        "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon_port}",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    }
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        check=False,
        capture_output=True,
        text=True,
        env={**base, **env},
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture
def daemon() -> socket.socket:
    """A UDP socket standing in for the X-Ray daemon (loopback only)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    yield sock  # type: ignore[misc]
    sock.close()


def segments(sock: socket.socket) -> list[dict[str, object]]:
    found = []
    try:
        while True:
            data = sock.recv(65536).decode()
            found.append(json.loads(data.split("\n", 1)[1]))  # header line, then the document
            sock.settimeout(0.5)
    except TimeoutError:
        return found


def test_in_lambda_the_handler_is_a_subsegment_and_botocore_is_patched(daemon: socket.socket) -> None:
    result = run(daemon.getsockname()[1])
    assert result["tracer"] and result["xray"] and result["wrapped"] and result["skipped"]
    assert result["patched"] == ["botocore"]  # only botocore: patching less costs less
    found = segments(daemon)
    (handler,) = [s for s in found if s.get("name") == "## lambda_handler"]
    assert "lambda_handler response" not in json.dumps(handler)  # resources and actors stay in the logs
    assert handler["annotations"]["ColdStart"] is True


@pytest.mark.parametrize("value", ["true", "1", "TRUE"])
def test_disabled_by_env_imports_no_xray_and_sends_nothing(daemon: socket.socket, value: str) -> None:
    result = run(daemon.getsockname()[1], POWERTOOLS_TRACE_DISABLED=value)
    assert result == {"xray": False, "patched": [], "wrapped": False, "tracer": False,
                      "skipped": result["skipped"]}  # fmt: skip
    assert result["skipped"]
    assert segments(daemon) == []


@pytest.mark.parametrize(
    ("env", "on"),
    [
        ({"LAMBDA_TASK_ROOT": "/var/task"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "false"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "yes"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"}, False),  # sam local: no daemon
        ({}, False),  # outside Lambda
    ],
)
def test_enabled_follows_powertools_rule(env: dict[str, str], on: bool) -> None:
    assert enabled(env) is on
