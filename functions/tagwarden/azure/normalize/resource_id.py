"""ARM resource ids: `/subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}/{name}/...`.

Nested types (`Microsoft.Sql/servers/databases`) and extension resources (a second `providers`
segment, e.g. a role assignment on a VM) are handled; the type is that of the last provider.
ARM compares ids case-insensitively, so the keywords are matched that way too.
"""

from __future__ import annotations

from msgspec import Struct


class ResourceId(Struct, frozen=True):
    id: str
    subscription: str | None
    resource_group: str | None
    namespace: str | None  # Microsoft.Compute
    type: str  # Microsoft.Compute/virtualMachines, Microsoft.Sql/servers/databases
    name: str  # the last name segment
    full_name: str  # server/db for nested types

    @property
    def parent(self) -> str | None:
        """Id of the parent resource for a nested type."""
        if "/" not in self.full_name or self.namespace is None:
            return None
        return self.id.rsplit("/", 2)[0]


def parse_resource_id(rid: str) -> ResourceId:
    """Raises ValueError when the id is not an ARM resource id."""
    parts = [p for p in rid.strip().split("/") if p]
    if len(parts) < 2 or parts[0].lower() != "subscriptions":
        raise ValueError(f"not an ARM resource id (expected /subscriptions/...): {rid!r}")
    sub = parts[1]
    rest = parts[2:]
    rg = None
    if len(rest) >= 2 and rest[0].lower() == "resourcegroups":
        rg = rest[1]
        rest = rest[2:]
    # The last `providers` segment decides the type (extension resources nest one inside another).
    idx = max((i for i, p in enumerate(rest) if p.lower() == "providers"), default=None)
    if idx is None:
        if rest:
            raise ValueError(f"ARM id has segments after the scope but no 'providers': {rid!r}")
        if rg is not None:
            return ResourceId(
                rid, sub, rg, "Microsoft.Resources", "Microsoft.Resources/resourceGroups", rg, rg
            )
        return ResourceId(
            rid, sub, None, "Microsoft.Resources", "Microsoft.Resources/subscriptions", sub, sub
        )
    tail = rest[idx + 1 :]
    if len(tail) < 3 or len(tail) % 2 == 0:
        raise ValueError(f"ARM id has an incomplete type/name after 'providers': {rid!r}")
    namespace = tail[0]
    types = tail[1::2]
    names = tail[2::2]
    return ResourceId(
        id=rid,
        subscription=sub,
        resource_group=rg,
        namespace=namespace,
        type="/".join([namespace, *types]),
        name=names[-1],
        full_name="/".join(names),
    )
