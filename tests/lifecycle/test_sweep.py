"""The sweeper's judgement over ledger records, and the attacks of issue 10 on the pure core.

Each attack ends safe: tags (copied, replayed, forged, pre-set) authorise nothing; the record's
deadline, the current rules and the current protection decide.
"""

from __future__ import annotations

import pytest
from msgspec.structs import replace

from tagwarden.ledger.model import LifecycleState, ResourceRecord
from tagwarden.ledger.sqlite import SqliteLedger
from tagwarden.ledger.state import IllegalTransition, advance
from tagwarden.lifecycle.sweep import Found, Verdict, judge, sweep
from tagwarden.model import Resource
from tagwarden.rules import load_rules_text
from tagwarden.rules.model import RuleSet

from conftest import EXAMPLE_RULES

HOUR = 3600.0
T0 = 1_800_000_000.0
ARN = "arn:aws:lambda:us-east-1:123456789012:function:Reports"
FN = Resource(id=ARN, type="AWS::Lambda::Function", name="Reports")
AGENT = {
    "kind": "assumed-role",
    "arn": "arn:aws:sts::123456789012:assumed-role/agent-fleet-adhoc/agent-13",
    "role_name": "agent-fleet-adhoc",
    "role_arn": "arn:aws:iam::123456789012:role/agent-fleet-adhoc",
    "session_name": "agent-13",
}
FIXED = {"Agent-ID": "13", "CostCenter": "101", "Outcome-ID": "OUT-1234"}


def rules(extra: str = "lifecycle:\n  delete_dry_run: false\n", text: str | None = None) -> RuleSet:
    return load_rules_text((text or EXAMPLE_RULES.read_text()) + extra)


def quarantined(**kw: object) -> ResourceRecord:
    base = ResourceRecord(
        provider="aws", resource_id=ARN, account="123456789012", region="us-east-1",
        type=FN.type, name="Reports", event_id="e-1", event_name="CreateFunction20150331",
        event_time="2027-01-15T08:00:00Z", event_source="lambda.amazonaws.com", actor=AGENT,
        rule="agents-aws", action="quarantine", state=LifecycleState.QUARANTINED,
        deadline=T0 + 4 * HOUR, undo="concurrency=none", recorded_at=T0, quarantined_at=T0,
    )  # fmt: skip
    return replace(base, **kw)  # type: ignore[arg-type]


def verdict(record: ResourceRecord, tags: dict[str, str] | None, r: RuleSet, now: float) -> Verdict:
    return judge(Found(record, FN, tags), r, now).verdict


def test_within_grace_left_past_deadline_deleted_fixed_released() -> None:
    r = rules()
    assert verdict(quarantined(), {}, r, T0 + HOUR) is Verdict.LEAVE
    assert verdict(quarantined(), {}, r, T0 + 5 * HOUR) is Verdict.DELETE
    assert verdict(quarantined(), FIXED, r, T0 + 5 * HOUR) is Verdict.RELEASE
    assert verdict(quarantined(), None, r, T0 + 5 * HOUR) is Verdict.GONE


def test_delete_dry_run_is_the_default() -> None:
    j = judge(Found(quarantined(), FN, {}), rules(""), T0 + 5 * HOUR)
    assert (j.verdict, j.dry_run) == (Verdict.DELETE, True)


def test_deletion_cap_keeps_the_most_overdue() -> None:
    r = rules("lifecycle:\n  delete_dry_run: false\n  max_deletions_per_sweep: 1\n")
    late = Found(quarantined(deadline=T0 + 2 * HOUR), FN, {})
    later = Found(quarantined(deadline=T0 + 3 * HOUR), FN, {})
    got = [j.verdict for j in sweep([later, late], r, T0 + 5 * HOUR)]
    assert got == [Verdict.LEAVE, Verdict.DELETE]


# --- the attacks --------------------------------------------------------------------------------


def test_a_marker_copied_or_replayed_or_forged_is_never_judged() -> None:
    """The work list is the ledger's: a resource carrying any marker tags (copied from another
    resource, re-applied after release, sealed with a leaked key) is not in it, whatever its tags."""
    ledger = SqliteLedger()
    ledger.create(quarantined())
    other = ARN.replace("Reports", "reports")  # a name differing only in case: another function
    assert ledger.get("aws", other) is None
    live = list(ledger.in_state(LifecycleState.QUARANTINED))
    assert [x.resource_id for x in live] == [ARN]


def test_a_released_record_cannot_be_replayed_into_a_deletion() -> None:
    ledger = SqliteLedger()
    ledger.create(quarantined())
    read = ledger.get("aws", ARN)
    assert read is not None
    released = advance(read, LifecycleState.RELEASED, released_at=T0 + HOUR)
    ledger.update(released)
    with pytest.raises(IllegalTransition):
        advance(released, LifecycleState.QUARANTINED)
    assert list(ledger.in_state(LifecycleState.QUARANTINED)) == []  # never swept again


@pytest.mark.parametrize(
    "change",
    [
        ("    on_missing: quarantine\n    grace: 4h\n", "    on_missing: notify\n"),
        ('      role_name: "agent-*"\n', '      role_name: "nobody-*"\n'),
    ],
    ids=["rule-now-notify", "rule-removed"],
)
def test_rule_changed_to_notify_or_removed_releases_instead_of_deleting(change: tuple[str, str]) -> None:
    text = EXAMPLE_RULES.read_text().replace(*change)
    assert text != EXAMPLE_RULES.read_text()
    r = load_rules_text(text + "lifecycle:\n  delete_dry_run: false\n")
    j = judge(Found(quarantined(), FN, {}), r, T0 + 10 * HOUR)
    assert j.verdict is Verdict.RELEASE and "now say" in j.reason


def test_protected_or_exempt_now_is_never_deleted() -> None:
    r = rules()
    for tags in ({"tagwarden:protect": "oncall"}, {"tagwarden:exempt": "true"}):
        j = judge(Found(quarantined(), FN, tags), r, T0 + 10 * HOUR)
        assert (j.verdict, j.exempt) == (Verdict.LEAVE, True)
    break_glass = {**AGENT, "arn": "arn:aws:sts::123456789012:assumed-role/BreakGlass/x"}
    break_glass |= {"role_arn": "arn:aws:iam::123456789012:role/BreakGlass", "role_name": "BreakGlass"}
    j = judge(Found(quarantined(actor=break_glass), FN, {}), r, T0 + 10 * HOUR)
    assert j.verdict is not Verdict.DELETE


def test_a_protect_tag_pre_set_in_the_create_request_does_not_count() -> None:
    r = rules()
    record = quarantined(ignored={"tagwarden:protect": "x"})
    assert verdict(record, {"tagwarden:protect": "x"}, r, T0 + 10 * HOUR) is Verdict.DELETE
    # set later to another value (by an operator): it counts
    assert verdict(record, {"tagwarden:protect": "ops"}, r, T0 + 10 * HOUR) is Verdict.LEAVE


def test_a_creator_tag_names_nobody_the_ledger_names_the_creator() -> None:
    r = rules()
    forged = {"tagwarden:creator": "arn:aws:sts::123456789012:assumed-role/BreakGlass/x"}
    assert verdict(quarantined(), forged, r, T0 + 10 * HOUR) is Verdict.DELETE


def test_a_deadline_tag_is_a_display_only() -> None:
    r = rules()
    early = {"tagwarden:deadline": "2000-01-01T00:00:00Z", "tagwarden:quarantine": "quarantined"}
    assert verdict(quarantined(), early, r, T0 + HOUR) is Verdict.LEAVE
