"""The runaway store in DynamoDB (AWS): table with keys `pk`, `sk` (strings), TTL attribute `expires`.

`add` is one TransactWriteItems call: a conditional put of each member (attribute_not_exists) and
an atomic ADD on each counter. A redelivered event fails its member conditions and the whole
transaction is cancelled, so it counts once however many containers receive it. Items:

  m|<agent>          <event id>#<digest>      a counted event (time, resources, hourly)
  c|<limit>|<agent>  <bucket>                 a window bucket's value
  a|<limit>|<agent>  -                        the last alert (level, at)
  brake              <agent>|<principal>      a brake record (JSON) with its undo
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from tagwarden.runaway.ports import BrakeRecord, BrakeState, Conflict, CounterKey, Member, Tally

_SEP = "|"
CONFLICT_RETRIES = 5


def _counter_key(k: CounterKey) -> dict[str, Any]:
    return {"pk": {"S": f"c{_SEP}{k.limit}{_SEP}{k.scope}"}, "sk": {"S": str(k.bucket)}}


def _n(value: float) -> dict[str, str]:
    return {"N": str(Decimal(repr(float(value))))}


class DynamoRunawayStore:
    def __init__(self, client: Any, table: str) -> None:
        self._ddb = client
        self._table = table

    def add(self, tally: Tally) -> bool:
        items: list[dict[str, Any]] = []
        for m in tally.members:
            items.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            "pk": {"S": f"m{_SEP}{m.scope}"},
                            "sk": {"S": m.key},
                            "t": _n(m.time),
                            "res": {"S": json.dumps(list(m.resources))},
                            "hourly": _n(m.hourly),
                            "expires": {"N": str(int(tally.expires))},
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        for k, v in tally.adds.items():
            items.append(
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": _counter_key(k),
                        "UpdateExpression": "ADD v :v SET expires = :e",
                        "ExpressionAttributeValues": {":v": _n(v), ":e": {"N": str(int(tally.expires))}},
                    }
                }
            )
        from botocore.exceptions import ClientError

        for attempt in range(CONFLICT_RETRIES + 1):
            try:
                self._ddb.transact_write_items(TransactItems=items)
                return True
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                reasons = exc.response.get("CancellationReasons") or []
                if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
                    return False  # a member exists: this event was counted before
                if attempt == CONFLICT_RETRIES:
                    raise  # still conflicting: the platform retries the event, which counts once
                # Another container's transaction on the same counter: try again shortly.
                time.sleep(random.uniform(0.005, 0.02) * (attempt + 1))
        return True

    def read(self, keys: Sequence[CounterKey]) -> dict[CounterKey, float]:
        out = dict.fromkeys(keys, 0.0)
        wanted = {(k["pk"]["S"], k["sk"]["S"]): key for key in keys for k in [_counter_key(key)]}
        pending = [_counter_key(k) for k in dict.fromkeys(keys)]
        while pending:
            batch, pending = pending[:100], pending[100:]
            request: dict[str, Any] = {self._table: {"Keys": batch, "ConsistentRead": True}}
            while request:
                got = self._ddb.batch_get_item(RequestItems=request)
                for item in got.get("Responses", {}).get(self._table, []):
                    key = wanted.get((item["pk"]["S"], item["sk"]["S"]))
                    if key is not None:
                        out[key] = float(item["v"]["N"])
                request = got.get("UnprocessedKeys") or {}
        return out

    def members(self, scope: str, since: float) -> list[Member]:
        out: list[Member] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "FilterExpression": "t > :since",
            "ExpressionAttributeValues": {":pk": {"S": f"m{_SEP}{scope}"}, ":since": _n(since)},
            "ConsistentRead": True,
        }
        while True:
            got = self._ddb.query(**kwargs)
            for item in got.get("Items", []):
                out.append(
                    Member(
                        scope,
                        item["sk"]["S"],
                        float(item["t"]["N"]),
                        tuple(json.loads(item["res"]["S"])),
                        float(item["hourly"]["N"]),
                    )
                )
            if "LastEvaluatedKey" not in got:
                return sorted(out, key=lambda m: m.time)
            kwargs["ExclusiveStartKey"] = got["LastEvaluatedKey"]

    def claim_alert(self, limit: str, scope: str, level: int, now: float, cooldown: int) -> bool:
        from botocore.exceptions import ClientError

        if level <= 0:
            return False
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": f"a{_SEP}{limit}{_SEP}{scope}"},
                    "sk": {"S": "-"},
                    "lvl": {"N": str(level)},
                    "at": _n(now),
                    "expires": {"N": str(int(now + max(cooldown, 86_400) * 2))},
                },
                # judge.should_alert, atomically: no alert yet, a higher level, or the cool-down over
                ConditionExpression="attribute_not_exists(pk) OR lvl < :lvl OR #at <= :cut",
                ExpressionAttributeNames={"#at": "at"},
                ExpressionAttributeValues={":lvl": {"N": str(level)}, ":cut": _n(now - cooldown)},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def put_brake(self, record: BrakeRecord) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._ddb.put_item(
                TableName=self._table,
                Item=self._brake_item(record),
                ConditionExpression="attribute_not_exists(pk) OR NOT (#s IN (:applying, :active))",
                ExpressionAttributeNames={"#s": "state"},
                ExpressionAttributeValues={
                    ":applying": {"S": BrakeState.APPLYING.value},
                    ":active": {"S": BrakeState.ACTIVE.value},
                },
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def update_brake(self, record: BrakeRecord) -> None:
        from botocore.exceptions import ClientError

        try:
            self._ddb.put_item(
                TableName=self._table,
                Item=self._brake_item(record),
                ConditionExpression="version = :v",
                ExpressionAttributeValues={":v": {"N": str(record.version - 1)}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise Conflict(f"brake on {record.principal}: changed since it was read") from exc
            raise

    def brakes(self, scope: str | None = None) -> list[BrakeRecord]:
        values: dict[str, Any] = {":pk": {"S": "brake"}}
        condition = "pk = :pk"
        if scope is not None:
            condition += " AND begins_with(sk, :prefix)"
            values[":prefix"] = {"S": f"{scope}{_SEP}"}
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
        }
        out: list[BrakeRecord] = []
        while True:
            got = self._ddb.query(**kwargs)
            for item in got.get("Items", []):
                record = BrakeRecord.from_json(json.loads(item["doc"]["S"]))
                if scope is None or record.scope == scope:
                    out.append(record)
            if "LastEvaluatedKey" not in got:
                return out
            kwargs["ExclusiveStartKey"] = got["LastEvaluatedKey"]

    def _brake_item(self, record: BrakeRecord) -> dict[str, Any]:
        return {
            "pk": {"S": "brake"},
            "sk": {"S": f"{record.scope}{_SEP}{record.principal}"},
            "state": {"S": record.state.value},
            "version": {"N": str(record.version)},
            "doc": {"S": record.dumps()},
        }


def create_table(client: Any, table: str) -> None:
    """The table as template.yaml declares it (tests, the demo)."""
    client.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"}
    )
