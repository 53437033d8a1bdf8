"""The AWS reader the core routes with: a CloudTrail record or EventBridge "AWS API Call via
CloudTrail" event -> a TagChange (a successful tag write), a CreationEvent (a create in the
catalogue) or a Skipped with its reason. Pure: no boto3."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tagwarden.aws.normalize.cloudtrail import is_envelope, is_record, normalize_record
from tagwarden.aws.normalize.tag_events import tag_change
from tagwarden.normalize import Reader, Routed


def read(raw: Mapping[str, Any]) -> Routed | None:
    if not (is_envelope(raw) or is_record(raw)):
        return None
    return tag_change(raw) or normalize_record(raw)


READER = Reader("a CloudTrail record or EventBridge CloudTrail event", read)

__all__ = ["READER", "read"]
