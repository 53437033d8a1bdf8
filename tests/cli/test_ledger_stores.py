"""Naming a ledger: a path, `dynamodb://TABLE` or `azure-table://ACCOUNT/TABLE`; anything else, and
a store that cannot be read (no table, no region, the wrong account or key), exits 2 saying why."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from tagwarden.cli.ledger_stores import open_store
from tagwarden.cli.main import main
from tagwarden_testing.azurite import ACCOUNT_KEY

ARN = "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc0001"


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), out, err), out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def azurite(azurite_tables: str) -> str:
    return azurite_tables  # tests/conftest.py


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        (
            "s3://bucket/ledger.jsonl",
            "unknown scheme s3:// (a SQLite file path, dynamodb://, azure-table://)",
        ),
        ("postgresql://db/ledger", "unknown scheme postgresql://"),
        ("DynamoDB://tagwarden-ledger?region=eu-west-1", "no ?query or #fragment"),
        ("dynamodb://ab", "expected dynamodb://TABLE"),
        ("dynamodb://tagwarden-ledger/extra", "expected dynamodb://TABLE"),
        ("dynamodb://", "expected dynamodb://TABLE"),
        ("azure-table://account", "expected azure-table://ACCOUNT/TABLE"),
        ("azure-table:///tagwardenledger", "expected azure-table://ACCOUNT/TABLE"),
        ("azure-table://account/tagwarden-ledger", "expected azure-table://ACCOUNT/TABLE"),
    ],
)
@pytest.mark.parametrize("command", ["show", "export"])
def test_a_ledger_that_cannot_be_named_exits_2(spec: str, says: str, command: str, tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    args = [ARN] if command == "show" else ["--out", str(target)]
    code, out, err = cli("ledger", command, "--ledger", spec, *args)
    assert code == 2 and says in err and out == ""
    assert not target.exists()


def test_the_environment_variable_stays_a_sqlite_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAGWARDEN_LEDGER", "dynamodb://tagwarden-ledger")
    code, _, err = cli("ledger", "show", ARN)
    assert code == 2 and "names a SQLite file; name a deployed ledger with --ledger" in err


def test_a_file_that_is_no_sqlite_ledger_exits_2(tmp_path: Path) -> None:
    bogus = tmp_path / "ledger.sqlite"
    bogus.write_text("not a database, but long enough to have a header page " * 20)
    code, _, err = cli("ledger", "show", "--ledger", str(bogus), ARN)
    assert code == 2 and f"cannot read the SQLite ledger {bogus}" in err


# --- DynamoDB -------------------------------------------------------------------------------------


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from moto import mock_aws

    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    with mock_aws():
        yield


def test_a_missing_dynamodb_table_exits_2_naming_table_and_region(aws: None, tmp_path: Path) -> None:
    code, _, err = cli("ledger", "show", "--ledger", "dynamodb://no-such-table", ARN)
    assert code == 2 and "no DynamoDB table 'no-such-table' in eu-west-1" in err
    target = tmp_path / "ledger.jsonl.gz"
    code, _, err = cli("ledger", "export", "--ledger", "dynamodb://no-such-table", "--out", str(target))
    assert code == 2 and "no DynamoDB table 'no-such-table' in eu-west-1" in err
    assert list(tmp_path.iterdir()) == []  # no file, not even an empty or partial one


def test_no_aws_region_exits_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code, _, err = cli("ledger", "show", "--ledger", "dynamodb://tagwarden-ledger", ARN)
    assert code == 2 and "no AWS region (set AWS_REGION" in err


def test_aws_region_comes_first_as_the_aws_command_takes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "ap-southeast-2")
    store = open_store("dynamodb://tagwarden-ledger", {"AWS_REGION": "ap-southeast-2"})
    try:
        assert "in ap-southeast-2" in store.explain(RuntimeError("x"))
    finally:
        store.close()


# --- Azure Table Storage --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "endpoint"),
    [
        ("azure-table://tagwardenst1/tagwardenledger", "https://tagwardenst1.table.core.windows.net"),
        ("azure-table://tagwardenst1.table.core.usgovcloudapi.net/ledger", "https://tagwardenst1.table.core.usgovcloudapi.net"),
    ],
)  # fmt: skip
def test_an_azure_account_or_host_names_the_endpoint(spec: str, endpoint: str) -> None:
    store = open_store(spec, {"AZURE_STORAGE_KEY": ACCOUNT_KEY})  # no request is made to open it
    try:
        assert f"at {endpoint}" in store.explain(RuntimeError("x"))
    finally:
        store.close()


def test_a_missing_azure_table_exits_2(azurite: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite)
    code, _, err = cli("ledger", "show", "--ledger", "azure-table://devstoreaccount1/nosuchtable", ARN)
    assert code == 2 and "no table 'nosuchtable' at http://127.0.0.1:" in err
    target = tmp_path / "x.jsonl"
    code, _, err = cli(
        "ledger", "export", "--ledger", "azure-table://devstoreaccount1/nosuchtable", "--out", str(target)
    )
    assert code == 2 and "no table 'nosuchtable'" in err and list(tmp_path.iterdir()) == []


def test_a_connection_string_for_another_account_is_refused(
    azurite: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite)
    code, _, err = cli("ledger", "show", "--ledger", "azure-table://prodledger/tagwardenledger", ARN)
    assert code == 2 and "is for account 'devstoreaccount1', not 'prodledger'" in err


def test_a_wrong_azure_key_exits_2_naming_the_role(azurite: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from azure.data.tables import TableServiceClient

    TableServiceClient.from_connection_string(azurite).create_table_if_not_exists("keyed")
    wrong = azurite.replace(ACCOUNT_KEY, "d3Jvbmc=" * 11)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", wrong)
    code, _, err = cli("ledger", "export", "--ledger", "azure-table://devstoreaccount1/keyed", "--out", "-")
    assert code == 2 and "cannot read the table 'keyed'" in err and "Storage Table Data Reader" in err
