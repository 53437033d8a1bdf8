"""The sweeper's judgement and the markers, over plain data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tagwarden.lifecycle.marker import Keys, Marker, State, iso, marker_tags, read_marker
from tagwarden.lifecycle.sweep import Found, Verdict, judge, sweep, unsettled
from tagwarden.model import Provider, Resource
from tagwarden.rules import load_rules_text
from tagwarden.rules.model import RuleSet

from conftest import EXAMPLE_RULES

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
KEYS = Keys.with_prefix("tagwarden:")
KEY = "test-marker-key"
INSTANCE = Resource(
    id="arn:aws:ec2:us-east-1:123456789012:instance/i-1", type="AWS::EC2::Instance", native_id="i-1"
)


def marked(
    deadline: datetime,
    extra: dict[str, str] | None = None,
    state: State = State.QUARANTINED,
    rid: str = INSTANCE.id,
) -> dict[str, str]:
    """The tags tagwarden writes on a quarantined resource, sealed for `rid` with KEY."""
    m = Marker(state, deadline, "missing CostCenter Outcome-ID", "state=running", "agents-aws")
    return {
        **marker_tags(m, Provider.AWS, KEYS, KEY, rid),
        "Agent-ID": "42",
        "tagwarden:creator": "arn:aws:sts::123456789012:assumed-role/agent-fleet-adhoc/agent-13",
        **(extra or {}),
    }


def rules(delete_dry_run: bool = False, cap: int = 10) -> RuleSet:
    text = (
        EXAMPLE_RULES.read_text()
        + f"lifecycle:\n  delete_dry_run: {str(delete_dry_run).lower()}\n  max_deletions_per_sweep: {cap}\n"
    )
    return load_rules_text(text, env={"TAGWARDEN_MARKER_KEY": KEY})


def test_marker_round_trip_and_limits() -> None:
    tags = marked(NOW)
    assert tags["tagwarden:quarantine"] == "quarantined"
    assert tags["tagwarden:deadline"] == "2026-11-29T12:00:00Z"
    assert tags["tagwarden:undo"] == "state=running"
    m = read_marker(tags, KEYS)
    assert m is not None and m.deadline == NOW and m.rule == "agents-aws" and m.undo == "state=running"
    assert read_marker({"tagwarden:quarantine": "quarantined", "tagwarden:deadline": "soon"}, KEYS) is None
    assert read_marker({}, KEYS) is None


def test_fixed_tags_release() -> None:
    tags = marked(NOW + timedelta(hours=1), {"CostCenter": "101", "Outcome-ID": "OUT-1234"})
    j = judge(Found(INSTANCE, tags, Provider.AWS), rules(), NOW)
    assert j is not None and j.verdict is Verdict.RELEASE


def test_within_grace_is_left_and_past_deadline_deleted() -> None:
    found = Found(INSTANCE, marked(NOW + timedelta(minutes=5)), Provider.AWS)
    j = judge(found, rules(), NOW)
    assert j is not None and j.verdict is Verdict.LEAVE and "grace" in j.reason
    j = judge(found, rules(), NOW + timedelta(minutes=6))
    assert j is not None and j.verdict is Verdict.DELETE and not j.dry_run
    assert set(j.problems) == {"CostCenter missing", "Outcome-ID missing"}


def test_delete_dry_run_is_the_default() -> None:
    j = judge(
        Found(INSTANCE, marked(NOW - timedelta(seconds=1)), Provider.AWS),
        load_rules_text(EXAMPLE_RULES.read_text(), env={"TAGWARDEN_MARKER_KEY": KEY}),
        NOW,
    )
    assert j is not None and j.verdict is Verdict.DELETE and j.dry_run


def test_unallocated_marker_and_invalid_values_are_not_fixes() -> None:
    bad = marked(NOW - timedelta(seconds=1), {"CostCenter": "unallocated", "Outcome-ID": "nope"})
    assert unsettled(rules(), "agents-aws", bad, Provider.AWS) == [
        "CostCenter missing",
        "Outcome-ID invalid: 'nope' does not match '^OUT-[0-9]{3,8}$'",
    ]


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ({"tagwarden:protect": "yes"}, "protected"),
        ({"tagwarden:exempt": "true"}, "exemption tag"),
    ],
)
def test_protected_and_exempt_are_never_deleted(extra: dict[str, str], why: str) -> None:
    j = judge(Found(INSTANCE, marked(NOW - timedelta(days=1), extra), Provider.AWS), rules(), NOW)
    assert j is not None and j.verdict is Verdict.LEAVE and why in j.reason


def test_exempt_creator_never_deleted() -> None:
    tags = marked(
        NOW - timedelta(days=1),
        {"tagwarden:creator": "arn:aws:sts::123456789012:assumed-role/BreakGlassAdmin/x"},
    )
    j = judge(Found(INSTANCE, tags, Provider.AWS), rules(), NOW)
    assert j is not None and j.verdict is Verdict.LEAVE and "exempt principal" in j.reason


def test_deletion_cap_keeps_the_most_overdue() -> None:
    found = [
        Found(
            Resource(id=f"arn:aws:ec2:us-east-1:1:instance/i-{n}", type="AWS::EC2::Instance"),
            marked(NOW - timedelta(hours=n), rid=f"arn:aws:ec2:us-east-1:1:instance/i-{n}"),
            Provider.AWS,
        )
        for n in range(1, 6)
    ]
    verdicts = {j.found.resource.id[-3:]: j.verdict for j in sweep(found, rules(cap=2), NOW)}
    assert [k for k, v in verdicts.items() if v is Verdict.DELETE] == ["i-4", "i-5"]
    capped = [j for j in sweep(found, rules(cap=2), NOW) if j.verdict is Verdict.LEAVE]
    assert all("deletion cap of 2" in j.reason for j in capped)


def test_unmarked_resources_are_never_judged() -> None:
    assert judge(Found(INSTANCE, {"CostCenter": "101"}, Provider.AWS), rules(), NOW) is None
    assert sweep([Found(INSTANCE, {}, Provider.AWS)], rules(), NOW) == []


def test_deadline_format_is_accepted_by_both_clouds() -> None:
    from tagwarden.attribution.limits import LIMITS

    for provider in Provider:
        for key, value in marker_tags(
            Marker(State.DELETE_PENDING, NOW, "missing A B", "", "r"), provider, KEYS
        ).items():
            assert LIMITS[provider].key_problem(key) is None
            assert LIMITS[provider].value_problem(value) is None, (key, value)
    assert iso(NOW) == "2026-11-29T12:00:00Z"


def test_forged_or_unsealed_markers_never_lead_to_a_deletion() -> None:
    """Anyone may tag a resource: a hand-written marker (or one sealed for another resource, or
    with a moved deadline) is left alone, and its undo token is not acted on."""
    overdue = NOW - timedelta(days=1)
    forged = marked(overdue, {"tagwarden:seal": "AAAA"})
    j = judge(Found(INSTANCE, forged, Provider.AWS), rules(), NOW)
    assert j is not None and j.verdict is Verdict.LEAVE and "seal does not verify" in j.reason
    other = marked(overdue, rid="arn:aws:ec2:us-east-1:123456789012:instance/i-other")
    j = judge(Found(INSTANCE, other, Provider.AWS), rules(), NOW)
    assert j is not None and j.verdict is Verdict.LEAVE
    moved = {**marked(NOW + timedelta(days=1)), "tagwarden:deadline": iso(overdue)}
    j = judge(Found(INSTANCE, moved, Provider.AWS), rules(), NOW)
    assert j is not None and j.verdict is Verdict.LEAVE
    keyless = load_rules_text(EXAMPLE_RULES.read_text(), env={})
    j = judge(Found(INSTANCE, marked(overdue), Provider.AWS), keyless, NOW)
    assert j is not None and j.verdict is Verdict.LEAVE and "no marker key configured" in j.reason


def test_exempt_role_named_by_its_role_arn_is_never_deleted() -> None:
    """The example exempts `arn:aws:iam::*:role/BreakGlass*`; the creator stamp is the session ARN."""
    text = EXAMPLE_RULES.read_text().replace('    - "arn:aws:sts::*:assumed-role/BreakGlass*"\n', "")
    keyed = load_rules_text(text + "lifecycle:\n  delete_dry_run: false\n", env={"TAGWARDEN_MARKER_KEY": KEY})
    tags = marked(
        NOW - timedelta(days=1),
        {"tagwarden:creator": "arn:aws:sts::123456789012:assumed-role/BreakGlassOps/x"},
    )
    j = judge(Found(INSTANCE, tags, Provider.AWS), keyed, NOW)
    assert j is not None and j.verdict is Verdict.LEAVE and "exempt principal" in j.reason
