"""The notification renderers: golden files for every kind x provider, the fix commands, the rules
each channel imposes (SNS subject, attribute values, Chatbot schema, Adaptive Card shape), the
dry-run banner, recipients, and the fan-out over channels.

Golden files: tests/lifecycle/golden/<provider>-<kind>.json (subject, JSON, SNS attributes,
Chatbot, Adaptive Card) and .txt (the email body). After a deliberate change to a renderer,
regenerate them with TAGWARDEN_UPDATE_GOLDEN=1 and review the diff by eye.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tagwarden.aws.text import AWS_TEXT
from tagwarden.azure.text import AZURE_TEXT
from tagwarden.lifecycle import messages as m
from tagwarden.lifecycle.fanout import Fanout, FanoutError
from tagwarden.lifecycle.ports import CloudText, Notification

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("TAGWARDEN_UPDATE_GOLDEN") == "1"

ACCOUNT = "123456789012"
SUB = "0b1f6471-1bf0-4dda-aec3-111122223333"
EC2 = f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0abc1234def567890"
SSO_ALICE = f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Developer_1a2b3c4d/alice@example.com"
VM = f"/subscriptions/{SUB}/resourceGroups/rg-apps/providers/Microsoft.Compute/virtualMachines/vm-build-01"

AWS: dict[str, Notification] = {
    "tagged-as-unallocated": Notification(
        kind="tagged-as-unallocated",
        provider="aws",
        resource_id=f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:billing-export",
        resource_type="AWS::Lambda::Function",
        account=ACCOUNT,
        region="eu-west-1",
        creator=f"arn:aws:iam::{ACCOUNT}:user/bob",
        creator_address=None,
        rule="cost-allocation",
        missing=("CostCenter",),
        action="tag-unallocated",
        detail="CostCenter was set to 'unallocated'.",
    ),
    "quarantined": Notification(
        kind="quarantined",
        provider="aws",
        resource_id=EC2,
        resource_type="AWS::EC2::Instance",
        account=ACCOUNT,
        region="us-east-1",
        creator=SSO_ALICE,
        creator_address=None,
        rule="prod-owner-required",
        missing=("Owner", "CostCenter"),
        action="quarantine",
        deadline="2025-07-08T12:00:00Z",
        detail="The instance was stopped; it is deleted at the deadline unless tagged.",
    ),
    "released": Notification(
        kind="released",
        provider="aws",
        resource_id=EC2,
        resource_type="AWS::EC2::Instance",
        account=ACCOUNT,
        region="us-east-1",
        creator=SSO_ALICE,
        creator_address="alice@example.com",
        rule="prod-owner-required",
        action="release",
        detail="Owner and CostCenter are now present; the instance was started again.",
    ),
    "deleted": Notification(
        kind="deleted",
        provider="aws",
        resource_id="arn:aws:s3:::scratch-data-2024",
        resource_type="AWS::S3::Bucket",
        account=ACCOUNT,
        region="us-west-2",
        creator=f"arn:aws:iam::{ACCOUNT}:user/bob",
        creator_address=None,
        rule="scratch-buckets",
        missing=("Owner",),
        action="delete",
        deadline="2025-07-01T00:00:00Z",
    ),
    "failed": Notification(
        kind="failed",
        provider="aws",
        resource_id=f"arn:aws:rds:us-east-1:{ACCOUNT}:db:orders-db",
        resource_type="AWS::RDS::DBInstance",
        account=ACCOUNT,
        region="us-east-1",
        creator=SSO_ALICE,
        creator_address="alice@example.com",
        rule="prod-owner-required",
        missing=("Owner",),
        invalid=("Environment",),
        action="quarantine",
        detail="InvalidDBInstanceState: Instance orders-db is not in available state.",
    ),
    "notify": Notification(
        kind="notify",
        provider="aws",
        resource_id=f"arn:aws:iam::{ACCOUNT}:role/ci-deployer",
        resource_type="AWS::IAM::Role",
        account=ACCOUNT,
        region=None,
        creator=f"arn:aws:iam::{ACCOUNT}:user/bob",
        creator_address=None,
        rule="iam-owner",
        missing=("Owner",),
        invalid=("Environment",),
        action="notify",
        extra={"event_id": "9f0c3c1e-0000-4000-8000-000000000001"},
    ),
}

AZURE: dict[str, Notification] = {
    "tagged-as-unallocated": Notification(
        kind="tagged-as-unallocated",
        provider="azure",
        resource_id=f"/subscriptions/{SUB}/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/stdata01",
        resource_type="Microsoft.Storage/storageAccounts",
        account=SUB,
        region="westeurope",
        creator="carol@contoso.com",
        creator_address=None,
        rule="cost-allocation",
        missing=("CostCenter",),
        action="tag-unallocated",
    ),
    "quarantined": Notification(
        kind="quarantined",
        provider="azure",
        resource_id=VM,
        resource_type="Microsoft.Compute/virtualMachines",
        account=SUB,
        region="westeurope",
        creator="dave@contoso.com",
        creator_address="Dave@Contoso.com",
        rule="prod-owner-required",
        missing=("Owner", "CostCenter"),
        action="quarantine",
        deadline="2025-07-08T12:00:00Z",
        detail="The VM was deallocated.",
    ),
    "released": Notification(
        kind="released",
        provider="azure",
        resource_id=VM,
        resource_type="Microsoft.Compute/virtualMachines",
        account=SUB,
        region="westeurope",
        creator="dave@contoso.com",
        creator_address="Dave@Contoso.com",
        rule="prod-owner-required",
        action="release",
    ),
    "deleted": Notification(
        kind="deleted",
        provider="azure",
        resource_id=f"/subscriptions/{SUB}/resourceGroups/rg-apps/providers/Microsoft.Compute/disks/vm-build-01_OsDisk_1",
        resource_type="Microsoft.Compute/disks",
        account=SUB,
        region="westeurope",
        creator="dave@contoso.com",
        creator_address=None,
        rule="prod-owner-required",
        missing=("Owner",),
        action="delete",
        deadline="2025-07-01T00:00:00Z",
    ),
    "failed": Notification(
        kind="failed",
        provider="azure",
        resource_id=f"/subscriptions/{SUB}/resourceGroups/rg-web/providers/Microsoft.Web/serverfarms/plan-web",
        resource_type="Microsoft.Web/serverfarms",
        account=SUB,
        region="northeurope",
        creator="11111111-2222-3333-4444-555555555555",
        creator_address=None,
        rule="prod-owner-required",
        missing=("Owner",),
        action="delete",
        detail="ScopeLocked: the resource group has a CanNotDelete lock.",
    ),
    "notify": Notification(
        kind="notify",
        provider="azure",
        resource_id=f"/subscriptions/{SUB}/resourceGroups/rg-k8s/providers/Microsoft.ContainerService/managedClusters/aks-dev",
        resource_type="Microsoft.ContainerService/managedClusters",
        account=SUB,
        region="westeurope",
        creator="erin_fabrikam.com#EXT#@contoso.onmicrosoft.com",
        creator_address=None,
        rule="aks-owner",
        missing=("Owner",),
        invalid=("Environment",),
        action="notify",
    ),
}


def _runaway(
    provider: str, agent: str, principal: str, account: str, region: str, brake: str
) -> Notification:
    """The runaway alert as tagwarden.runaway.messages builds it (the facts travel in the detail)."""
    return Notification(
        kind="runaway",
        provider=provider,
        resource_id=principal,
        resource_type="agent",
        account=account,
        region=region,
        creator=principal,
        creator_address=None,
        rule="limit:burst",
        action="alert,brake",
        detail=f"Agent {agent} reached 51 creates in the last 10m; the limit burst allows 50 creates (level 1).\n"
        f"Created in the window: 51 resource(s), estimated $0.53/h.\n{brake}",
        extra={"agent": agent, "limit": "burst", "level": 1},
    )


def _brake_released(provider: str, agent: str, principal: str, account: str) -> Notification:
    return Notification(
        kind="brake-released",
        provider=provider,
        resource_id=principal,
        resource_type="agent",
        account=account,
        region=None,
        creator=None,
        creator_address=None,
        rule="limit:burst",
        action="release",
        detail=f"The brake on agent {agent} ({principal}) was lifted by oncall@example.com.",
    )


AGENT_ROLE = "arn:aws:iam::123456789012:role/agent-fleet-support"
AWS["runaway"] = _runaway(
    "aws", "Agent-ID=42", AGENT_ROLE, "123456789012", "us-east-1",
    "Brake applied: inline deny policy tagwarden-brake on role agent-fleet-support\n"
    "Lift the brake: tagwarden brake release Agent-ID=42",
)  # fmt: skip
AWS["brake-released"] = _brake_released("aws", "Agent-ID=42", AGENT_ROLE, "123456789012")
AZURE["runaway"] = _runaway(
    "azure", "Agent-ID=planner", "11111111-0000-0000-0000-00000000a11a", SUB, "westeurope",
    "This cloud has no brake: alert only (see README, Runaway agents).",
)  # fmt: skip
AZURE["brake-released"] = _brake_released(
    "azure", "Agent-ID=planner", "11111111-0000-0000-0000-00000000a11a", SUB
)


def _as_sent(n: Notification) -> Notification:
    """As an adapter sends it: its CloudText words, and the fix command for kinds that ask for one."""
    text: CloudText = AWS_TEXT if n.provider == "aws" else AZURE_TEXT
    keys = (*n.missing, *n.invalid)
    fix = n.fix or (
        text.fix_command(n.resource_id, n.resource_type, keys, n.region) if m.kind_of(n).wants_fix else ""
    )
    return msgspec.structs.replace(n, fix=fix, account_label=text.account_label, region_label=text.region_label)


AWS = {kind: _as_sent(n) for kind, n in AWS.items()}
AZURE = {kind: _as_sent(n) for kind, n in AZURE.items()}
CASES = [(p, k) for p, table in (("aws", AWS), ("azure", AZURE)) for k in table]
KINDS = (
    "tagged-as-unallocated", "quarantined", "released", "deleted", "failed", "notify", "runaway", "brake-released",
)  # fmt: skip


def notification(provider: str, kind: str) -> Notification:
    return (AWS if provider == "aws" else AZURE)[kind]


def rendered(n: Notification) -> dict[str, Any]:
    """Everything except the body, as JSON (round-tripped so tuples compare as lists)."""
    out: dict[str, Any] = json.loads(json.dumps(m.render_all(n)))
    return out


# --- golden ---------------------------------------------------------------------------------------


def test_every_kind_and_provider_has_a_case() -> None:
    assert set(KINDS) == set(m.KINDS)
    assert sorted(CASES) == sorted((p, k) for p in ("aws", "azure") for k in KINDS)


@pytest.mark.parametrize(("provider", "kind"), CASES)
def test_golden(provider: str, kind: str) -> None:
    n = notification(provider, kind)
    got_json, got_body = rendered(n), m.body(n)
    json_path = GOLDEN / f"{provider}-{kind}.json"
    body_path = GOLDEN / f"{provider}-{kind}.txt"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        json_path.write_text(json.dumps(got_json, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        body_path.write_text(got_body, encoding="utf-8")
    assert json_path.exists(), f"no golden file {json_path.name}: run with TAGWARDEN_UPDATE_GOLDEN=1"
    expected = json.loads(json_path.read_text(encoding="utf-8"))
    for part in ("subject", "json", "sns_attributes", "chatbot", "adaptive_card"):
        assert got_json[part] == expected[part], f"{part} differs from {json_path.name}"
    assert got_body == body_path.read_text(encoding="utf-8")


def test_golden_directory_has_no_strays() -> None:
    wanted = {f"{p}-{k}.{ext}" for p, k in CASES for ext in ("json", "txt")}
    assert {f.name for f in GOLDEN.iterdir()} == wanted


# --- the fix command (the commands themselves: tests/aws/test_text.py, tests/azure/test_text.py) ----


def test_fix_covers_invalid_keys_and_a_given_fix_wins() -> None:
    n = AWS["failed"]
    assert m.fix_for(n).endswith("--tags 'Owner=<value>,Environment=<value>'")
    given = Notification(**{**_fields(n), "fix": "make tag"})
    assert m.fix_for(given) == "make tag"
    assert m.to_json(given)["fix"] == "make tag"


def test_released_and_deleted_ask_for_no_fix() -> None:
    for n in (AWS["released"], AWS["deleted"], AZURE["released"], AZURE["deleted"]):
        assert m.fix_for(n) == ""
        assert "How to fix it" not in m.body(n)


# --- channel rules --------------------------------------------------------------------------------

SUBJECT_OK = re.compile(r"[ -~]{1,99}")


@pytest.mark.parametrize(("provider", "kind"), CASES)
def test_subject_follows_sns_rules(provider: str, kind: str) -> None:
    for dry_run in (False, True):
        n = Notification(**{**_fields(notification(provider, kind)), "dry_run": dry_run})
        assert SUBJECT_OK.fullmatch(m.subject(n)), m.subject(n)


def test_subject_of_long_and_unicode_names() -> None:
    name = "vm-" + "é" * 30 + "\u2603\n" + "x" * 120
    n = Notification(**{**_fields(AZURE["quarantined"]), "resource_id": f"{VM[: VM.rindex('/')]}/{name}"})
    s = m.subject(n)
    assert SUBJECT_OK.fullmatch(s)
    assert s.startswith("[tagwarden] Quarantined: vm-eeeeeeeee")
    assert s.endswith("...")
    shorter = Notification(**{**_fields(AZURE["quarantined"]), "resource_type": "Microsoft.X/" + "y" * 80})
    assert m.subject(shorter) == f"[tagwarden] Quarantined: vm-build-01 in {SUB}"


@pytest.mark.parametrize(("provider", "kind"), CASES)
def test_sns_attributes_are_non_empty_strings(provider: str, kind: str) -> None:
    attrs = m.sns_attributes(notification(provider, kind))
    assert {"kind", "provider", "account", "action", "dry_run"} <= set(attrs)
    assert len(attrs) <= 10 - 1  # SNS allows 10; the notifier adds creator_address
    for value in attrs.values():
        assert value["DataType"] == "String"
        assert value["StringValue"]


def test_sns_attributes_leave_out_empty_values() -> None:
    n = Notification(**{**_fields(AWS["notify"]), "rule": None, "action": ""})
    assert "rule" not in m.sns_attributes(n)
    assert "action" not in m.sns_attributes(n)


@pytest.mark.parametrize(("provider", "kind"), CASES)
def test_chatbot_schema(provider: str, kind: str) -> None:
    c = m.chatbot(notification(provider, kind))
    assert c["version"] == "1.0"
    assert c["source"] == "custom"
    assert set(c) == {"version", "source", "id", "content", "metadata"}
    assert c["content"]["textType"] == "client-markdown"
    assert set(c["content"]) <= {"textType", "title", "description", "nextSteps", "keywords"}
    assert set(c["metadata"]) <= {"threadId", "summary", "eventType", "relatedResources", "additionalContext"}
    assert all(isinstance(v, str) for v in c["metadata"]["additionalContext"].values())
    assert all(isinstance(v, str) for v in c["content"].get("nextSteps", []) + c["content"]["keywords"])


def test_chatbot_threads_by_resource() -> None:
    assert (
        m.chatbot(AWS["quarantined"])["metadata"]["threadId"]
        == m.chatbot(AWS["released"])["metadata"]["threadId"]
    )
    assert m.chatbot(AWS["quarantined"])["id"] != m.chatbot(AWS["released"])["id"]


@pytest.mark.parametrize(("provider", "kind"), CASES)
def test_adaptive_card_shape(provider: str, kind: str) -> None:
    payload = m.adaptive_card(notification(provider, kind))
    assert payload["type"] == "message"
    [attachment] = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.4"
    types = [b["type"] for b in card["body"]]
    assert "FactSet" in types
    assert set(types) <= {"TextBlock", "Container", "FactSet"}
    assert "actions" not in card  # Workflows cards: Action.Submit goes nowhere
    assert len(json.dumps(payload).encode()) < 28 * 1024  # Teams message size limit
    fix = m.fix_for(notification(provider, kind))
    mono = [b["text"] for b in card["body"] if b.get("fontType") == "Monospace"]
    assert mono == ([fix] if fix else [])


# --- dry run ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["aws", "azure"])
def test_dry_run_banner_everywhere(provider: str) -> None:
    n = Notification(**{**_fields(notification(provider, "quarantined")), "dry_run": True})
    assert m.body(n).startswith(m.DRY_RUN_BANNER + "\n")
    assert "would have quarantined" in m.body(n)
    assert m.subject(n).startswith("[tagwarden] [dry run] Quarantined: ")
    assert m.DRY_RUN_BANNER in m.chatbot(n)["content"]["description"]
    assert m.chatbot(n)["content"]["title"].startswith("[dry run] ")
    assert "dry-run" in m.chatbot(n)["content"]["keywords"]
    card = m.adaptive_card(n)["attachments"][0]["content"]
    assert card["body"][0]["items"][0]["text"] == m.DRY_RUN_BANNER
    assert m.to_json(n)["dry_run"] is True
    assert m.sns_attributes(n)["dry_run"]["StringValue"] == "true"
    live = notification(provider, "quarantined")
    assert m.DRY_RUN_BANNER not in m.body(live)
    assert m.DRY_RUN_BANNER not in json.dumps(m.adaptive_card(live))


# --- the wire format --------------------------------------------------------------------------------


def test_to_json_is_versioned_and_complete() -> None:
    doc = m.to_json(AWS["notify"])
    assert doc["schema"] == "tagwarden.notification"
    assert doc["version"] == "1"
    assert re.fullmatch(r"[0-9a-f]{32}", doc["id"])
    # every field of the dataclass is in the message, except the cloud's words for its labels
    for name in _fields(AWS["notify"]).keys() - {"account_label", "region_label"}:
        assert name in doc, name
    assert "account_label" not in doc and "region_label" not in doc
    assert doc["extra"] == {"event_id": "9f0c3c1e-0000-4000-8000-000000000001"}


def test_to_json_is_stable_and_serialisable() -> None:
    n = Notification(**{**_fields(AWS["notify"]), "extra": {"when": object.__new__(_Odd), "n": 1}})
    assert m.to_json(n) == m.to_json(n)
    assert m.to_json(n)["extra"] == {"n": 1, "when": "odd"}
    json.dumps(m.render_all(n))


class _Odd:
    def __str__(self) -> str:
        return "odd"


def test_unknown_kind_still_renders() -> None:
    n = Notification(**{**_fields(AWS["notify"]), "kind": "grace-extended"})
    assert m.subject(n).startswith("[tagwarden] Grace extended: ci-deployer")
    assert m.body(n)
    assert m.chatbot(n)["metadata"]["eventType"] == "grace-extended"


# --- recipients -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("creator", "address", "expected"),
    [
        ("bob", "Bob@Example.com", ("bob@example.com",)),  # the explicit address, lower-cased
        ("carol@contoso.com", None, ("carol@contoso.com",)),  # an Entra ID UPN as the creator
        (SSO_ALICE, None, ("alice@example.com",)),  # IAM Identity Center session name
        (f"arn:aws:iam::{ACCOUNT}:user/bob", None, ()),
        ("erin_fabrikam.com#EXT#@contoso.onmicrosoft.com", None, ()),  # guest UPN: no mailbox
        ("11111111-2222-3333-4444-555555555555", None, ()),  # a service principal
        (None, "not an address", ()),
        (None, None, ()),
    ],
)
def test_recipients(creator: str | None, address: str | None, expected: tuple[str, ...]) -> None:
    n = Notification(**{**_fields(AWS["notify"]), "creator": creator, "creator_address": address})
    assert m.recipients(n) == expected
    assert m.to_json(n)["recipients"] == list(expected)


# --- fan-out ----------------------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.sent: list[Notification] = []

    def send(self, message: Notification) -> None:
        self.sent.append(message)


class Broken:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def send(self, message: Notification) -> None:
        raise self.error


def test_fanout_tries_every_channel_then_raises_once() -> None:
    first, last = Recorder(), Recorder()
    fan = Fanout(
        {
            "sns": first,
            "teams": Broken(RuntimeError("HTTP 500")),
            "queue": Broken(ValueError("bad")),
            "copy": last,
        }
    )
    with pytest.raises(FanoutError) as err:
        fan.send(AWS["quarantined"])
    assert first.sent == [AWS["quarantined"]]
    assert last.sent == [AWS["quarantined"]]
    assert err.value.channels == ("teams", "queue")
    assert err.value.delivered == ("sns", "copy")
    assert "teams: RuntimeError: HTTP 500" in str(err.value)
    assert "queue: ValueError: bad" in str(err.value)


def test_fanout_names_unnamed_channels_and_passes_when_all_deliver() -> None:
    a, b = Recorder(), Recorder()
    Fanout([a, b]).send(AZURE["notify"])
    assert a.sent == b.sent == [AZURE["notify"]]
    with pytest.raises(FanoutError, match=r"Broken\[1\]"):
        Fanout([a, Broken(OSError("down"))]).send(AZURE["notify"])


def _fields(n: Notification) -> dict[str, Any]:
    return {name: getattr(n, name) for name in Notification.__struct_fields__}
