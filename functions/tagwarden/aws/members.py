"""Organization mode: one enforcer in a hub account acting in every member account.

Events forwarded to the hub's bus are grouped by the account they happened in; each group goes to
the hub's enforcer re-wired with that account's clients (tag writes, principal-tag lookups, current
tags and quarantines all in the event's account, through the member role). An account that is
neither the hub's nor an allowed member is never assumed into: its events are skipped with a
reason by the gate reader (logged and counted as `foreign-account`).

Off unless TAGWARDEN_MEMBER_ACCOUNTS or TAGWARDEN_ORG_ID is set: a single-account deployment
builds none of this.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tagwarden.aws.clients import SESSION_SECONDS, AccountClients, Clients
from tagwarden.normalize import Reader, gated
from tagwarden.settings import csv

MEMBER_ROLE = "tagwarden-member"  # the enforcer's: tag, quarantine, look up
MEMBER_SWEEPER_ROLE = "tagwarden-member-sweeper"  # the sweeper's: read tags, release, delete, untag
MEMBERSHIP_SECONDS = 900.0  # an Organization's answer is asked again after this (accounts leave)


@dataclass(frozen=True)
class OrgSettings:
    members: frozenset[str]  # account ids allowed besides the local one
    org_id: str | None  # o-...: any account of this Organization is allowed
    role_name: str = MEMBER_ROLE
    external_id: str | None = None
    seconds: int = SESSION_SECONDS
    sweeper_role_name: str = MEMBER_SWEEPER_ROLE

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> OrgSettings | None:
        members = frozenset(csv(env.get("TAGWARDEN_MEMBER_ACCOUNTS")))
        org_id = env.get("TAGWARDEN_ORG_ID") or None
        if not members and not org_id:
            return None
        return cls(
            members=members,
            org_id=org_id,
            role_name=env.get("TAGWARDEN_MEMBER_ROLE") or MEMBER_ROLE,
            external_id=env.get("TAGWARDEN_MEMBER_EXTERNAL_ID") or None,
            sweeper_role_name=env.get("TAGWARDEN_MEMBER_SWEEPER_ROLE") or MEMBER_SWEEPER_ROLE,
        )

    def own_arns(self) -> tuple[str, ...]:
        """Our sessions in member accounts: what the enforcer and the sweeper do through the member
        roles comes back in CloudTrail as these assumed-role sessions (never acted on)."""
        return tuple(
            arn
            for role in dict.fromkeys((self.role_name, self.sweeper_role_name))
            for arn in (f"arn:aws:iam::*:role/{role}", f"arn:aws:sts::*:assumed-role/{role}/*")
        )


class AccountGate:
    """Which accounts the enforcer may act in: the local one, the listed members, and (with an
    org id) accounts that Organizations says belong to that Organization (asked once per account
    and again after `ttl` seconds: an account that left is refused within that time)."""

    def __init__(
        self,
        settings: OrgSettings,
        clients: AccountClients,
        ttl: float = MEMBERSHIP_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.clients = clients
        self.ttl = ttl
        self.clock = clock
        self._org: dict[str, tuple[bool, float]] = {}

    def allows(self, account: str) -> bool:
        if account == self.clients.local_account or account in self.settings.members:
            return True
        if not self.settings.org_id:
            return False
        known = self._org.get(account)
        if known is None or self.clock() - known[1] >= self.ttl:
            known = self._org[account] = (self._in_org(account), self.clock())
        return known[0]

    def _in_org(self, account: str) -> bool:
        from botocore.exceptions import ClientError

        org = self.clients.local.get("organizations")
        try:
            arn = str(org.describe_account(AccountId=account)["Account"]["Arn"])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "AccountNotFoundException":
                return False
            raise  # cannot tell: the event is retried rather than decided on a guess
        # arn:aws:organizations::<management>:account/<org id>/<account id>
        return arn.rsplit(":", maxsplit=1)[-1].split("/")[1:2] == [self.settings.org_id]

    def reader(self, inner: Reader) -> Reader:
        """`inner`, with creates in accounts the gate refuses turned into skips."""
        return gated(inner, self.allows)


def event_account(item: Any) -> str | None:
    """The account an event happened in: the CloudTrail record's recipient, else the envelope's."""
    if not isinstance(item, Mapping):
        return None
    detail = item.get("detail")
    found = (detail.get("recipientAccountId") if isinstance(detail, Mapping) else None) or item.get(
        "recipientAccountId"
    )
    found = found or item.get("account")
    return str(found) if found else None


def _items(raw: Any) -> Iterator[Any]:
    """The events of a delivery, unwrapped as the core's `route` does (arrays and log files)."""
    if isinstance(raw, list):
        for item in raw:
            yield from _items(item)
        return
    records = raw.get("Records", raw.get("records")) if isinstance(raw, dict) else None
    if isinstance(records, list) and "eventSource" not in raw:
        yield from _items(records)
        return
    yield raw


def by_account(raw: Any) -> list[tuple[str | None, Any]]:
    """The delivery as it came when all its events are in one account, else one list per account
    (in order of first appearance)."""
    groups: dict[str | None, list[Any]] = {}
    for item in _items(raw):
        groups.setdefault(event_account(item), []).append(item)
    if len(groups) <= 1:
        return [(next(iter(groups), None), raw)]
    return list(groups.items())


Handler = Callable[[Any], dict[str, Any]]


@dataclass
class Members:
    """Routes each account's events to the enforcer wired for that account (built once, cached)."""

    gate: AccountGate
    clients: AccountClients
    rewire: Callable[[Clients], Handler]  # the hub's enforcer with a member's clients
    _handlers: dict[str, Handler] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, raw: Any, local: Handler) -> dict[str, Any]:
        events: list[dict[str, Any]] = []
        for account, delivery in by_account(raw):
            events.extend(self._handler(account, local)(delivery)["events"])
        return {"events": events}

    def _handler(self, account: str | None, local: Handler) -> Handler:
        # Refused and unknown accounts stay with the local enforcer, whose gate reader skips them:
        # nothing is ever assumed into an account the gate refuses.
        if account is None or account == self.clients.local_account or not self.gate.allows(account):
            return local
        with self._lock:
            handler = self._handlers.get(account)
            if handler is None:
                handler = self._handlers[account] = self.rewire(self.clients.get(account))
        return handler
