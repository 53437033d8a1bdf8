"""Our own calls are never acted on: the loop guard at the core, shared by both clouds.

A tag write by tagwarden is not a create, so it is skipped anyway; this guard also covers
anything else the enforcer's identity does (e.g. a quarantine that creates an isolation group).
"""

from __future__ import annotations

import fnmatch

from msgspec import Struct

from tagwarden.model import Actor, CreationEvent


class OwnIdentity(Struct, frozen=True):
    """Identifiers of the enforcer itself: role ARNs (globs allowed), Azure app/object ids."""

    arns: tuple[str, ...] = ()
    ids: frozenset[str] = frozenset()

    def is_own(self, event: CreationEvent) -> bool:
        return self.is_own_actor(event.actor)

    def is_own_actor(self, actor: Actor) -> bool:
        for value in (actor.arn, actor.role_arn):
            if value and any(fnmatch.fnmatchcase(value, pattern) for pattern in self.arns):
                return True
        return bool(self.ids) and any(
            v in self.ids for v in (actor.app_id, actor.object_id, actor.principal_id) if v
        )
