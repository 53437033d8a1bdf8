"""`tagwarden brake list|release` over a local store: exit codes, JSON, who released."""

from __future__ import annotations

import io
import json
from pathlib import Path

from tagwarden.cli.main import main
from tagwarden.runaway.ports import BrakeRecord, BrakeResult, BrakeState
from tagwarden.runaway.sqlite import SqliteRunawayStore

ROLE = "arn:aws:iam::123456789012:role/agent-fleet-support"


def braked(path: Path) -> None:
    store = SqliteRunawayStore(path)
    store.put_brake(BrakeRecord("Agent-ID=42", ROLE, "burst", "aws", BrakeState.ACTIVE, 1_800_000_000.0))


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), out, err), out.getvalue(), err.getvalue()


def test_list_and_release_by_value_record_who(tmp_path: Path, monkeypatch: object) -> None:
    db = tmp_path / "runaway.db"
    braked(db)
    code, out, _ = run("brake", "list", "--sqlite", str(db), "--format", "json")
    assert code == 0 and [r["state"] for r in json.loads(out)] == ["active"]

    released: list[str] = []

    class Brake:
        def apply(self, principal: str, scope: str, limit: str) -> BrakeResult:
            raise AssertionError("release never applies")

        def release(self, record: BrakeRecord) -> BrakeResult:
            released.append(record.principal)
            return BrakeResult(True, detail="removed")

    import tagwarden.cli.brake as cli_brake

    monkeypatch.setattr(cli_brake, "_brake_for", lambda records, scope: Brake())  # type: ignore[attr-defined]
    code, out, err = run("brake", "release", "42", "--sqlite", str(db), "--by", "alice@example.com")
    assert code == 0, err
    assert "released by alice@example.com" in out and released == [ROLE]
    code, out, _ = run("brake", "release", "Agent-ID=42", "--sqlite", str(db), "--by", "bob")
    assert code == 0 and "no active brake on Agent-ID=42" in out and released == [ROLE]


def test_unknown_agent_and_no_store_are_input_errors(tmp_path: Path, monkeypatch: object) -> None:
    db = tmp_path / "runaway.db"
    braked(db)
    code, _, err = run("brake", "release", "7", "--sqlite", str(db))
    assert code == 2 and "no brake recorded for agent '7'" in err
    monkeypatch.delenv("TAGWARDEN_RUNAWAY_TABLE", raising=False)  # type: ignore[attr-defined]
    code, _, err = run("brake", "list")
    assert code == 2 and "name the store" in err
