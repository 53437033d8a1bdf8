"""Rules from S3 and SSM (moto) reloaded without a cold start: the same enforcer object decides the
next event by the new version once max_age has passed on its clock; a broken version leaves the old
in force with an ERROR log and one RulesRejected metric; the records carry the digest of the rules
that decided. AppConfig: moto has no appconfigdata, so the provider's calls run against botocore's
Stubber (the session token chain and "empty means unchanged")."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from moto import mock_aws

from tagwarden.aws import handler
from tagwarden.aws.clients import Clients
from tagwarden.aws.live import enforcer_from_env, sweeper_from_env
from tagwarden.aws.rules_source import feed, live_rules, source_setting
from tagwarden.aws.telemetry import Telemetry
from tagwarden.ledger.records import rules_hash
from tagwarden.ledger.sqlite import SqliteLedger
from tagwarden.rules import RulesError
from tagwarden.rules.live import LiveEnforcer, LiveRules, LiveSweeper
from tagwarden_testing import events as ev
from tagwarden_testing.moto_world import LambdaContext

from conftest import EXAMPLE_RULES

REGION = "us-east-1"
V1 = EXAMPLE_RULES.read_text()
V2 = V1.replace('agent-fleet-support: "101"', 'agent-fleet-support: "205"')
BROKEN = V2.replace("pattern: '^OUT-[0-9]{3,8}$'", "pattern: '^(?=OUT)OUT-[0-9]+$'")  # RE2 cannot run it


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var, value in (
        ("AWS_DEFAULT_REGION", REGION),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ):
        monkeypatch.setenv(var, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        iam = boto3.client("iam")
        iam.create_role(
            RoleName="agent-fleet-support",
            AssumeRolePolicyDocument="{}",
            Tags=[{"Key": "Outcome-ID", "Value": "OUT-1234"}],
        )
        yield


def s3_store() -> tuple[str, Callable[[str], None]]:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="tagwarden-config")
    s3.put_bucket_versioning(Bucket="tagwarden-config", VersioningConfiguration={"Status": "Enabled"})

    def put(text: str) -> None:
        s3.put_object(Bucket="tagwarden-config", Key="rules/tagwarden.yaml", Body=text.encode())

    return "s3://tagwarden-config/rules/tagwarden.yaml", put


def ssm_store() -> tuple[str, Callable[[str], None]]:
    ssm = boto3.client("ssm", region_name=REGION)

    def put(text: str) -> None:
        ssm.put_parameter(Name="/tagwarden/rules", Value=text, Type="SecureString", Overwrite=True, Tier="Advanced")

    return "ssm:/tagwarden/rules", put


STORES = {"s3": s3_store, "ssm": ssm_store}


def create_bucket(e: LiveEnforcer[Any], name: str) -> dict[str, str]:
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=name)
    identity = ev.assumed_role("agent-fleet-support", "agent-42")
    (report,) = e.handle(ev.eventbridge(ev.create_bucket(name, identity=identity)))["events"]
    assert [r["action"] for r in report["resources"]] == ["tag"], report
    tags = boto3.client("s3", region_name=REGION).get_bucket_tagging(Bucket=name)["TagSet"]
    return {t["Key"]: t["Value"] for t in tags}


def emitted(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def metric_names(records: list[dict[str, Any]]) -> list[str]:
    return [m["Name"] for r in records for d in r.get("_aws", {}).get("CloudWatchMetrics", []) for m in d["Metrics"]]


@pytest.mark.parametrize("store", list(STORES))
def test_a_new_version_decides_the_next_event_and_a_broken_one_is_rejected(
    aws: None, store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    source, put = STORES[store]()
    put(V1)
    ledger_path = str(tmp_path / "ledger.sqlite")
    env = {"TAGWARDEN_RULES_SOURCE": source, "TAGWARDEN_NOT_FOUND_WINDOW": "0", "TAGWARDEN_LEDGER": ledger_path}
    clients, telemetry, clock = Clients(), Telemetry(), Clock()
    live = live_rules(env, clients, telemetry, clock)
    assert live is not None and live.max_age == 60  # the default: live within a minute
    e = enforcer_from_env(live, env, clients, telemetry)
    s = sweeper_from_env(live, env, clients, telemetry)
    assert isinstance(e, LiveEnforcer) and isinstance(s, LiveSweeper)

    assert create_bucket(e, "agent-a")["CostCenter"] == "101"
    put(V2)
    clock.now += 59
    assert create_bucket(e, "agent-b")["CostCenter"] == "101"  # within max_age: the cached version
    clock.now += 1
    assert create_bucket(e, "agent-c")["CostCenter"] == "205"  # same object, no cold start
    assert s.current.rules is e.current.rules is live.current().rules  # the sweeper judges by them too

    ledger = SqliteLedger(ledger_path)
    digests = {b: ledger.get("aws", f"arn:aws:s3:::{b}").rules_hash for b in ("agent-a", "agent-b", "agent-c")}
    assert digests == {"agent-a": rules_hash(V1), "agent-b": rules_hash(V1), "agent-c": rules_hash(V2)}

    capsys.readouterr()
    caplog.clear()
    put(BROKEN)
    for i in range(3):  # three checks, events between them: one error, one metric
        clock.now += 61
        assert create_bucket(e, f"agent-d{i}")["CostCenter"] == "205"  # the last good version
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert [r.getMessage() for r in errors] == ["rules rejected: the rules in force stay"]
    error = errors[0].__dict__
    assert error["source"] == source and error["version"] and error["in_force_digest"] == rules_hash(V2)
    assert any(re.match(rf"{re.escape(source)}:\d+: tags.Outcome-ID.pattern: .*lookahead", x) for x in error["errors"])
    assert metric_names(emitted(capsys.readouterr().out)).count("RulesRejected") == 1
    assert ledger.get("aws", "arn:aws:s3:::agent-d2").rules_hash == rules_hash(V2)


def test_the_version_logged_is_the_stores_own(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    source, put = ssm_store()
    put(V1)
    put(V2)  # SSM Version 2
    clients = Clients()
    loaded = live_rules({"TAGWARDEN_RULES_SOURCE": source}, clients, Telemetry(), Clock())
    assert loaded is not None and loaded.current().version == "2"
    s3_source, s3_put = s3_store()
    s3_put(V1)
    got = boto3.client("s3").head_object(Bucket="tagwarden-config", Key="rules/tagwarden.yaml")
    from_s3 = live_rules({"TAGWARDEN_RULES_SOURCE": s3_source}, clients, Telemetry(), Clock())
    assert from_s3 is not None and from_s3.current().version == got["VersionId"]


def test_the_older_ssm_setting_is_a_live_source(aws: None) -> None:
    _, put = ssm_store()
    put(V1)
    env = {"TAGWARDEN_RULES_SSM_PARAMETER": "/tagwarden/rules"}
    assert source_setting(env) == "ssm:/tagwarden/rules"
    live = live_rules(env, Clients(), Telemetry(), Clock())
    assert live is not None and live.current().digest == rules_hash(V1)
    assert live_rules({"TAGWARDEN_RULES_PATH": str(EXAMPLE_RULES)}, Clients(), Telemetry()) is None


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("s3://bucket-only", "expected s3://bucket/key"),
        ("ssm:", "expected s3://bucket/key"),
        ("appconfig:app/env", "appconfig:application/environment/profile"),
        ("https://example.com/rules.yaml", "expected s3://bucket/key"),
    ],
)
def test_a_malformed_source_names_the_accepted_forms(source: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        feed(source, Clients(boto3.session.Session(region_name=REGION)), 60)


def test_a_broken_first_version_fails_the_event_so_it_is_retried(
    aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """No rules, no enforcement: the cold start raises, the handler logs and re-raises, Lambda retries
    the event twice and then dead-letters it (template.yaml's EventInvokeConfig)."""
    source, put = s3_store()
    put(BROKEN)
    monkeypatch.setenv("TAGWARDEN_RULES_SOURCE", source)
    monkeypatch.setattr(handler, "_RULES", {})
    monkeypatch.setattr(handler, "_ENFORCER", None)
    event = ev.eventbridge(ev.create_bucket("agent-z", identity=ev.assumed_role("agent-fleet-support")))
    with pytest.raises(RulesError, match="lookahead"):
        handler.lambda_handler(event, LambdaContext())
    assert "rules rejected: no rules in force" in [r.getMessage() for r in caplog.records]
    assert {"RulesRejected", "EventsFailed"} <= set(metric_names(emitted(capsys.readouterr().out)))
    put(V1)  # fixed: the retry builds (nothing of the failed cold start was kept)
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="agent-z")
    (report,) = handler.lambda_handler(event, LambdaContext())["events"]
    assert [r["action"] for r in report["resources"]] == ["tag"]


def appconfig_body(text: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(text), len(text))


def test_appconfig_is_read_through_powertools_session_tokens(capsys: pytest.CaptureFixture[str]) -> None:
    clients = Clients(boto3.session.Session(region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"))
    client = clients.get("appconfigdata")
    stub = Stubber(client)
    ids = {"ApplicationIdentifier": "app1234", "EnvironmentIdentifier": "env5678", "ConfigurationProfileIdentifier": "prof9012"}
    stub.add_response("start_configuration_session", {"InitialConfigurationToken": "t0"}, ids)
    for token, nxt, body, label in (
        ("t0", "t1", V1.encode(), "v1"),
        ("t1", "t2", b"", None),  # nothing new since t1: Powertools returns the last value
        ("t2", "t3", V2.encode(), "v2"),
    ):
        response: dict[str, Any] = {"NextPollConfigurationToken": nxt, "Configuration": appconfig_body(body)}
        if label:
            response["VersionLabel"] = label
        stub.add_response("get_latest_configuration", response, {"ConfigurationToken": token})
    clock = Clock()
    with stub:
        live = live_rules({"TAGWARDEN_RULES_SOURCE": "appconfig:app1234/env5678/prof9012"}, clients, Telemetry(), clock)
        assert isinstance(live, LiveRules)
        first = live.current()
        assert first.version == "v1" and first.digest == rules_hash(V1)
        clock.now += 60
        assert live.current() is first  # unchanged: not compiled again
        clock.now += 60
        assert live.current().version == "v2" and live.current().digest == rules_hash(V2)
        stub.assert_no_pending_responses()


def test_an_expired_appconfig_session_is_started_again(caplog: pytest.LogCaptureFixture) -> None:
    """A quiet container's token expires (24 h): that check keeps the rules in force, the next one
    starts a new session, and the same text is not compiled again."""
    clients = Clients(boto3.session.Session(region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"))
    stub = Stubber(clients.get("appconfigdata"))
    ids = {"ApplicationIdentifier": "app1234", "EnvironmentIdentifier": "env5678", "ConfigurationProfileIdentifier": "prof9012"}
    stub.add_response("start_configuration_session", {"InitialConfigurationToken": "t0"}, ids)
    stub.add_response(
        "get_latest_configuration",
        {"NextPollConfigurationToken": "t1", "Configuration": appconfig_body(V1.encode()), "VersionLabel": "v1"},
        {"ConfigurationToken": "t0"},
    )
    stub.add_client_error("get_latest_configuration", "BadRequestException", "token expired", 400)
    stub.add_response("start_configuration_session", {"InitialConfigurationToken": "u0"}, ids)
    stub.add_response(
        "get_latest_configuration",
        {"NextPollConfigurationToken": "u1", "Configuration": appconfig_body(V1.encode()), "VersionLabel": "v1"},
        {"ConfigurationToken": "u0"},
    )
    clock = Clock()
    with stub:
        live = live_rules({"TAGWARDEN_RULES_SOURCE": "appconfig:app1234/env5678/prof9012"}, clients, Telemetry(), clock)
        assert live is not None
        first = live.current()
        clock.now += 86_400
        assert live.current() is first
        assert "rules unreadable: the rules in force stay" in [r.getMessage() for r in caplog.records]
        clock.now += 60
        assert live.current() is first
        stub.assert_no_pending_responses()
