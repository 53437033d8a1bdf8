"""The runaway store in Azure Table Storage (Azure), with optimistic concurrency on ETags.

The partition is the agent, so everything one event adds for an agent is one entity-group
transaction: create each member (a redelivery finds it there: 409, the whole batch is dropped) and
replace each counter only if its ETag is still the one read (412 when another worker added first:
read again and retry). Partition and row keys escape the characters Table keys forbid.

  PartitionKey <agent>   RowKey m|<event id>#<digest>   a counted event (time, resources, hourly)
                         RowKey c|<limit>|<bucket>      a window bucket's value
                         RowKey a|<limit>               the last alert (level, at)
  PartitionKey brakes    RowKey <agent>|<principal>     a brake record (JSON)
"""

from __future__ import annotations

import contextlib
import json
import random
import time
from collections.abc import Sequence
from typing import Any

from tagwarden.runaway.judge import AlertState, should_alert
from tagwarden.runaway.ports import BrakeRecord, BrakeState, Conflict, CounterKey, Member, Tally

RETRIES = 40
BRAKES = "brakes"
_FORBIDDEN = {"%": "%25", "/": "%2F", "\\": "%5C", "#": "%23", "?": "%3F"}


def key(text: str) -> str:
    """A value safe as a PartitionKey / RowKey (no / \\ # ? or control characters)."""
    out = "".join(_FORBIDDEN.get(ch, ch) if ch.isprintable() else f"%{ord(ch):02X}" for ch in text)
    return out


class AzureTableRunawayStore:
    def __init__(self, table: Any) -> None:
        """`table`: an azure.data.tables TableClient (created by the caller, once per worker)."""
        self._table = table

    @classmethod
    def from_connection_string(cls, connection: str, name: str) -> AzureTableRunawayStore:
        from azure.data.tables import TableServiceClient

        service = TableServiceClient.from_connection_string(connection)
        return cls(service.create_table_if_not_exists(name))

    def add(self, tally: Tally) -> bool:
        counted = False
        scopes = dict.fromkeys([m.scope for m in tally.members] + [k.scope for k in tally.adds])
        for scope in scopes:
            members = [m for m in tally.members if m.scope == scope]
            adds = {k: v for k, v in tally.adds.items() if k.scope == scope}
            counted |= self._add_scope(scope, members, adds, tally.expires)
        return counted

    def _add_scope(
        self, scope: str, members: list[Member], adds: dict[CounterKey, float], expires: float
    ) -> bool:
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceNotFoundError
        from azure.data.tables import TableTransactionError, UpdateMode

        pk = key(scope)
        for attempt in range(RETRIES):
            ops: list[Any] = [
                (
                    "create",
                    {
                        "PartitionKey": pk,
                        "RowKey": key(f"m|{m.key}"),
                        "t": m.time,
                        "res": json.dumps(list(m.resources)),
                        "hourly": m.hourly,
                        "expires": expires,
                    },
                )
                for m in members
            ]
            for k, v in adds.items():
                row = key(f"c|{k.limit}|{k.bucket}")
                try:
                    current = self._table.get_entity(pk, row)
                except ResourceNotFoundError:
                    ops.append(("create", {"PartitionKey": pk, "RowKey": row, "v": v, "expires": expires}))
                    continue
                entity = {"PartitionKey": pk, "RowKey": row, "v": float(current["v"]) + v, "expires": expires}
                ops.append(
                    (
                        "update",
                        entity,
                        {
                            "mode": UpdateMode.REPLACE,
                            "etag": current.metadata["etag"],
                            "match_condition": MatchConditions.IfNotModified,
                        },
                    )
                )
            try:
                self._table.submit_transaction(ops)
            except TableTransactionError:
                if self._counted(pk, members):
                    return False  # a member exists: this event was counted before
                # A counter changed (412) or was created meanwhile (409): read again and retry,
                # backing off with jitter so that busy workers spread out.
                time.sleep(random.uniform(0, min(0.25, 0.004 * 2**attempt)))
                continue
            return True
        raise Conflict(f"counters of {scope} kept changing: {RETRIES} attempts")

    def _counted(self, pk: str, members: list[Member]) -> bool:
        from azure.core.exceptions import ResourceNotFoundError

        for m in members:
            try:
                self._table.get_entity(pk, key(f"m|{m.key}"))
            except ResourceNotFoundError:
                continue
            return True
        return False

    def read(self, keys: Sequence[CounterKey]) -> dict[CounterKey, float]:
        from azure.core.exceptions import ResourceNotFoundError

        out = dict.fromkeys(keys, 0.0)
        for k in dict.fromkeys(keys):
            with contextlib.suppress(ResourceNotFoundError):  # never written: 0
                out[k] = float(self._table.get_entity(key(k.scope), key(f"c|{k.limit}|{k.bucket}"))["v"])
        return out

    def members(self, scope: str, since: float) -> list[Member]:
        pk = key(scope)
        rows = self._table.query_entities(
            "PartitionKey eq @pk and RowKey ge 'm|' and RowKey lt 'm}' and t gt @since",
            parameters={"pk": pk, "since": float(since)},
        )
        found = [
            Member(
                scope, str(r["RowKey"])[2:], float(r["t"]), tuple(json.loads(r["res"])), float(r["hourly"])
            )
            for r in rows
        ]
        return sorted(found, key=lambda m: m.time)

    def claim_alert(self, limit: str, scope: str, level: int, now: float, cooldown: int) -> bool:
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
        from azure.data.tables import UpdateMode

        pk, row = key(scope), key(f"a|{limit}")
        for _ in range(RETRIES):
            try:
                current = self._table.get_entity(pk, row)
            except ResourceNotFoundError:
                current = None
            previous = AlertState(int(current["lvl"]), float(current["at"])) if current else None
            if not should_alert(previous, level, now, cooldown):
                return False
            entity = {"PartitionKey": pk, "RowKey": row, "lvl": level, "at": now}
            try:
                if current is None:
                    self._table.create_entity(entity)
                else:
                    self._table.update_entity(
                        entity,
                        mode=UpdateMode.REPLACE,
                        etag=current.metadata["etag"],
                        match_condition=MatchConditions.IfNotModified,
                    )
            except (ResourceExistsError, ResourceModifiedError):
                continue  # another worker claimed it meanwhile: judge again on what it wrote
            return True
        return False

    def put_brake(self, record: BrakeRecord) -> bool:
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
        from azure.data.tables import UpdateMode

        row = key(f"{record.scope}|{record.principal}")
        entity = {"PartitionKey": BRAKES, "RowKey": row, "state": record.state.value, "doc": record.dumps()}
        try:
            current = self._table.get_entity(BRAKES, row)
        except ResourceNotFoundError:
            current = None
        try:
            if current is None:
                self._table.create_entity(entity)
            elif current["state"] in (BrakeState.APPLYING.value, BrakeState.ACTIVE.value):
                return False
            else:
                self._table.update_entity(
                    entity,
                    mode=UpdateMode.REPLACE,
                    etag=current.metadata["etag"],
                    match_condition=MatchConditions.IfNotModified,
                )
        except (ResourceExistsError, ResourceModifiedError):
            return False
        return True

    def update_brake(self, record: BrakeRecord) -> None:
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError
        from azure.data.tables import UpdateMode

        row = key(f"{record.scope}|{record.principal}")
        try:
            current = self._table.get_entity(BRAKES, row)
        except ResourceNotFoundError as exc:
            raise Conflict(f"brake on {record.principal}: not found") from exc
        if BrakeRecord.from_json(json.loads(current["doc"])).version != record.version - 1:
            raise Conflict(f"brake on {record.principal}: changed since it was read")
        try:
            self._table.update_entity(
                {"PartitionKey": BRAKES, "RowKey": row, "state": record.state.value, "doc": record.dumps()},
                mode=UpdateMode.REPLACE,
                etag=current.metadata["etag"],
                match_condition=MatchConditions.IfNotModified,
            )
        except ResourceModifiedError as exc:
            raise Conflict(f"brake on {record.principal}: changed since it was read") from exc

    def brakes(self, scope: str | None = None) -> list[BrakeRecord]:
        rows = self._table.query_entities("PartitionKey eq @pk", parameters={"pk": BRAKES})
        records = [BrakeRecord.from_json(json.loads(r["doc"])) for r in rows]
        return [r for r in records if scope is None or r.scope == scope]
