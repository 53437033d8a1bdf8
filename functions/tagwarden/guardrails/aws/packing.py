"""Fitting deny statements into as few policies as the size limits allow, and, when they do not
all fit, keeping the longest run of events (in catalogue order) whose statements do."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from tagwarden.guardrails.aws.deny import Statement, statements
from tagwarden.guardrails.aws.options import VERSION, AwsOptions
from tagwarden.guardrails.aws.preventable import EventCoverage
from tagwarden.guardrails.aws.scope import RuleScope
from tagwarden.guardrails.common import DoesNotFit
from tagwarden.guardrails.iamdb import IamDatabase
from tagwarden.rules.model import RuleSet

_PART = re.compile(r"P\d+$")  # statement ids end in Missing/Value[n]; parts add P<n>


def minified(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def _policy(stmts: Sequence[Statement]) -> dict[str, Any]:
    return {"Version": VERSION, "Statement": [s.json() for s in stmts]}


def _size(stmts: Sequence[Statement]) -> int:
    return len(minified(_policy(stmts)))


def pack(stmts: Sequence[Statement], limit: int, max_policies: int, what: str) -> list[dict[str, Any]]:
    """Put statements into as few policies of at most `limit` characters as it takes: whole ones
    first (largest first, first fit), then the long action lists, split to fill what room is left.
    Raises DoesNotFit past `max_policies`. Deterministic: the same statements give the same files."""
    bins: list[list[Statement]] = []
    whole = [st for st in stmts if len(st.actions) < 2 or _size([st]) <= limit // 4]
    for st in sorted(whole, key=lambda st: -_size([st])):
        _place_whole(st, bins, limit, what)
    for st in stmts:
        if st not in whole:
            _place_split(st, bins, limit, what)
    if len(bins) > max_policies:
        total = sum(_size(b) for b in bins)
        raise DoesNotFit(
            f"{what}: the statements need {len(bins)} policies of at most {limit:,} characters "
            f"({total:,} in all), more than the {max_policies} allowed"
        )
    rank = {st.sid: i for i, st in enumerate(stmts)}
    for b in bins:
        b.sort(key=lambda st: (rank.get(_PART.sub("", st.sid), rank.get(st.sid, 0)), st.sid))
    return [_policy(b) for b in bins]


def _place_whole(st: Statement, bins: list[list[Statement]], limit: int, what: str) -> None:
    """First fit, or a new policy."""
    if _size([st]) > limit:
        raise DoesNotFit(f"{what}: statement {st.sid} alone is {_size([st]):,} characters, over {limit:,}")
    target = next((b for b in bins if _size([*b, st]) <= limit), None)
    if target is None:
        bins.append(target := [])
    target.append(st)


def _place_split(st: Statement, bins: list[list[Statement]], limit: int, what: str) -> None:
    """A long statement: whole into the roomiest policy it fits, else split to fill the roomiest
    policy's room, and the rest placed the same way (new policies when none has room)."""
    rest, part = st, 0
    while True:
        roomiest = sorted(bins, key=_size)
        target = next((b for b in roomiest if _size([*b, rest]) <= limit), None)
        if target is not None:
            target.append(rest)
            return
        if not roomiest or len(rest.actions) < 2:
            bins.append([])
            roomiest = [bins[-1]]
        part += 1
        head, tail = _split_to_fit(rest, roomiest[0], limit, f"{st.sid}P{part}", f"{st.sid}P{part + 1}")
        if head is None:
            if roomiest[0]:
                bins.append([])
                part -= 1
                continue
            raise DoesNotFit(f"{what}: statement {st.sid} does not fit in {limit:,} characters")
        roomiest[0].append(head)
        rest = tail


def _split_to_fit(
    stmt: Statement, current: list[Statement], limit: int, head_sid: str, tail_sid: str
) -> tuple[Statement | None, Statement]:
    """The longest head of a statement's action list that still fits in `current`, and the rest."""
    lo, hi, best = 1, len(stmt.actions) - 1, 0
    while lo <= hi:
        mid = (lo + hi) // 2
        if _size([*current, replace(stmt, sid=head_sid, actions=stmt.actions[:mid])]) <= limit:
            best, lo = mid, mid + 1
        else:
            hi = mid - 1
    if best == 0:
        return None, stmt
    head = replace(stmt, sid=head_sid, actions=stmt.actions[:best])
    return head, replace(stmt, sid=tail_sid, actions=stmt.actions[best:])


# --- policies of one kind, with what did not fit -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fitted:
    """Policies of one kind, and the preventable events left out of them for lack of room."""

    policies: tuple[dict[str, Any], ...]
    left_out: tuple[EventCoverage, ...]
    limit: int
    max_policies: int

    def sizes(self) -> list[int]:
        return [len(minified(d)) for d in self.policies]


EventKey = tuple[str, str]  # (event source, event name)


def fit(
    scopes: Sequence[RuleScope],
    rules: RuleSet,
    options: AwsOptions,
    db: IamDatabase,
    limit: int,
    max_policies: int,
    what: str,
) -> Fitted:
    """Pack every scope's statements; when they do not fit, keep the longest run of preventable
    events, in catalogue order (compute first), whose statements fit, and list the rest."""
    order: list[EventKey] = []
    for sc in scopes:
        order += [(e.source, e.event) for e in sc.events if (e.source, e.event) not in order]

    def attempt(k: int) -> list[dict[str, Any]]:
        keep = set(order[:k])
        stmts = [
            st
            for sc in scopes
            for st in statements(
                replace(sc, events=tuple(e for e in sc.events if (e.source, e.event) in keep)),
                rules,
                options,
                db,
            )
        ]
        return pack(stmts, limit, max_policies, what)

    try:
        return Fitted(tuple(attempt(len(order))), (), limit, max_policies)
    except DoesNotFit:
        if options.strict:
            raise
    best = _longest_fitting(attempt, len(order))
    if best == 0:
        attempt(1)  # raises DoesNotFit with the reason: not even one event fits
    dropped = set(order[best:])
    left = {(e.source, e.event): e for sc in scopes for e in sc.events if (e.source, e.event) in dropped}
    return Fitted(tuple(attempt(best)), tuple(left[k] for k in order[best:]), limit, max_policies)


def _longest_fitting(attempt: Callable[[int], object], count: int) -> int:
    """The largest k < count for which attempt(k) does not raise DoesNotFit (0 if none)."""
    lo, hi, best = 0, count - 1, 0
    while lo <= hi:
        mid = (lo + hi) // 2
        try:
            attempt(mid)
        except DoesNotFit:
            hi = mid - 1
        else:
            best, lo = mid, mid + 1
    return best
