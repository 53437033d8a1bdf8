"""`tagwarden ledger show` and `ledger export`: read the local SQLite ledger."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest
from msgspec.structs import replace

from tagwarden.cli.main import main
from tagwarden.ledger.export import read_jsonl
from tagwarden.ledger.model import LifecycleState, ResourceRecord
from tagwarden.ledger.sqlite import SqliteLedger

ARN = "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc1234"
RECORD = ResourceRecord(
    provider="aws", resource_id=ARN, account="123456789012", region="us-east-1",
    type="AWS::EC2::Instance", name=None, event_id="e-1", event_name="RunInstances",
    event_time="2026-12-01T10:00:00Z", actor={"kind": "assumed-role", "arn": "arn:aws:sts::1:assumed-role/r/agent-13"},
    tags={"Agent-ID": "13"}, sources={"Agent-ID": "actor:session_name"}, rule="agents-aws",
    rules_hash="ab" * 32, action="quarantine", state=LifecycleState.QUARANTINED, deadline=1_800_014_400.0,
    undo="state=running", recorded_at=1_800_000_000.0, ignored={"tagwarden:protect": "x"},
)  # fmt: skip


@pytest.fixture
def ledger_file(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.sqlite"
    store = SqliteLedger(path)
    store.create(RECORD)
    store.create(replace(RECORD, resource_id=ARN.replace("abc", "def"), state=LifecycleState.ACTIVE))
    store.close()
    return path


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), out, err), out.getvalue(), err.getvalue()


def test_show_by_id_or_its_end(ledger_file: Path) -> None:
    code, out, _ = cli("ledger", "show", "--ledger", str(ledger_file), "i-0abc1234")
    assert code == 0
    assert "state      quarantined" in out and "undo state=running" in out
    assert "tag        Agent-ID=13   from actor:session_name" in out
    assert "ignored    tagwarden:protect=x" in out
    code, out, _ = cli("ledger", "show", "--ledger", str(ledger_file), ARN, "--format", "json")
    assert code == 0 and ResourceRecord.from_json(json.loads(out)) == RECORD


def test_show_reads_the_ledger_named_by_the_environment(
    ledger_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAGWARDEN_LEDGER", str(ledger_file))
    assert cli("ledger", "show", ARN)[0] == 0


def test_unknown_or_ambiguous_resources_and_missing_ledgers_exit_2(ledger_file: Path, tmp_path: Path) -> None:
    code, _, err = cli("ledger", "show", "--ledger", str(ledger_file), "i-0nope")
    assert code == 2 and "no record for 'i-0nope'" in err
    code, _, err = cli("ledger", "show", "--ledger", str(ledger_file), "1234")
    assert code == 2 and "ends 2 resource ids" in err
    code, _, err = cli("ledger", "show", "--ledger", str(tmp_path / "none.sqlite"), ARN)
    assert code == 2 and "no ledger at" in err


@pytest.mark.parametrize("name", ["out.jsonl", "out.jsonl.gz"])
def test_export_round_trips(ledger_file: Path, tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    code, out, _ = cli(
        "ledger", "export", "--ledger", str(ledger_file), "--out", str(target), "--format", "json"
    )
    assert code == 0 and json.loads(out) == {"records": 2, "out": str(target)}
    got = list(read_jsonl(target))
    assert RECORD in got and len(got) == 2
    if name.endswith(".gz"):
        with gzip.open(target, "rt") as fh:
            assert fh.readline().startswith('{"account"')


def test_the_readme_commands_parse() -> None:
    import re
    import shlex

    from tagwarden.cli.main import build_parser

    from conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    section = readme.split("## The ledger\n", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    commands = [shlex.split(line.split("   #")[0]) for line in block.splitlines() if line.strip()]
    assert len(commands) == 3
    for argv in commands:
        assert argv[0] == ".venv/bin/tagwarden"
        args = build_parser().parse_args(argv[1:])
        assert args.command == "ledger" and args.run is not None
