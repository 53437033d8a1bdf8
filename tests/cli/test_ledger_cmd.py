"""`tagwarden ledger show` and `ledger export`: the local SQLite ledger, and the deployed ones where
they live (DynamoDB on moto, Azure Table Storage on Azurite)."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from msgspec.structs import replace

from tagwarden.cli.main import main
from tagwarden.ledger.export import read_jsonl
from tagwarden.ledger.model import LifecycleState, ResourceRecord
from tagwarden.ledger.sqlite import SqliteLedger
from tagwarden_testing.records import aws_record, azure_record, usage_record

ARN = "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc1234"
RECORD = ResourceRecord(
    provider="aws", resource_id=ARN, account="123456789012", region="us-east-1",
    type="AWS::EC2::Instance", name=None, event_id="e-1", event_name="RunInstances",
    event_time="2026-12-01T10:00:00Z", actor={"kind": "assumed-role", "arn": "arn:aws:sts::1:assumed-role/r/agent-13"},
    tags={"Agent-ID": "13"}, sources={"Agent-ID": "actor:session_name"}, rule="agents-aws",
    rules_hash="ab" * 32, action="quarantine", state=LifecycleState.QUARANTINED, deadline=1_800_014_400.0,
    undo="state=running", recorded_at=1_800_000_000.0, ignored={"tagwarden:protect": "x"},
)  # fmt: skip


@pytest.fixture
def ledger_file(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.sqlite"
    store = SqliteLedger(path)
    store.create(RECORD)
    store.create(replace(RECORD, resource_id=ARN.replace("abc", "def"), state=LifecycleState.ACTIVE))
    store.close()
    return path


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), out, err), out.getvalue(), err.getvalue()


def test_show_by_id_or_its_end(ledger_file: Path) -> None:
    code, out, _ = cli("ledger", "show", "--ledger", str(ledger_file), "i-0abc1234")
    assert code == 0
    assert "state      quarantined" in out and "undo state=running" in out
    assert "tag        Agent-ID=13   from actor:session_name" in out
    assert "ignored    tagwarden:protect=x" in out
    code, out, _ = cli("ledger", "show", "--ledger", str(ledger_file), ARN, "--format", "json")
    assert code == 0 and ResourceRecord.from_json(json.loads(out)) == RECORD


def test_show_reads_the_ledger_named_by_the_environment(
    ledger_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAGWARDEN_LEDGER", str(ledger_file))
    assert cli("ledger", "show", ARN)[0] == 0


def test_unknown_or_ambiguous_resources_and_missing_ledgers_exit_2(ledger_file: Path, tmp_path: Path) -> None:
    code, _, err = cli("ledger", "show", "--ledger", str(ledger_file), "i-0nope")
    assert code == 2 and "no record for 'i-0nope'" in err
    code, _, err = cli("ledger", "show", "--ledger", str(ledger_file), "1234")
    assert code == 2 and "ends 2 resource ids" in err
    code, _, err = cli("ledger", "show", "--ledger", str(tmp_path / "none.sqlite"), ARN)
    assert code == 2 and "no ledger at" in err


@pytest.mark.parametrize("name", ["out.jsonl", "out.jsonl.gz"])
def test_export_round_trips(ledger_file: Path, tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    code, out, _ = cli(
        "ledger", "export", "--ledger", str(ledger_file), "--out", str(target), "--format", "json"
    )
    assert code == 0 and json.loads(out) == {"records": 2, "out": str(target)}
    got = list(read_jsonl(target))
    assert RECORD in got and len(got) == 2
    if name.endswith(".gz"):
        with gzip.open(target, "rt") as fh:
            assert fh.readline().startswith('{"account"')


def test_the_readme_commands_parse() -> None:
    import re
    import shlex

    from tagwarden.cli.main import build_parser

    from conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    section = readme.split("## The ledger\n", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    commands = [shlex.split(line.split("   #")[0]) for line in block.splitlines() if line.strip()]
    assert len(commands) == 7  # SQLite, then DynamoDB and Azure Table (run by the tests below)
    for argv in commands:
        assert argv[0] == ".venv/bin/tagwarden"
        args = build_parser().parse_args(argv[1:])
        assert args.command == "ledger" and args.run is not None


# --- the deployed ledgers: DynamoDB (moto), Azure Table Storage (Azurite) --------------------------

TABLE = "tagwarden-ledger"
AWS_RECORDS = [aws_record(n) for n in (1234, *range(6))]  # i-0abc1234: the README's example
AZURE_RECORDS = [azure_record(n) for n in range(1, 7)]
USAGE = [usage_record(n) for n in range(4)]
STORES = ("sqlite", "dynamodb", "azure-table")


@pytest.fixture(scope="module")
def azurite(azurite_tables: str) -> str:
    return azurite_tables  # tests/conftest.py


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The DynamoDB ledger on moto, filled; the AWS environment names its region, as an operator's does."""
    import boto3
    from moto import mock_aws

    from tagwarden.aws.ledger import DynamoLedger, create_table

    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        create_table(client, TABLE)
        store = DynamoLedger(client, TABLE)
        assert store.create_many(AWS_RECORDS) == [True] * len(AWS_RECORDS)
        assert store.add_usage(USAGE) == len(USAGE)
        yield f"dynamodb://{TABLE}"


@pytest.fixture
def azure_table(azurite: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> str:
    """A filled Azure Table ledger in Azurite, reached as an operator's shell would: the URL names
    the account and the table, AZURE_STORAGE_CONNECTION_STRING says how."""
    from azure.data.tables import TableServiceClient

    from tagwarden.azure.ledger import TableLedger

    name = "t" + re.sub(r"[^a-z0-9]", "", request.node.name.lower())[-40:]
    store = TableLedger(TableServiceClient.from_connection_string(azurite).create_table(name))
    assert store.create_many(AZURE_RECORDS) == [True] * len(AZURE_RECORDS)
    assert store.add_usage(USAGE) == len(USAGE)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite)
    return f"azure-table://devstoreaccount1/{name}"


def sqlite_ledger(path: Path, resources: list[ResourceRecord]) -> str:
    store = SqliteLedger(path)
    assert store.create_many(resources) == [True] * len(resources)
    store.add_usage(USAGE)
    store.close()
    return str(path)


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, list[ResourceRecord]]:
    """(--ledger, the resource records it holds) for each store; every one holds USAGE too."""
    if request.param == "sqlite":
        return sqlite_ledger(tmp_path / "ledger.sqlite", AWS_RECORDS), AWS_RECORDS
    if request.param == "dynamodb":
        return request.getfixturevalue("dynamodb"), AWS_RECORDS
    return request.getfixturevalue("azure_table"), AZURE_RECORDS


def lines(path: Path) -> list[str]:
    opener: Any = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return sorted(fh.read().splitlines())


def test_show_reads_each_store(store: tuple[str, list[ResourceRecord]]) -> None:
    spec, resources = store
    wanted = resources[2]
    code, out, err = cli("ledger", "show", "--ledger", spec, wanted.resource_id, "--format", "json")
    assert code == 0, err
    assert ResourceRecord.from_json(json.loads(out)) == wanted
    end = wanted.resource_id.rsplit("/", 1)[1]  # i-0abc0001 / VM-3: the end of an id, found by a scan
    code, out, err = cli("ledger", "show", "--ledger", spec, end, "--page-size", "2")
    assert code == 0, err
    assert out.startswith(wanted.resource_id + "\n") and f"state      {wanted.state.value}" in out
    code, _, err = cli("ledger", "show", "--ledger", spec, "i-0nope")
    assert code == 2 and "no record for 'i-0nope'" in err


def test_exports_of_every_store_are_the_same_lines(
    store: tuple[str, list[ResourceRecord]], tmp_path: Path
) -> None:
    """Paged (2 a page: DynamoDB Scan pages, Azure continuation) and line for line what the SQLite
    export writes for the same records: the format showback reads, whichever store wrote it."""
    spec, resources = store
    target = tmp_path / "out" / "ledger.jsonl.gz"
    code, out, err = cli(
        "ledger", "export", "--ledger", spec, "--out", str(target), "--page-size", "2", "--format", "json"
    )
    assert code == 0, err
    assert json.loads(out) == {"records": len(resources) + len(USAGE), "out": str(target)}
    assert err == ""  # piped: no progress
    reference = tmp_path / "reference.jsonl"
    ref = sqlite_ledger(tmp_path / "reference.sqlite", resources)
    assert cli("ledger", "export", "--ledger", ref, "--out", str(reference))[0] == 0
    assert lines(target) == lines(reference)
    assert sorted(read_jsonl(target), key=repr) == sorted([*resources, *USAGE], key=repr)
    assert [p.name for p in target.parent.iterdir()] == ["ledger.jsonl.gz"]  # no partial file left


def test_an_export_from_each_store_reads_back_through_showback(
    store: tuple[str, list[ResourceRecord]], tmp_path: Path
) -> None:
    duckdb = pytest.importorskip("duckdb")
    from tagwarden.showback.sources import load_ledger

    spec, resources = store
    target = tmp_path / "ledger.jsonl"
    assert cli("ledger", "export", "--ledger", spec, "--out", str(target))[0] == 0
    con = duckdb.connect()
    load_ledger(con, [target], tmp_path)
    got = con.execute("SELECT provider, resource_id, state, tags_json, creator FROM tw_ledger").fetchall()
    assert sorted(got) == sorted(
        (
            r.provider,
            r.resource_id,
            r.state.value,
            json.dumps(dict(r.tags), separators=(",", ":"), sort_keys=True),
            r.actor.get("arn") or r.actor.get("app_id"),
        )
        for r in resources
    )
    usage = con.execute("SELECT usage_id, platform, resource FROM tw_usage").fetchall()
    assert sorted(usage) == sorted((u.usage_id, u.platform, u.resource) for u in USAGE)


def test_export_to_stdout_streams_the_lines(dynamodb: str) -> None:
    code, out, err = cli("ledger", "export", "--ledger", dynamodb, "--out", "-", "--format", "json")
    assert code == 0 and json.loads(err) == {"records": len(AWS_RECORDS) + len(USAGE), "out": "-"}
    assert len(out.splitlines()) == len(AWS_RECORDS) + len(USAGE)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_only(dynamodb: str, tmp_path: Path) -> None:
    pytest.importorskip("rich")
    out, err = io.StringIO(), Terminal()
    code = main(["ledger", "export", "--ledger", dynamodb, "--out", str(tmp_path / "a.jsonl")], out, err)
    assert code == 0 and "records" in err.getvalue() and "exporting" in err.getvalue()
    out, err = io.StringIO(), Terminal()
    argv = ["ledger", "export", "--ledger", dynamodb, "--out", str(tmp_path / "b.jsonl"), "--no-progress"]
    assert main(argv, out, err) == 0 and err.getvalue() == ""


# --- what an operator needs: the calls the CLI makes, and the README's list of them -----------------


def readme_ledger_section() -> str:
    from conftest import ROOT

    return (ROOT / "README.md").read_text().split("## The ledger\n", 1)[1].split("\n## ", 1)[0]


def test_the_operators_aws_permissions_are_the_calls_made(
    dynamodb: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # the CLI's client comes from a fresh session
    boto3.setup_default_session()
    calls: list[str] = []
    boto3.DEFAULT_SESSION.events.register(  # type: ignore[union-attr]
        "before-call.dynamodb", lambda model, **_: calls.append(model.name)
    )
    arn = AWS_RECORDS[0].resource_id
    assert cli("ledger", "show", "--ledger", dynamodb, arn)[0] == 0
    assert cli("ledger", "show", "--ledger", dynamodb, "i-0abc0003")[0] == 0
    assert cli("ledger", "export", "--ledger", dynamodb, "--out", "-", "--page-size", "3")[0] == 0
    assert calls.count("Scan") > 3  # the export paged
    documented = set(re.findall(r"`dynamodb:(\w+)`", readme_ledger_section()))
    assert documented == set(calls) == {"GetItem", "Scan"}


def test_the_operators_azure_permission_is_reading_entities(
    azure_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azure.core.pipeline.transport import RequestsTransport

    methods: list[str] = []
    send = RequestsTransport.send

    def recording(self: Any, request: Any, **kwargs: Any) -> Any:
        methods.append(request.method)
        return send(self, request, **kwargs)

    monkeypatch.setattr(RequestsTransport, "send", recording)
    rid = AZURE_RECORDS[0].resource_id
    assert cli("ledger", "show", "--ledger", azure_table, rid)[0] == 0
    assert cli("ledger", "show", "--ledger", azure_table, "VM-4")[0] == 0
    assert cli("ledger", "export", "--ledger", azure_table, "--out", "-", "--page-size", "3")[0] == 0
    assert len(methods) > 4 and set(methods) == {"GET"}  # reads of entities, nothing else
    section = readme_ledger_section()
    assert "tableServices/tables/entities/read" in section and "Storage Table Data Reader" in section


# --- the README's commands for the deployed ledgers run as written ---------------------------------


def readme_commands(scheme: str) -> list[list[str]]:
    import shlex

    (block,) = re.findall(r"```sh\n(.*?)```", readme_ledger_section(), flags=re.S)
    found = [shlex.split(line.split("   #")[0]) for line in block.splitlines() if f"{scheme}://" in line]
    assert found and all(argv[0] == ".venv/bin/tagwarden" for argv in found)
    return [argv[1:] for argv in found]


def test_the_readme_dynamodb_examples_run(
    dynamodb: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    outputs = []
    for argv in readme_commands("dynamodb"):
        code, out, err = cli(*(a.replace("$LEDGER_TABLE", TABLE) for a in argv))
        assert code == 0, err
        outputs.append(out)
    assert ResourceRecord.from_json(json.loads(outputs[0])) == AWS_RECORDS[0]  # i-0abc1234
    assert len(list(read_jsonl(tmp_path / "aws-ledger.jsonl.gz"))) == len(AWS_RECORDS) + len(USAGE)


def test_the_readme_azure_examples_run(
    azure_table: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README names the deployment's table, `tagwardenledger`; here it is Azurite's."""
    from azure.data.tables import TableServiceClient

    from tagwarden.azure.ledger import TableLedger

    service = TableServiceClient.from_connection_string(os.environ["AZURE_STORAGE_CONNECTION_STRING"])
    service.delete_table("tagwardenledger")
    store = TableLedger(service.create_table("tagwardenledger"))
    store.create_many(AZURE_RECORDS)
    monkeypatch.chdir(tmp_path)
    outputs = []
    for argv in readme_commands("azure-table"):
        code, out, err = cli(*(a.replace("$STORAGE_ACCOUNT", "devstoreaccount1") for a in argv))
        assert code == 0, err
        outputs.append(out)
    assert outputs[0].startswith(AZURE_RECORDS[0].resource_id + "\n")  # VM-1
    assert sorted(read_jsonl(tmp_path / "azure-ledger.jsonl"), key=repr) == sorted(AZURE_RECORDS, key=repr)


def test_an_export_through_a_symlink_writes_its_target(ledger_file: Path, tmp_path: Path) -> None:
    """The rename that keeps a failed export from looking whole never replaces a link (or
    /dev/stdout) by a file: such a target is written through."""
    real = tmp_path / "shared" / "ledger.jsonl"
    real.parent.mkdir()
    real.write_text("old\n")
    link = tmp_path / "latest.jsonl"
    link.symlink_to(real)
    assert cli("ledger", "export", "--ledger", str(ledger_file), "--out", str(link))[0] == 0
    assert link.is_symlink() and len(list(read_jsonl(real))) == 2


def test_a_read_refused_half_way_leaves_the_last_export_whole(
    dynamodb: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DynamoDB throttles the third page past boto3's retries: exit 2, and the file a showback job
    reads is still the previous, complete export (no short one, no partial file beside it)."""
    import boto3
    from botocore.exceptions import ClientError

    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    boto3.setup_default_session()
    pages = []

    def third_page_refused(**_: Any) -> None:
        pages.append(1)
        if len(pages) == 3:
            error = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}
            raise ClientError(error, "Scan")  # type: ignore[arg-type]

    boto3.DEFAULT_SESSION.events.register("before-call.dynamodb.Scan", third_page_refused)  # type: ignore[union-attr]
    target = tmp_path / "ledger.jsonl.gz"
    with gzip.open(target, "wt") as fh:
        fh.write("the previous export\n")
    code, _, err = cli("ledger", "export", "--ledger", dynamodb, "--out", str(target), "--page-size", "2")
    assert code == 2 and "ProvisionedThroughputExceededException" in err
    assert len(pages) == 3  # two pages were read and written before the refusal
    assert lines(target) == ["the previous export"] and [p.name for p in tmp_path.iterdir()] == [target.name]
