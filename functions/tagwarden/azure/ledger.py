"""The ledger in Azure Table Storage (tagwarden.ledger.ports.Ledger): the Azure system of record.

One entity per resource: PartitionKey = provider, RowKey = the resource id folded (ARM ids are
case-insensitive) and percent-encoded (a RowKey may not hold `/ \\ # ?`), the record's JSON in
`Doc` beside `State` and `Version`. Usage records live in the partition `usage`. Writes are
conditional:

- create: an insert, which the service refuses when the entity exists: the enforcer's one write
  per event and resource, and the de-duplication claim;
- update: a Replace with `If-Match: <ETag of the version read>`; any other writer in between
  changes the ETag and the update fails with 412 -> Conflict.

Backed up by the storage account's own redundancy; `tagwarden ledger export --ledger
azure-table://ACCOUNT/TABLE` (`records`: one listing, paged by continuation) writes the
JSON-lines form.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import quote

from tagwarden.ledger.model import LifecycleState, ResourceRecord, UsageRecord, ledger_key
from tagwarden.ledger.ports import Conflict

USAGE = "usage"


def row_key(provider: str, resource_id: str) -> str:
    return quote(ledger_key(provider, resource_id), safe="")


class TableLedger:
    """A Ledger over one table, through azure-data-tables' TableClient."""

    def __init__(self, table: Any, page_size: int | None = None) -> None:
        self._table = table
        self._page = {"results_per_page": page_size} if page_size else {}  # None: the service's 1000
        self._etags: dict[tuple[str, str], tuple[int, str]] = {}  # key -> (version, ETag) last seen

    @classmethod
    def from_connection_string(cls, connection: str, table: str) -> TableLedger:
        from azure.data.tables import TableServiceClient

        service = TableServiceClient.from_connection_string(connection)
        return cls(service.create_table_if_not_exists(table))

    @classmethod
    def from_endpoint(cls, endpoint: str, table: str, credential: Any = None) -> TableLedger:
        """`https://<account>.table.core.windows.net` with the app's managed identity."""
        from azure.data.tables import TableClient

        if credential is None:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential()
        return cls(TableClient(endpoint=endpoint, table_name=table, credential=credential))

    def _entity(self, record: ResourceRecord) -> dict[str, Any]:
        return {
            "PartitionKey": record.provider,
            "RowKey": row_key(record.provider, record.resource_id),
            "State": record.state.value,
            "Version": record.version,
            "Doc": json.dumps(record.to_json(), sort_keys=True, separators=(",", ":")),
        }

    def _seen(self, entity: Any) -> ResourceRecord:
        record = ResourceRecord.from_json(json.loads(entity["Doc"]))
        etag = entity.metadata.get("etag") if hasattr(entity, "metadata") else None
        if etag:
            self._etags[record.key] = (record.version, str(etag))
        return record

    def create(self, record: ResourceRecord) -> bool:
        from azure.core.exceptions import ResourceExistsError

        try:
            meta = self._table.create_entity(self._entity(record))
        except ResourceExistsError:
            return False
        if meta and meta.get("etag"):
            self._etags[record.key] = (record.version, str(meta["etag"]))
        return True

    def create_many(self, records: Sequence[ResourceRecord]) -> list[bool]:
        # A Table batch fails whole when one entity exists: one insert each keeps the answers apart.
        return [self.create(r) for r in records]

    def get(self, provider: str, resource_id: str) -> ResourceRecord | None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            entity = self._table.get_entity(provider, row_key(provider, resource_id))
        except ResourceNotFoundError:
            return None
        return self._seen(entity)

    def update(self, record: ResourceRecord) -> None:
        from azure.core import MatchConditions
        from azure.core.exceptions import HttpResponseError, ResourceModifiedError

        read = record.version - 1
        seen = self._etags.get(record.key)
        if seen is None or seen[0] != read:
            current = self.get(record.provider, record.resource_id)
            seen = self._etags.get(record.key)
            if current is None or current.version != read or seen is None:
                raise Conflict(f"{record.resource_id}: changed since version {read} was read")
        try:
            meta = self._table.update_entity(
                self._entity(record),
                mode="replace",
                etag=seen[1],
                match_condition=MatchConditions.IfNotModified,
            )
        except (ResourceModifiedError, HttpResponseError) as exc:
            if getattr(exc, "status_code", None) in (409, 412) or isinstance(exc, ResourceModifiedError):
                raise Conflict(f"{record.resource_id}: changed since version {read} was read") from exc
            raise
        if meta and meta.get("etag"):
            self._etags[record.key] = (record.version, str(meta["etag"]))

    def in_state(self, *states: LifecycleState) -> Iterator[ResourceRecord]:
        if not states:
            return iter(())
        params = {f"s{i}": s.value for i, s in enumerate(states)}
        query = " or ".join(f"State eq @s{i}" for i in range(len(states)))
        found = self._table.query_entities(query, parameters=params)
        return iter([self._seen(e) for e in found if e["PartitionKey"] != USAGE])

    def scan(self) -> Iterator[ResourceRecord]:
        """Streamed page by page (the query follows its continuation token as it is read); no
        ETag kept: a whole table's would grow without bound, and `update` reads again without."""
        found = self._table.query_entities("PartitionKey ne @u", parameters={"u": USAGE}, **self._page)
        return (ResourceRecord.from_json(json.loads(e["Doc"])) for e in found)

    def records(self) -> Iterator[ResourceRecord | UsageRecord]:
        """Every entity, streamed: one listing of the table, both kinds."""
        for e in self._table.list_entities(select=["PartitionKey", "Doc"], **self._page):
            doc = json.loads(e["Doc"])
            yield UsageRecord.from_json(doc) if e["PartitionKey"] == USAGE else ResourceRecord.from_json(doc)

    def add_usage(self, records: Iterable[UsageRecord]) -> int:
        from azure.core.exceptions import ResourceExistsError

        new = 0
        for r in records:
            entity = {
                "PartitionKey": USAGE,
                "RowKey": quote(r.usage_id, safe=""),
                "Time": float(r.time),
                "Doc": json.dumps(r.to_json(), sort_keys=True, separators=(",", ":")),
            }
            try:
                self._table.create_entity(entity)
                new += 1
            except ResourceExistsError:
                continue
        return new

    def usage(self, since: float | None = None, until: float | None = None) -> Iterator[UsageRecord]:
        lo = float("-inf") if since is None else since
        hi = float("inf") if until is None else until
        found = self._table.query_entities("PartitionKey eq @u", parameters={"u": USAGE})
        records = [UsageRecord.from_json(json.loads(e["Doc"])) for e in found]
        return iter(sorted((u for u in records if lo <= u.time < hi), key=lambda u: u.time))
