"""Event claims in DynamoDB, shared by every container (see tagwarden.claims for the port).

EventBridge may deliver an event twice, to different containers. A claim is a conditional put
keyed on the event id; a claim left by a crashed invocation expires (TTL attribute `expires`).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from botocore.exceptions import ClientError

from tagwarden.claims import DUPLICATE, IN_PROGRESS, MemoryClaims

__all__ = ["DynamoClaims", "MemoryClaims"]


def _key(event_id: str) -> dict[str, str]:
    """DynamoDB refuses a partition key over 2048 bytes; an event id anyone can pad is hashed."""
    raw = event_id.encode("utf-8", "surrogatepass")
    return {"S": event_id if len(raw) <= 1024 else "sha256:" + hashlib.sha256(raw).hexdigest()}


class DynamoClaims:
    """Claims in a DynamoDB table with partition key `pk` (string) and TTL attribute `expires`."""

    def __init__(
        self,
        client: Any,
        table: str,
        in_progress_seconds: int = 150,  # the function timeout (90 s) and a margin: a crashed claim
        keep_seconds: int = 86_400,  # frees itself before Lambda's last async retry
    ) -> None:
        self._ddb = client
        self._table = table
        self._in_progress = in_progress_seconds
        self._keep = keep_seconds

    def claim(self, event_id: str) -> str | None:
        now = int(time.time())
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item={
                    "pk": _key(event_id),
                    "state": {"S": "in-progress"},
                    "expires": {"N": str(now + self._in_progress)},
                },
                ConditionExpression="attribute_not_exists(pk) OR expires < :now",
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            item = self._ddb.get_item(TableName=self._table, Key={"pk": _key(event_id)}, ConsistentRead=True)
            state = item.get("Item", {}).get("state", {}).get("S")
            return DUPLICATE if state == "done" else IN_PROGRESS
        return None

    def done(self, event_id: str) -> None:
        self._ddb.put_item(
            TableName=self._table,
            Item={
                "pk": _key(event_id),
                "state": {"S": "done"},
                "expires": {"N": str(int(time.time()) + self._keep)},
            },
        )

    def release(self, event_id: str) -> None:
        self._ddb.delete_item(TableName=self._table, Key={"pk": _key(event_id)})
