"""A lookup with no usable answer (a garbled response, a dropped connection) is a retry, not a crash."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.parsers import ResponseParserError

from tagwarden.aws.lookups import IamLookups, LookupFailed
from tagwarden.model import Actor, ActorKind, Provider


class _Iam:
    def list_role_tags(self, **_: Any) -> Any:
        raise ResponseParserError("Unable to parse response: invalid XML received")


class _Clients:
    def get(self, service: str, region: str | None = None) -> Any:
        return _Iam()


def test_a_garbled_iam_answer_fails_the_lookup_for_a_retry() -> None:
    lookups = IamLookups(_Clients())  # type: ignore[arg-type]
    actor = Actor(ActorKind.ASSUMED_ROLE, role_arn="arn:aws:iam::123456789012:role/agent-fleet")
    with pytest.raises(LookupFailed, match="ResponseParserError"):
        lookups.principal_tags(Provider.AWS, actor)
