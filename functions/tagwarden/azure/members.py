"""Which subscriptions one function app may act in: the listed ones and, with a management group,
every subscription under it (new ones included, without a redeploy).

TAGWARDEN_SUBSCRIPTIONS lists subscriptions (main.bicep: the app's own and memberSubscriptionIds);
TAGWARDEN_MANAGEMENT_GROUP names a management group (main.bicep `managementGroupId`, the group the
join policy is assigned to): a subscription is a member when ARM lists it among the group's
descendants. Both may be set (a union). Neither: no gate, the app acts where its events come from
(one subscription, the default).

The group's answer is one ARM call for the whole group, cached per worker for `ttl` (15 minutes):
a subscription that left is refused within that time. A subscription the cached answer does not
hold asks ARM again at once (a subscription that just joined does not wait for the TTL), but at
most once per TTL per subscription, so a stream of foreign events costs one call per subscription
per TTL, not one per event.

Fail safe: when ARM cannot answer (or has not answered within `ttl`), a subscription not listed
is neither allowed nor refused: `MembershipUnknown` is raised, the enforcer fails the delivery and
Event Grid retries it (then dead-letters it), rather than skipping an event a new member may need
or acting where membership is not proven. Failed calls are not repeated for `backoff` seconds (the
events meanwhile fail fast, for a later retry).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from tagwarden.settings import csv

SUBSCRIPTIONS_ENV = "TAGWARDEN_SUBSCRIPTIONS"  # comma list (main.bicep); the sweeper covers them too
MANAGEMENT_GROUP_ENV = "TAGWARDEN_MANAGEMENT_GROUP"  # main.bicep managementGroupId
MEMBERSHIP_SECONDS = 900.0  # as the AWS Organization gate: subscriptions leave groups too
FAILURE_BACKOFF = 30.0  # after ARM failed to answer, no new call for this long


class MembershipUnknown(RuntimeError):
    """ARM could not say whether a subscription is under the management group: the event is left
    for a retry, never decided on a guess."""


class SubscriptionGate:
    """`allows(subscription)`: listed, or under the management group by ARM's answer (cached)."""

    def __init__(
        self,
        listed: frozenset[str],
        group: str | None,
        fetch: Callable[[str], frozenset[str]],  # ArmClient.group_subscriptions
        ttl: float = MEMBERSHIP_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        backoff: float = FAILURE_BACKOFF,
    ) -> None:
        self.listed = frozenset(s.lower() for s in listed)
        self.group = group
        self.fetch = fetch
        self.ttl = ttl
        self.clock = clock
        self.backoff = backoff
        self.calls = 0  # ARM calls made (for logs and tests)
        self._members: frozenset[str] = frozenset()
        self._at: float | None = None  # when the cached answer was fetched
        self._failed_at: float | None = None
        self._asked: dict[str, float] = {}  # subscription -> when a miss last asked ARM again
        self._lock = threading.Lock()

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], fetch: Callable[[str], frozenset[str]]
    ) -> SubscriptionGate | None:
        listed = frozenset(csv(env.get(SUBSCRIPTIONS_ENV)))
        group = (env.get(MANAGEMENT_GROUP_ENV) or "").strip() or None
        if not listed and not group:
            return None
        return cls(listed, group, fetch)

    def allows(self, subscription: str) -> bool:
        sub = subscription.lower()
        if sub in self.listed:
            return True
        if not self.group or not sub:
            return False
        with self._lock:  # one ARM call at a time per worker; the others wait for its answer
            now = self.clock()
            fresh = self._at is not None and now - self._at < self.ttl
            if fresh and sub in self._members:
                return True
            if fresh:
                asked = self._asked.get(sub)
                if asked is not None and now - asked < self.ttl:
                    return False  # asked again for it within the TTL already: still not a member
            self._refresh(now, sub)
            if fresh:
                self._asked[sub] = now
            return sub in self._members

    def _refresh(self, now: float, sub: str) -> None:
        if self._failed_at is not None and now - self._failed_at < self.backoff:
            raise MembershipUnknown(
                f"cannot tell whether subscription {sub} is under management group {self.group}: "
                "ARM failed to answer moments ago (left for a retry)"
            )
        self.calls += 1
        try:
            members = self.fetch(str(self.group))
        except Exception as exc:
            self._failed_at = now
            raise MembershipUnknown(
                f"cannot tell whether subscription {sub} is under management group {self.group}: "
                f"{type(exc).__name__}: {exc} (left for a retry)"
            ) from exc
        self._members, self._at, self._failed_at = members, now, None
        self._asked = {s: t for s, t in self._asked.items() if now - t < self.ttl}
