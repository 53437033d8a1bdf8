"""The state machine's renewal: when an event for a known id starts a new lifecycle, and when a
delete closes a record. Every state, replays, equal and older times, unreadable times."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from msgspec.structs import replace

from tagwarden.ledger.model import LIVE_STATES, LifecycleState, ResourceRecord
from tagwarden.ledger.state import (
    NEXT,
    RENEWABLE,
    RETRY_WINDOW,
    IllegalTransition,
    advance,
    close,
    later,
    renew,
    renews,
    retried,
)

S = LifecycleState
OLD_TIME = "2026-12-01T10:00:00Z"


def old(state: LifecycleState, **kw: object) -> ResourceRecord:
    base = ResourceRecord(
        provider="aws",
        resource_id="arn:aws:lambda:us-east-1:111122223333:function:scraper",
        account="111122223333",
        region="us-east-1",
        type="AWS::Lambda::Function",
        name="scraper",
        event_id="e-1",
        event_name="CreateFunction20150331",
        event_time=OLD_TIME,
        state=state,
        deadline=5000.0,
        undo="concurrency=0",
        version=7,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def draft(event_id: str = "e-2", event_time: str = "2026-12-01T10:00:01Z") -> ResourceRecord:
    return replace(
        old(S.QUARANTINE_INTENT), event_id=event_id, event_time=event_time, deadline=9000.0,
        undo="concurrency=5", version=1,
    )  # fmt: skip


NOT_FREED = [s for s in S if s not in RENEWABLE]


@pytest.mark.parametrize("state", list(S))
def test_a_later_create_that_only_creates_renews_from_every_state(state: LifecycleState) -> None:
    fresh = renew(old(state), draft(), creates_only=True)
    # nothing of the old lifecycle carries over: the new event, deadline and undo token
    assert (fresh.event_id, fresh.deadline, fresh.undo) == ("e-2", 9000.0, "concurrency=5")
    assert fresh.state is S.QUARANTINE_INTENT and fresh.version == 8  # the store's next version


@pytest.mark.parametrize("state", NOT_FREED)
def test_an_upsert_or_update_never_restarts_a_record_whose_id_was_not_freed(state: LifecycleState) -> None:
    assert not renews(old(state), draft(), creates_only=False)
    with pytest.raises(IllegalTransition, match="an update or upsert"):
        renew(old(state), draft(), creates_only=False)


@pytest.mark.parametrize("state", sorted(RENEWABLE))
def test_any_later_event_restarts_a_freed_id(state: LifecycleState) -> None:
    assert renews(old(state), draft(), creates_only=False)  # an Azure write after a delete


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("creates_only", [True, False])
def test_the_same_event_never_restarts_anything(state: LifecycleState, creates_only: bool) -> None:
    """A redelivery, a retry or an archive replay of the record's own event, even stamped later."""
    assert not renews(old(state), draft("e-1", "2026-12-02T00:00:00Z"), creates_only)


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize(
    "when", [OLD_TIME, "2026-12-01T10:00:00.000Z", "2026-12-01T11:00:00+01:00", "2026-12-01T09:59:59Z"]
)
def test_an_event_of_the_same_instant_or_older_never_renews(state: LifecycleState, when: str) -> None:
    """Equal times (in any notation) and older ones: a replayed or late old event, never a renewal."""
    assert not renews(old(state), draft(event_time=when), creates_only=True)
    with pytest.raises(IllegalTransition):
        renew(old(state), draft(event_time=when), creates_only=True)


@pytest.mark.parametrize("when", ["", "yesterday", "2026-13-01T00:00:00Z"])
def test_an_unreadable_time_never_renews(when: str) -> None:
    assert not renews(old(S.RELEASED), draft(event_time=when), creates_only=True)
    assert not renews(old(S.GONE), draft(event_time=when), creates_only=False)
    assert not renews(old(S.GONE, event_time=when), draft(), creates_only=False)


def test_times_compare_as_the_cloud_stamped_them() -> None:
    # ARM stamps 100 ns ticks: a microsecond later is later; CloudTrail seconds; offsets count
    assert later("2026-11-29T10:00:00.0000010Z", "2026-11-29T10:00:00.0000000Z")
    assert not later("2026-11-29T10:00:00.0000001Z", "2026-11-29T10:00:00.0000000Z")  # below µs: equal
    assert later("2026-12-01T10:00:01Z", "2026-12-01T10:00:00.999999Z")
    assert not later("2026-12-01T11:00:00+01:00", OLD_TIME)
    assert later("2026-12-01T10:00:01", OLD_TIME)  # no zone: UTC, as the clouds mean it


@pytest.mark.parametrize("state", [s for s in S if s is not S.GONE])
def test_a_delete_closes_every_state_but_gone(state: LifecycleState) -> None:
    closed = close(old(state), "2026-12-01T12:00:00Z", gone_at=1.0, detail="deleted")
    assert closed is not None and closed.state is S.GONE and closed.version == 8
    assert S.GONE in NEXT[state]


def test_a_delete_closes_nothing_twice_nor_a_later_resource_of_that_id() -> None:
    assert close(old(S.GONE), "2026-12-01T12:00:00Z") is None  # redelivered
    # the delete of an earlier resource of that id, delivered after the creation that renewed it
    assert close(old(S.QUARANTINED), "2026-12-01T09:00:00Z") is None
    # same second (CloudTrail) or not orderable: closed, gone only ever stops tagwarden
    assert close(old(S.QUARANTINED), OLD_TIME) is not None
    assert close(old(S.QUARANTINED), "") is not None


def test_released_stays_terminal_but_for_gone() -> None:
    for to in S:
        if to in (S.RELEASED, S.GONE):
            continue
        with pytest.raises(IllegalTransition):
            advance(old(S.RELEASED), to)
    assert advance(old(S.RELEASED), S.GONE).state is S.GONE
    assert not NEXT[S.GONE]
    assert not (RENEWABLE & LIVE_STATES)


# --- idempotency tokens: a retry of the record's create is not a re-creation ----------------------

ORIGINAL = "0b5e7c2a-original"


@pytest.mark.parametrize("state", NOT_FREED)
def test_a_create_with_the_records_token_is_a_retry_and_renews_nothing(state: LifecycleState) -> None:
    """The SDK resent the create that opened the record (a new event, stamped later, the same
    token): the service answered with that first resource, which keeps its lifecycle."""
    record = old(state, idempotency_token=ORIGINAL)
    retry = replace(draft(), idempotency_token=ORIGINAL)
    assert retried(record, retry)
    assert not renews(record, retry, creates_only=True)
    with pytest.raises(IllegalTransition, match="a retry"):
        renew(record, retry, creates_only=True)


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize(("recorded", "sent"), [(ORIGINAL, "7d1c-new"), (ORIGINAL, None), (None, "7d1c-new")])
def test_a_create_with_another_token_or_none_renews_from_every_state(
    state: LifecycleState, recorded: str | None, sent: str | None
) -> None:
    """A new request: an agent re-creating the id with a token of its own (or the SDK's new one),
    without one, or over a record older than the field (no token recorded)."""
    record = old(state, idempotency_token=recorded)
    fresh = renew(record, replace(draft(), idempotency_token=sent), creates_only=True)
    assert fresh.idempotency_token == sent  # the new record keeps the token of its own create
    assert (fresh.event_id, fresh.undo, fresh.version) == ("e-2", "concurrency=5", 8)


@pytest.mark.parametrize("state", sorted(RENEWABLE))
def test_a_freed_id_renews_whatever_the_token(state: LifecycleState) -> None:
    """Deleted or gone: the resource the token named no longer exists, any later event is new."""
    record = old(state, idempotency_token=ORIGINAL)
    assert renews(record, replace(draft(), idempotency_token=ORIGINAL), creates_only=True)
    assert renews(record, replace(draft(), idempotency_token=ORIGINAL), creates_only=False)


@pytest.mark.parametrize("state", NOT_FREED)
@pytest.mark.parametrize(
    ("when", "retry"),
    [
        ("2026-12-01T10:59:59Z", True),
        ("2026-12-01T11:00:00+00:00", True),  # RETRY_WINDOW, to the second: still the first call's
        ("2026-12-01T11:00:01Z", False),
        ("2026-12-03T10:00:00Z", False),  # days later: the service may have forgotten the token
        ("not a time", False),
    ],
)
def test_the_records_token_is_a_retry_only_within_the_window(
    state: LifecycleState, when: str, retry: bool
) -> None:
    """Past RETRY_WINDOW the service may have forgotten the token and made a new resource under
    the name (its delete never reached us): the copied token no longer keeps the old record."""
    assert timedelta(hours=1) == RETRY_WINDOW  # the times below are written for it
    record = old(state, idempotency_token=ORIGINAL)
    again = replace(draft(event_time=when), idempotency_token=ORIGINAL)
    assert retried(record, again) is retry
    assert renews(record, again, creates_only=True) is (not retry and when != "not a time")


def test_two_creates_without_a_token_are_never_a_retry() -> None:
    assert not retried(old(S.RELEASED), draft())
    assert renews(old(S.RELEASED), draft(), creates_only=True)


def test_a_token_never_makes_an_upsert_renew() -> None:
    record = old(S.RELEASED, idempotency_token=ORIGINAL)
    assert not renews(record, replace(draft(), idempotency_token="7d1c-new"), creates_only=False)


tokens = st.sampled_from([None, ORIGINAL, "7d1c-new"])
times = st.sampled_from(
    ["2026-12-01T09:00:00Z", OLD_TIME, "2026-12-01T10:00:01Z", "2026-12-01T11:00:00Z",
     "2026-12-01T11:00:01Z", "2026-12-02T00:00:00Z", ""]
)


@given(
    state=st.sampled_from(list(S)),
    recorded=tokens,
    sent=tokens,
    event_id=st.sampled_from(["e-1", "e-2"]),
    when=times,
    creates_only=st.booleans(),
)
def test_renewal_properties_over_tokens(
    state: LifecycleState,
    recorded: str | None,
    sent: str | None,
    event_id: str,
    when: str,
    creates_only: bool,
) -> None:
    record = old(state, idempotency_token=recorded)
    new = replace(draft(event_id, when), idempotency_token=sent)
    got = renews(record, new, creates_only)
    if event_id == "e-1" or not later(when, OLD_TIME):
        assert not got  # replays, redeliveries and older or same-instant events: never, any token
    elif state in RENEWABLE:
        assert got  # a freed id: any later event, any token
    elif sent is not None and sent == recorded and when <= "2026-12-01T11:00:00Z":
        assert not got  # a retry of the record's own create, within the hour
    else:
        assert got is creates_only  # a creation renews, an upsert never
    # a token only ever keeps a record: taking it away never stops a renewal
    assert got <= renews(record, replace(new, idempotency_token=None), creates_only)
