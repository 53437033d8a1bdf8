"""At-least-once delivery, exactly-once effects: an event id is claimed before it is acted on.

EventBridge may deliver an event twice. A claim is a conditional put keyed on the event id; a
second delivery finds the claim and is skipped as a duplicate. A claim left by a failed
invocation is released so the retry can act; one left by a crashed invocation expires.
Without a table (local runs), claims live in the container's memory.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any, Protocol

from botocore.exceptions import ClientError


class Claim(Protocol):
    def claim(self, event_id: str) -> str | None:
        """None when claimed now; otherwise why not ("duplicate", "in progress")."""

    def done(self, event_id: str) -> None: ...

    def release(self, event_id: str) -> None: ...


class MemoryClaims:
    def __init__(self, size: int = 10_000) -> None:
        self._seen: OrderedDict[str, str] = OrderedDict()
        self._size = size

    def claim(self, event_id: str) -> str | None:
        state = self._seen.get(event_id)
        if state is not None:
            return "duplicate delivery" if state == "done" else "in progress"
        self._seen[event_id] = "in-progress"
        if len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return None

    def done(self, event_id: str) -> None:
        self._seen[event_id] = "done"

    def release(self, event_id: str) -> None:
        self._seen.pop(event_id, None)


class DynamoClaims:
    """Claims in a DynamoDB table with partition key `pk` (string) and TTL attribute `expires`."""

    def __init__(
        self, client: Any, table: str, in_progress_seconds: int = 900, keep_seconds: int = 86_400
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
                    "pk": {"S": event_id},
                    "state": {"S": "in-progress"},
                    "expires": {"N": str(now + self._in_progress)},
                },
                ConditionExpression="attribute_not_exists(pk) OR expires < :now",
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            item = self._ddb.get_item(TableName=self._table, Key={"pk": {"S": event_id}}, ConsistentRead=True)
            state = item.get("Item", {}).get("state", {}).get("S")
            return "duplicate delivery" if state == "done" else "in progress"
        return None

    def done(self, event_id: str) -> None:
        self._ddb.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": event_id},
                "state": {"S": "done"},
                "expires": {"N": str(int(time.time()) + self._keep)},
            },
        )

    def release(self, event_id: str) -> None:
        self._ddb.delete_item(TableName=self._table, Key={"pk": {"S": event_id}})
