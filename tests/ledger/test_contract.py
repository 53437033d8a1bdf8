"""One contract, every store: SQLite, DynamoDB (moto) and Azure Table Storage (Azurite).

Create is a claim (once per key), ids keep their case (AWS) or fold (Azure), updates are versioned
(a stale writer gets Conflict, never a silent overwrite), the sweeper's states are listed, usage is
idempotent, and a record survives the round trip byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from msgspec.structs import replace

from tagwarden.ledger.model import LifecycleState, ResourceRecord, UsageKind, UsageRecord
from tagwarden.ledger.ports import Conflict, Ledger
from tagwarden.ledger.sqlite import SqliteLedger
from tagwarden.ledger.state import IllegalTransition, advance

ARN = "arn:aws:lambda:us-east-1:111122223333:function:MyFn"
AZ = "/subscriptions/s-1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/VM-1"


def record(rid: str = ARN, provider: str = "aws", **kw: object) -> ResourceRecord:
    base = ResourceRecord(
        provider=provider,
        resource_id=rid,
        account="111122223333",
        region="us-east-1",
        type="AWS::Lambda::Function",
        name="MyFn",
        event_id="e-1",
        event_name="CreateFunction20150331",
        event_time="2026-12-01T10:00:00Z",
        actor={"kind": "assumed-role", "arn": "arn:aws:sts::111122223333:assumed-role/agent/agent-42"},
        tags={"Agent-ID": "42"},
        sources={"Agent-ID": "actor:session_name"},
        rule="agents",
        rules_hash="ab" * 32,
        action="tag",
        recorded_at=1000.0,
        ignored={"tagwarden:protect": "x"},
        marks=("tagwarden:quarantine",),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


# --- stores ---------------------------------------------------------------------------------------



def _sqlite(request: pytest.FixtureRequest) -> Ledger:
    return SqliteLedger()


def _dynamodb(request: pytest.FixtureRequest) -> Ledger:
    from moto import mock_aws

    from tagwarden.aws.ledger import DynamoLedger, create_table

    mock = mock_aws()
    mock.start()
    request.addfinalizer(mock.stop)
    import boto3

    client = boto3.client("dynamodb", region_name="us-east-1")
    create_table(client, "tagwarden-ledger")
    return DynamoLedger(client, "tagwarden-ledger")


def _azure_table(request: pytest.FixtureRequest) -> Ledger:
    from tagwarden.azure.ledger import TableLedger

    connection = request.getfixturevalue("azurite_tables")
    name = "t" + re.sub(r"[^a-z0-9]", "", request.node.name.lower())[:40]
    return TableLedger.from_connection_string(connection, name)


STORES: dict[str, Callable[[pytest.FixtureRequest], Ledger]] = {
    "sqlite": _sqlite,
    "dynamodb": _dynamodb,
    "azure-table": _azure_table,
}


@pytest.fixture(params=list(STORES))
def ledger(request: pytest.FixtureRequest) -> Ledger:
    return STORES[request.param](request)


# --- the contract ---------------------------------------------------------------------------------


def test_create_is_a_claim_and_round_trips(ledger: Ledger) -> None:
    assert ledger.create(record()) is True
    assert ledger.create(record(event_id="e-2")) is False  # a second create never overwrites
    got = ledger.get("aws", ARN)
    assert got == record()
    assert got is not None and got.to_json() == record().to_json()


def test_aws_ids_keep_their_case_azure_ids_fold(ledger: Ledger) -> None:
    assert ledger.create(record()) is True
    assert ledger.get("aws", ARN.lower()) is None  # myfn is another function
    assert ledger.create(record(ARN.replace("MyFn", "myfn"))) is True
    assert ledger.create(record(AZ, "azure")) is True
    assert ledger.create(record(AZ.lower(), "azure")) is False  # the same Azure resource
    got = ledger.get("azure", AZ.upper())
    assert got is not None and got.resource_id == AZ  # stored as first seen


def test_update_is_versioned_so_a_stale_writer_loses(ledger: Ledger) -> None:
    first = record(state=LifecycleState.QUARANTINE_INTENT, undo="state=running")
    ledger.create(first)
    read_by_two = ledger.get("aws", ARN)
    assert read_by_two is not None
    ledger.update(advance(read_by_two, LifecycleState.QUARANTINED, quarantined_at=2.0))
    with pytest.raises(Conflict):
        ledger.update(advance(read_by_two, LifecycleState.RELEASED))  # read before the quarantine
    now = ledger.get("aws", ARN)
    assert now is not None and now.state is LifecycleState.QUARANTINED and now.version == 2
    ledger.update(advance(now, LifecycleState.RELEASED, released_at=3.0))
    with pytest.raises(Conflict):
        ledger.update(advance(now, LifecycleState.DELETED))  # the same version, replayed
    final = ledger.get("aws", ARN)
    assert final is not None and final.state is LifecycleState.RELEASED and final.undo == "state=running"


def test_update_of_a_missing_record_is_a_conflict(ledger: Ledger) -> None:
    with pytest.raises(Conflict):
        ledger.update(record().evolve(state=LifecycleState.RELEASED))


def test_in_state_lists_the_sweepers_work(ledger: Ledger) -> None:
    ledger.create(record())
    ledger.create(record(ARN + "2", state=LifecycleState.QUARANTINED))
    ledger.create(record(ARN + "3", state=LifecycleState.DELETE_PENDING))
    ledger.create(record(AZ, "azure", state=LifecycleState.QUARANTINED))
    live = {r.resource_id for r in ledger.in_state(LifecycleState.QUARANTINED, LifecycleState.DELETE_PENDING)}
    assert live == {ARN + "2", ARN + "3", AZ}
    assert [r.resource_id for r in ledger.in_state(LifecycleState.ACTIVE)] == [ARN]
    assert len(list(ledger.scan())) == 4


def test_usage_is_idempotent_and_filtered_by_time(ledger: Ledger) -> None:
    u1 = UsageRecord("u/1", UsageKind.LLM, 10.0, "openai", "gpt-4o", {"Agent-ID": "a"}, {"input_tokens": 5})
    u2 = UsageRecord("u#2", UsageKind.LLM, 20.0, "openai", "gpt-4o", {"Agent-ID": "b"}, {"input_tokens": 7})
    assert ledger.add_usage([u1, u2]) == 2
    assert ledger.add_usage([u1]) == 0
    assert [u.usage_id for u in ledger.usage(since=15.0)] == ["u#2"]
    assert list(ledger.scan()) == []  # usage is not a resource


def test_the_state_machine_refuses_a_replay() -> None:
    released = record(state=LifecycleState.RELEASED)
    with pytest.raises(IllegalTransition):
        advance(released, LifecycleState.QUARANTINED)
    with pytest.raises(IllegalTransition):
        advance(released, LifecycleState.DELETED)


def test_schema_1_lines_still_read() -> None:
    old = record().to_json()
    for key in ("ignored", "detail", "notified_at", "marks"):
        old.pop(key)
    old["schema"] = 1
    got = ResourceRecord.from_json(old)
    assert got.ignored == {} and got.marks == () and got.resource_id == ARN


def test_create_many_claims_each_record_once(ledger: Ledger) -> None:
    many = [record(f"{ARN}-{i}") for i in range(120)]  # past one DynamoDB transaction (100)
    assert ledger.create_many(many) == [True] * 120
    again = [record(f"{ARN}-0"), record(f"{ARN}-new"), record(f"{ARN}-119")]  # a redelivery, mixed
    assert ledger.create_many(again) == [False, True, False]
    assert ledger.get("aws", f"{ARN}-new") == record(f"{ARN}-new")
    assert len(list(ledger.scan())) == 121


# --- the create's idempotency token (schema 3) ----------------------------------------------------


def test_the_creates_idempotency_token_round_trips(ledger: Ledger) -> None:
    opened = record(state=LifecycleState.QUARANTINED, idempotency_token="0b5e7c2a-original")
    assert ledger.create(opened) is True
    assert ledger.get("aws", ARN) == opened
    assert [r.idempotency_token for r in ledger.in_state(LifecycleState.QUARANTINED)] == ["0b5e7c2a-original"]
    # renewed by a create with a token of its own: the stored token is the new create's
    renewed = replace(opened, event_id="e-2", idempotency_token="7d1c-new", version=2)
    ledger.update(renewed)
    got = ledger.get("aws", ARN)
    assert got is not None and got.idempotency_token == "7d1c-new" and got.version == 2
    ledger.update(got.evolve(idempotency_token=None))  # and by one without a token
    final = ledger.get("aws", ARN)
    assert final is not None and final.idempotency_token is None
    assert [r.idempotency_token for r in ledger.scan()] == [None]


def _write_stored(ledger: Ledger, doc: dict[str, object]) -> None:
    """A record as an earlier version stored it: the document as it was, through the store's own
    client (the ledger's write path would add today's fields)."""
    import json

    text = json.dumps(doc, sort_keys=True)
    if isinstance(ledger, SqliteLedger):
        ledger._db.execute(
            "INSERT INTO resources VALUES (?, ?, ?, ?, ?)",
            (doc["provider"], doc["resource_id"], doc["state"], 1, text),
        )
        return
    from tagwarden.aws.ledger import DynamoLedger

    if isinstance(ledger, DynamoLedger):
        item = {
            "pk": {"S": f"aws#{doc['resource_id']}"},
            "state": {"S": str(doc["state"])},
            "version": {"N": "1"},
        }
        ledger._ddb.put_item(TableName=ledger._table, Item={**item, "doc": {"S": text}})
        return
    from tagwarden.azure.ledger import TableLedger, row_key

    assert isinstance(ledger, TableLedger)
    ledger._table.create_entity(
        {"PartitionKey": "aws", "RowKey": row_key("aws", str(doc["resource_id"])), "State": doc["state"],
         "Version": 1, "Doc": text}
    )  # fmt: skip


def test_a_record_stored_before_the_token_field_still_reads(ledger: Ledger) -> None:
    before = record(state=LifecycleState.RELEASED).to_json()
    del before["idempotency_token"]
    before["schema"] = 2
    _write_stored(ledger, before)
    got = ledger.get("aws", ARN)
    assert got is not None and got.idempotency_token is None
    assert got == record(state=LifecycleState.RELEASED)  # everything else as it was stored
    # and it moves on as any record does, now with the field
    ledger.update(replace(record(event_id="e-2", idempotency_token="7d1c-new"), version=2))
    again = ledger.get("aws", ARN)
    assert again is not None and again.idempotency_token == "7d1c-new"


def test_schema_2_lines_still_read() -> None:
    line = record().to_json()
    del line["idempotency_token"]
    line["schema"] = 2
    assert ResourceRecord.from_json(line) == record()
    assert record(idempotency_token="t").to_json()["schema"] == 3


def test_records_are_every_record_of_both_kinds_once(ledger: Ledger) -> None:
    """The read side (`LedgerReader.records`, what `tagwarden ledger export` writes)."""
    from tagwarden.ledger.ports import LedgerReader

    reader: LedgerReader = ledger  # type: ignore[assignment]  # every store is a reader too
    resources = [record(f"{ARN}-{i}") for i in range(5)] + [record(AZ, "azure", state=LifecycleState.GONE)]
    ledger.create_many(resources)
    usage = [
        UsageRecord(f"u/{i}", UsageKind.LLM, float(i), "openai", "gpt-4o", {"Agent-ID": "a"})
        for i in range(3)
    ]
    assert ledger.add_usage(usage) == 3
    got = list(reader.records())
    assert len(got) == 9
    assert sorted(r.to_json()["resource_id"] for r in got if isinstance(r, ResourceRecord)) == sorted(
        r.resource_id for r in resources
    )
    assert {r.to_json()["usage_id"] for r in got if isinstance(r, UsageRecord)} == {u.usage_id for u in usage}
    assert next(r for r in got if isinstance(r, ResourceRecord) and r.provider == "azure") == resources[-1]
