"""What each cloud accepts as a tag, checked before we ever call it.

AWS: https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html (key 1-128, value 0-256,
Unicode letters, digits, spaces and `_ . : / = + - @`, no `aws:` prefix, 50 user tags).
Azure: https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources (name up
to 512, 128 for storage accounts; value up to 256; names without `< > % & \\ ? /`; 50 tags).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from msgspec import Struct

from tagwarden.model import Provider


class TagLimits(Struct, frozen=True):
    max_tags: int
    key_max: int
    value_max: int
    key_chars: re.Pattern[str] | None  # the whole key must match, when set
    value_chars: re.Pattern[str] | None
    key_forbidden: re.Pattern[str] | None  # any match is an error
    reserved_prefixes: tuple[str, ...]
    # Types with a shorter key limit (lower-cased type -> limit).
    key_max_by_type: tuple[tuple[str, int], ...] = ()
    case_insensitive_keys: bool = False  # Azure: `costcenter` and `CostCenter` are one tag
    # Whether callers can carry tags at all. Entra ID principals are directory objects without
    # tags, so on Azure a `principal_tag` source is simply absent, never "unresolved".
    principals_have_tags: bool = True

    def fold(self, key: str) -> str:
        """The form under which the cloud compares keys."""
        return key.lower() if self.case_insensitive_keys else key

    def key_limit(self, resource_type: str | None) -> int:
        if resource_type:
            lowered = resource_type.lower()
            for rtype, limit in self.key_max_by_type:
                if lowered == rtype:
                    return limit
        return self.key_max

    def key_problem(self, key: str, resource_type: str | None = None) -> str | None:
        limit = self.key_limit(resource_type)
        if not key:
            return "tag key is empty"
        if len(key) > limit:
            return f"tag key is {len(key)} characters, the limit is {limit}"
        if self.key_chars is not None and not self.key_chars.fullmatch(key):
            return f"tag key {key!r} has characters the cloud does not accept"
        if self.key_forbidden is not None and (m := self.key_forbidden.search(key)):
            return f"tag key {key!r} contains {m.group(0)!r}, which the cloud does not accept"
        lowered = key.lower()
        for prefix in self.reserved_prefixes:
            if lowered.startswith(prefix):
                return f"tag key {key!r} uses the reserved prefix {prefix!r}"
        return None

    def value_problem(self, value: str) -> str | None:
        if len(value) > self.value_max:
            return f"value is {len(value)} characters, the limit is {self.value_max}"
        if self.value_chars is not None and not self.value_chars.fullmatch(value):
            return f"value {value!r} has characters the cloud does not accept"
        return None


_AWS_CHARS = re.compile(r"[\w\s.:/=+\-@]*")  # \w is Unicode letters, digits and _

LIMITS: dict[Provider, TagLimits] = {
    Provider.AWS: TagLimits(
        max_tags=50,
        key_max=128,
        value_max=256,
        key_chars=_AWS_CHARS,
        value_chars=_AWS_CHARS,
        key_forbidden=None,
        reserved_prefixes=("aws:",),
    ),
    Provider.AZURE: TagLimits(
        max_tags=50,
        key_max=512,
        value_max=256,
        key_chars=None,
        value_chars=None,
        key_forbidden=re.compile(r"[<>%&\\?/]"),
        reserved_prefixes=("microsoft", "azure", "windows"),
        key_max_by_type=(("microsoft.storage/storageaccounts", 128),),
        case_insensitive_keys=True,
        principals_have_tags=False,
    ),
}


def tag_value(tags: Mapping[str, str] | None, key: str, limits: TagLimits) -> str | None:
    """A tag's value, with keys compared the way the cloud compares them."""
    if not tags:
        return None
    value = tags.get(key)
    if value is None and limits.case_insensitive_keys:
        wanted = key.lower()
        return next((v for k, v in tags.items() if k.lower() == wanted), None)
    return value


def fit_value(value: str, limits: TagLimits) -> str:
    """Make a stamp value (an ARN, a UPN) acceptable: drop unaccepted characters, truncate."""
    if limits.value_chars is not None and not limits.value_chars.fullmatch(value):
        value = "".join(ch for ch in value if limits.value_chars.fullmatch(ch))
    return value[: limits.value_max]
