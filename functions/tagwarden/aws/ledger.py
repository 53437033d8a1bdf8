"""The ledger in a DynamoDB table (tagwarden.ledger.ports.Ledger): the AWS system of record.

One item per resource (`pk` = `<provider>#<resource id, exact case>`) holding the record's JSON
(`doc`) beside the attributes the conditions and the index read (`state`, `version`); usage records
are items under `usage#<usage id>`. Every write is conditional:

- create: `attribute_not_exists(pk)`: the enforcer's one write per event and resource, which is
  also the de-duplication claim (a redelivery finds the record);
- update: `version = :read`: the record changed since it was read -> Conflict (optimistic
  concurrency: a stale sweeper, a replayed event or a racing release cannot overwrite it).

The sweeper's work list comes from the sparse global secondary index `live` (partition key
`sweep`, an attribute only records in a lifecycle state carry), never from listing the cloud; the
hot path's records (tagged, nothing pending) stay out of the index and cost no index write.

Read where it lives: `tagwarden ledger show/export --ledger dynamodb://TABLE` (`get`, and
`records`: one paged Scan). Export at org scale: point-in-time recovery is on (the template), and
`aws dynamodb export-table-to-point-in-time` writes the table to S3 (DynamoDB JSON, one item a
line, whose `doc` attribute is the JSON-lines form of `tagwarden.ledger.export`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from botocore.exceptions import ClientError

from tagwarden.ledger.model import LIVE_STATES, LifecycleState, ResourceRecord, UsageRecord, ledger_key
from tagwarden.ledger.ports import Conflict

STATE_INDEX = "live"
TRANSACTION_MAX = 100  # items in one TransactWriteItems
_CONDITION_FAILED = "ConditionalCheckFailedException"


# A Scan of one record kind (None: every item). Usage items have no `state`.
_SCAN_FILTERS: dict[str | None, dict[str, Any]] = {
    "usage": {
        "FilterExpression": "begins_with(pk, :u)",
        "ExpressionAttributeValues": {":u": {"S": "usage#"}},
    },
    "resource": {
        "FilterExpression": "attribute_exists(#s)",
        "ExpressionAttributeNames": {"#s": "state"},
    },
}


def _pk(provider: str, resource_id: str) -> str:
    return f"{provider}#{ledger_key(provider, resource_id)}"


def _failed_condition(exc: ClientError) -> bool:
    return bool(exc.response.get("Error", {}).get("Code") == _CONDITION_FAILED)


class DynamoLedger:
    """A Ledger over one table: `pk` (string) partition key, sparse GSI `live` on `sweep`."""

    def __init__(self, client: Any, table: str, page_size: int | None = None) -> None:
        self._ddb = client
        self._table = table
        self._page_size = page_size  # items a Scan page evaluates (Limit); None: DynamoDB's 1 MB pages

    def _item(self, record: ResourceRecord) -> dict[str, Any]:
        item = {
            "pk": {"S": _pk(record.provider, record.resource_id)},
            "state": {"S": record.state.value},
            "version": {"N": str(record.version)},
            "doc": {"S": json.dumps(record.to_json(), sort_keys=True, separators=(",", ":"))},
        }
        if record.state in LIVE_STATES:
            item["sweep"] = {"S": record.state.value}
        return item

    def create(self, record: ResourceRecord) -> bool:
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item=self._item(record),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if _failed_condition(exc):
                return False
            raise
        return True

    def create_many(self, records: Sequence[ResourceRecord]) -> list[bool]:
        """One TransactWriteItems of conditional puts per 100 records: a whole RunInstances is one
        write call. A transaction is all or nothing, so when one record exists already (a
        redelivery) it is cancelled and each record of that chunk is created on its own."""
        if len(records) == 1:
            return [self.create(records[0])]
        out: list[bool] = []
        for start in range(0, len(records), TRANSACTION_MAX):
            chunk = records[start : start + TRANSACTION_MAX]
            items = [
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": self._item(r),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
                for r in chunk
            ]
            try:
                self._ddb.transact_write_items(TransactItems=items)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                out += [self.create(r) for r in chunk]
                continue
            out += [True] * len(chunk)
        return out

    def get(self, provider: str, resource_id: str) -> ResourceRecord | None:
        got = self._ddb.get_item(
            TableName=self._table, Key={"pk": {"S": _pk(provider, resource_id)}}, ConsistentRead=True
        )
        item = got.get("Item")
        return _record(item) if item else None

    def update(self, record: ResourceRecord) -> None:
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item=self._item(record),
                ConditionExpression="version = :read",
                ExpressionAttributeValues={":read": {"N": str(record.version - 1)}},
            )
        except ClientError as exc:
            if _failed_condition(exc):
                raise Conflict(
                    f"{record.resource_id}: changed since version {record.version - 1} was read"
                ) from exc
            raise

    def in_state(self, *states: LifecycleState) -> Iterator[ResourceRecord]:
        others = [s for s in states if s not in LIVE_STATES]
        if others:  # not indexed (the hot path's states): a scan, for the CLI and exports
            wanted = set(others)
            yield from (r for r in self.scan() if r.state in wanted)
        for state in (s for s in states if s in LIVE_STATES):
            kwargs: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": STATE_INDEX,
                "KeyConditionExpression": "#s = :s",
                "ExpressionAttributeNames": {"#s": "sweep"},
                "ExpressionAttributeValues": {":s": {"S": state.value}},
            }
            while True:
                page = self._ddb.query(**kwargs)
                for item in page.get("Items", []):
                    # the index is eventually consistent: the item's own state is checked again
                    record = _record(item)
                    if record.state is state:
                        yield record
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def scan(self) -> Iterator[ResourceRecord]:
        for item in self._scan("resource"):
            yield _record(item)

    def records(self) -> Iterator[ResourceRecord | UsageRecord]:
        """Every item, page by page, in one Scan without a filter: a filtered Scan is billed for
        every item it reads anyway, so two (resources, then usage) would read the table twice."""
        for item in self._scan(None):
            usage = item["pk"]["S"].startswith("usage#")
            yield UsageRecord.from_json(json.loads(item["doc"]["S"])) if usage else _record(item)

    def add_usage(self, records: Iterable[UsageRecord]) -> int:
        new = 0
        for r in records:
            try:
                self._ddb.put_item(
                    TableName=self._table,
                    Item={
                        "pk": {"S": f"usage#{r.usage_id}"},
                        "time": {"N": repr(float(r.time))},
                        "doc": {"S": json.dumps(r.to_json(), sort_keys=True, separators=(",", ":"))},
                    },
                    ConditionExpression="attribute_not_exists(pk)",
                )
                new += 1
            except ClientError as exc:
                if not _failed_condition(exc):
                    raise
        return new

    def usage(self, since: float | None = None, until: float | None = None) -> Iterator[UsageRecord]:
        lo = float("-inf") if since is None else since
        hi = float("inf") if until is None else until
        found = [UsageRecord.from_json(json.loads(item["doc"]["S"])) for item in self._scan("usage")]
        return iter(sorted((u for u in found if lo <= u.time < hi), key=lambda u: u.time))

    def _scan(self, kind: str | None) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {"TableName": self._table}
        if self._page_size:
            kwargs["Limit"] = self._page_size
        kwargs |= _SCAN_FILTERS.get(kind, {})
        while True:
            page = self._ddb.scan(**kwargs)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _record(item: dict[str, Any]) -> ResourceRecord:
    return ResourceRecord.from_json(json.loads(item["doc"]["S"]))


def create_table(client: Any, table: str) -> None:
    """The table as the template declares it (tests, the demo and `make demo`)."""
    client.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sweep", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": STATE_INDEX,
                "KeySchema": [{"AttributeName": "sweep", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
