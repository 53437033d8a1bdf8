"""The rules in force and where they come from: the packaged file (read once per cold start) or a
store named by TAGWARDEN_RULES_SOURCE (tagwarden.rules.live, imported only then)."""

from __future__ import annotations

from msgspec import Struct

from tagwarden.rules.model import RuleSet

SOURCE_ENV = "TAGWARDEN_RULES_SOURCE"  # where the adapter reads the rules (its forms are the adapter's)


class Loaded(Struct, frozen=True):
    """A rule set in force: what decided, where it came from, and the digest records carry."""

    rules: RuleSet
    digest: str  # sha256 of the text (tagwarden.ledger.records.rules_hash), in every ledger record
    source: str
    version: str

