"""Naming a ledger on the command line: a SQLite file, `dynamodb://TABLE`, `azure-table://ACCOUNT/TABLE`.

A path is the local SQLite file, as it always was. A deployed ledger is a URL whose scheme names
the store, the way `s3://` names a bucket for the AWS CLI and for `tagwarden replay`/`showback`:
the URL says *which* ledger, and the cloud's usual environment says *how to reach it*:

- `dynamodb://TABLE`: boto3's own chain (AWS_PROFILE, AWS_REGION or AWS_DEFAULT_REGION,
  AWS_ENDPOINT_URL_DYNAMODB, SSO, instance roles ...), what the `aws` command would use;
- `azure-table://ACCOUNT/TABLE` (`https://ACCOUNT.table.core.windows.net`), or
  `azure-table://HOST/TABLE` for another endpoint (a host with a dot: sovereign clouds, private
  endpoints): the variables the `az storage` commands read, AZURE_STORAGE_CONNECTION_STRING
  (Azurite; its account must be ACCOUNT), AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN, else
  DefaultAzureCredential (`az login`, a managed identity, a service principal's variables).

Each store comes with the errors its SDK raises and what they mean to the user (exit 2): a missing
table, no credentials, no permission. SDKs are imported only for their scheme.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

from tagwarden.cli.common import InputError
from tagwarden.ledger.ports import LedgerReader

URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
DYNAMODB_TABLE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")  # DynamoDB's rule for table names
AZURE_TABLE = re.compile(r"^[A-Za-z][A-Za-z0-9]{2,62}$")  # Table Storage's rule
AZURE_DOMAIN = "table.core.windows.net"

# The Azure variables the `az storage` commands read (an operator has them set already).
AZ_CONNECTION = "AZURE_STORAGE_CONNECTION_STRING"
AZ_KEY = "AZURE_STORAGE_KEY"
AZ_SAS = "AZURE_STORAGE_SAS_TOKEN"


@dataclass
class Store:
    """An opened ledger: the reader, how to let it go, and its SDK's errors in the user's words."""

    reader: LedgerReader
    errors: tuple[type[BaseException], ...]
    explain: Callable[[BaseException], str]
    close: Callable[[], None] = field(default=lambda: None)


def is_url(spec: str) -> bool:
    return URL.match(spec) is not None


@contextmanager
def opened(spec: str, env: Mapping[str, str], page_size: int | None = None) -> Iterator[LedgerReader]:
    """The reader `spec` names; a store's failure while it is read becomes an InputError (exit 2)."""
    store = open_store(spec, env, page_size)
    try:
        yield store.reader
    except store.errors as exc:
        raise InputError(store.explain(exc)) from exc
    finally:
        store.close()


def open_store(spec: str, env: Mapping[str, str], page_size: int | None = None) -> Store:
    match = URL.match(spec)
    if match is None:
        return _sqlite(spec)
    scheme = match.group(1).lower()
    opener = SCHEMES.get(scheme)
    if opener is None:
        known = ", ".join(f"{s}://" for s in SCHEMES)
        raise InputError(f"--ledger {spec}: unknown scheme {scheme}:// (a SQLite file path, {known})")
    url = urlsplit(spec)
    if url.query or url.fragment:
        raise InputError(f"--ledger {spec}: no ?query or #fragment (the environment configures the client)")
    return opener(spec, url, env, page_size)


# --- SQLite: the local file -------------------------------------------------------------------------


def _sqlite(path: str) -> Store:
    from tagwarden.ledger.sqlite import LEDGER_ENV, SqliteLedger

    if path != ":memory:" and not Path(path).is_file():
        raise InputError(f"no ledger at {path} (set --ledger or {LEDGER_ENV})")

    def explain(exc: BaseException) -> str:
        return f"cannot read the SQLite ledger {path}: {exc}"

    try:
        ledger = SqliteLedger(path)
    except sqlite3.DatabaseError as exc:
        raise InputError(explain(exc)) from exc
    return Store(ledger, (sqlite3.DatabaseError,), explain, ledger.close)


# --- DynamoDB ---------------------------------------------------------------------------------------


def _dynamodb(spec: str, url: SplitResult, env: Mapping[str, str], page_size: int | None) -> Store:
    table = url.netloc
    if url.path not in ("", "/") or not DYNAMODB_TABLE.match(table):
        raise InputError(f"--ledger {spec}: expected dynamodb://TABLE (3-255 of A-Z a-z 0-9 _ . -)")
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError, NoRegionError
    except ImportError as exc:
        raise InputError("reading dynamodb:// needs boto3: pip install 'tagwarden[aws]'") from exc
    from tagwarden.aws.ledger import DynamoLedger

    try:
        # profile, region, endpoint, retries: the AWS environment; AWS_REGION first, as the aws
        # command (v2) and the other SDKs take it (botocore itself reads AWS_DEFAULT_REGION)
        client = boto3.client("dynamodb", region_name=env.get("AWS_REGION") or None)
    except NoRegionError as exc:
        raise InputError(
            f"--ledger {spec}: no AWS region (set AWS_REGION, or a region in the profile)"
        ) from exc
    where = f"DynamoDB table {table!r} in {client.meta.region_name}"

    def explain(exc: BaseException) -> str:
        code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""
        if code == "ResourceNotFoundException":
            return f"no {where} (is the region right? the stack's output LedgerTableName names it)"
        if code in ("AccessDeniedException", "UnrecognizedClientException"):
            return f"cannot read the {where}: {exc} (the ledger CLI needs dynamodb:GetItem and dynamodb:Scan)"
        return f"cannot read the {where}: {exc}"

    return Store(
        DynamoLedger(client, table, page_size=page_size), (ClientError, BotoCoreError), explain, client.close
    )


# --- Azure Table Storage ----------------------------------------------------------------------------


def _azure_table(spec: str, url: SplitResult, env: Mapping[str, str], page_size: int | None) -> Store:
    host, table = url.netloc, url.path.strip("/")
    if not host or not AZURE_TABLE.match(table):
        raise InputError(
            f"--ledger {spec}: expected azure-table://ACCOUNT/TABLE (the table: a letter, then 2-62 letters "
            "or digits)"
        )
    try:
        from azure.core.exceptions import AzureError
        from azure.data.tables import TableClient, TableServiceClient
    except ImportError as exc:
        raise InputError(
            "reading azure-table:// needs azure-data-tables: pip install 'tagwarden[azure]'"
        ) from exc
    from tagwarden.azure.ledger import TableLedger

    account = host.split(".", 1)[0].split(":", 1)[0]
    credential: Any = None
    if env.get(AZ_CONNECTION):
        service = TableServiceClient.from_connection_string(env[AZ_CONNECTION])
        named = str(service.account_name or "")
        if named.lower() != account.lower():
            raise InputError(f"--ledger {spec}: {AZ_CONNECTION} is for account {named!r}, not {account!r}")
        client = service.get_table_client(table)
    else:
        credential = _azure_credential(account, env)
        endpoint = f"https://{host}" if "." in host else f"https://{host}.{AZURE_DOMAIN}"
        client = TableClient(endpoint=endpoint, table_name=table, credential=credential)
    where = f"table {table!r} at {client.url}"

    def explain(exc: BaseException) -> str:
        from azure.core.exceptions import ClientAuthenticationError, ResourceNotFoundError

        if isinstance(exc, ResourceNotFoundError):
            return f"no {where} (the deployment's table is tagwardenledger)"
        status = getattr(exc, "status_code", None)
        if isinstance(exc, ClientAuthenticationError) or status == 403:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return (
                f"cannot read the {where}: {first} (az login, or {AZ_CONNECTION} / {AZ_KEY}; "
                "the role Storage Table Data Reader)"
            )
        return f"cannot read the {where}: {exc}"

    def close() -> None:
        client.close()
        if hasattr(credential, "close"):
            credential.close()

    return Store(TableLedger(client, page_size=page_size), (AzureError,), explain, close)


def _azure_credential(account: str, env: Mapping[str, str]) -> Any:
    if env.get(AZ_KEY):
        from azure.core.credentials import AzureNamedKeyCredential

        return AzureNamedKeyCredential(account, env[AZ_KEY])
    if env.get(AZ_SAS):
        from azure.core.credentials import AzureSasCredential

        return AzureSasCredential(env[AZ_SAS])
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError as exc:
        raise InputError(
            f"reading azure-table:// without {AZ_CONNECTION} or {AZ_KEY} needs azure-identity: "
            "pip install 'tagwarden[azure]'"
        ) from exc
    # each credential it tries logs a warning when it fails: the one line of the error says enough
    logging.getLogger("azure.identity").setLevel(logging.ERROR)
    return DefaultAzureCredential()


# The schemes `--ledger` knows: one row per deployed store.
SCHEMES: dict[str, Callable[[str, SplitResult, Mapping[str, str], int | None], Store]] = {
    "dynamodb": _dynamodb,
    "azure-table": _azure_table,
}
