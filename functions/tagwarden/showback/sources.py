"""Reading the inputs into DuckDB: FOCUS cost exports and the ledger, as normalized tables.

`tw_costs`  one row per FOCUS row: provider, account, service, resource_id, charge period, billed /
            effective cost as DECIMAL(38,15), and the row's Tags as a JSON object text (NULL when absent
            or not a JSON object; `tags_invalid` marks the second).
`tw_ledger` one row per ResourceRecord: provider, resource_id, tags_json (the attribution), creator.
`tw_usage`  one row per UsageRecord.

Inputs are local files, globs, folders, or `s3://bucket/prefix` (fetched by an adapter, aws/s3.py,
into a temporary folder first).
"""

from __future__ import annotations

import glob as globlib
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msgspec.structs import replace

from tagwarden.ledger.export import write_jsonl

if TYPE_CHECKING:
    import duckdb

    from tagwarden.ledger.ports import Ledger

MONEY = "DECIMAL(38,15)"
COST_SUFFIXES = (".csv", ".csv.gz", ".parquet")
LEDGER_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz", ".parquet")

# Normalized cost column -> the FOCUS 1.0 column it comes from. Only BilledCost and
# ChargePeriodStart are required; a missing optional column reads as NULL.
FOCUS_COLUMNS: dict[str, str] = {
    "provider": "ProviderName",
    "account": "SubAccountId",
    "account_name": "SubAccountName",
    "service": "ServiceName",
    "resource_id": "ResourceId",
    "sku_id": "SkuId",
    "charge_description": "ChargeDescription",
    "currency": "BillingCurrency",
}
REQUIRED = ("BilledCost", "ChargePeriodStart")

LEDGER_JSON_COLUMNS = {
    "record": "VARCHAR",
    "provider": "VARCHAR",
    "resource_id": "VARCHAR",
    "account": "VARCHAR",
    "state": "VARCHAR",
    "event_time": "VARCHAR",
    "recorded_at": "DOUBLE",
    "tagged_at": "DOUBLE",
    "gone_at": "DOUBLE",
    "version": "BIGINT",
    "actor": "JSON",
    "tags": "JSON",
    "usage_id": "VARCHAR",
    "kind": "VARCHAR",
    "time": "DOUBLE",
    "platform": "VARCHAR",
    "resource": "VARCHAR",
    "attribution": "JSON",
    "quantities": "JSON",
    "source": "VARCHAR",
}
_CREATOR = ("arn", "upn", "app_id", "object_id", "principal_id")


class InputError(ValueError):
    """An input we cannot read; the message names the file (and the column or line)."""


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sql_list(paths: Sequence[Path]) -> str:
    return "[" + ", ".join(_sql_str(str(p)) for p in paths) + "]"


# Fetches the files under a remote prefix (s3://...) into a folder: an adapter's (aws/s3.py).
Fetch = Callable[[str, tuple[str, ...], Path], list[Path]]


def expand(
    specs: Iterable[str], suffixes: tuple[str, ...], workdir: Path, fetch: Fetch | None = None
) -> list[Path]:
    """Files named by paths, globs, folders (searched recursively) or s3:// prefixes, sorted."""
    out: list[Path] = []
    for spec in specs:
        if spec.startswith("s3://"):
            if fetch is None:
                raise InputError(f"{spec}: reading s3:// needs the AWS adapter (tagwarden[showback])")
            found = fetch(spec, suffixes, workdir)
        elif any(ch in spec for ch in "*?["):
            found = [Path(p) for p in sorted(globlib.glob(spec, recursive=True)) if Path(p).is_file()]
        elif Path(spec).is_dir():
            found = sorted(p for p in Path(spec).rglob("*") if p.is_file() and p.name.endswith(suffixes))
        elif Path(spec).is_file():
            found = [Path(spec)]
        else:
            raise InputError(f"{spec}: no such file or folder")
        if not found:
            raise InputError(f"{spec}: no {' / '.join(suffixes)} files")
        out.extend(found)
    return out


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    return {str(r[0]): str(r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}


def _json_text(column: str, kind: str) -> str:
    """A tags-like column as JSON object text: MAP/STRUCT are converted, text is checked."""
    if kind.startswith(("MAP", "STRUCT")):
        return f"CAST(to_json({column}) AS VARCHAR)"
    text = f"CAST({column} AS VARCHAR)"
    return f"CASE WHEN json_valid({text}) AND json_type({text}) = 'OBJECT' THEN {text} END"


def load_costs(con: duckdb.DuckDBPyConnection, paths: Sequence[Path]) -> None:
    """Create the table tw_costs from FOCUS CSV / CSV.gz / Parquet files (any mix)."""
    csvs = [p for p in paths if p.name.endswith((".csv", ".csv.gz"))]
    parquets = [p for p in paths if p.name.endswith(".parquet")]
    others = [p for p in paths if p not in csvs and p not in parquets]
    if others:
        raise InputError(f"{others[0]}: not a FOCUS export (.csv, .csv.gz or .parquet)")
    selects = []
    if csvs:
        raw = (
            f"read_csv({_sql_list(csvs)}, header = true, all_varchar = true, union_by_name = true, "
            "nullstr = ['', 'NULL'], filename = true)"
        )
        selects.append(_normalize(con, raw, csvs))
    if parquets:
        raw = f"read_parquet({_sql_list(parquets)}, union_by_name = true, filename = true)"
        selects.append(_normalize(con, raw, parquets))
    con.execute("SET TimeZone = 'UTC'")  # FOCUS times without an offset are UTC
    con.execute("CREATE OR REPLACE TEMP TABLE tw_costs AS " + " UNION ALL ".join(selects))
    bad = con.execute(
        "SELECT bad_file, bad_column, bad_value FROM tw_costs WHERE bad_column IS NOT NULL LIMIT 1"
    ).fetchone()
    if bad:
        what = "a time" if bad[1] == "ChargePeriodStart" else "a decimal"
        raise InputError(f"{bad[0]}: {bad[1]} {bad[2]!r} is not {what}")


def _normalize(con: duckdb.DuckDBPyConnection, raw: str, paths: Sequence[Path]) -> str:
    """One pass over the files: typed columns, and the first bad value of each row kept for the error."""
    cols = _columns(con, raw)
    missing = [c for c in REQUIRED if c not in cols]
    if missing:
        raise InputError(f"{paths[0]}: not FOCUS: no {', '.join(missing)} column")
    fields = [
        f'CAST("{src}" AS VARCHAR) AS {dst}' if src in cols else f"CAST(NULL AS VARCHAR) AS {dst}"
        for dst, src in FOCUS_COLUMNS.items()
    ]
    start = "CAST(TRY_CAST(\"ChargePeriodStart\" AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP)"
    end = (
        "CAST(TRY_CAST(\"ChargePeriodEnd\" AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP)"
        if "ChargePeriodEnd" in cols
        else f"{start} + INTERVAL 1 HOUR"
    )
    effective = '"EffectiveCost"' if "EffectiveCost" in cols else "NULL"
    if "Tags" in cols:
        tags = _json_text('"Tags"', cols["Tags"])
        invalid = f'("Tags" IS NOT NULL AND {tags} IS NULL)'
    else:
        tags, invalid = "CAST(NULL AS VARCHAR)", "false"
    inner = (
        f"SELECT {', '.join(fields)}, {start} AS charge_start, {end} AS charge_end, "
        f'TRY_CAST("BilledCost" AS {MONEY}) AS billed, TRY_CAST({effective} AS {MONEY}) AS effective, '
        f'{tags} AS tags_json, {invalid} AS tags_invalid, CAST("BilledCost" AS VARCHAR) AS raw_billed, '
        f'CAST({effective} AS VARCHAR) AS raw_effective, CAST("ChargePeriodStart" AS VARCHAR) AS raw_start, '
        f"filename AS raw_file FROM {raw}"
    )
    bad = (
        "CASE WHEN raw_billed IS NOT NULL AND billed IS NULL THEN 'BilledCost' "
        "WHEN raw_effective IS NOT NULL AND effective IS NULL THEN 'EffectiveCost' "
        "WHEN charge_start IS NULL THEN 'ChargePeriodStart' END"
    )
    names = ", ".join(FOCUS_COLUMNS)
    return (
        f"SELECT {names}, charge_start, charge_end, COALESCE(billed, 0) AS billed, "
        f"COALESCE(effective, 0) AS effective, tags_json, tags_invalid, {bad} AS bad_column, "
        f"CASE {bad} WHEN 'BilledCost' THEN raw_billed WHEN 'EffectiveCost' THEN raw_effective "
        f"WHEN 'ChargePeriodStart' THEN raw_start END AS bad_value, "
        f"CASE WHEN {bad} IS NOT NULL THEN raw_file END AS bad_file FROM ({inner})"
    )


def load_ledger(con: duckdb.DuckDBPyConnection, sources: Sequence[Path | Ledger], workdir: Path) -> None:
    """Create tw_ledger and tw_usage from ledger exports (JSON lines, Parquet), SQLite files or stores."""
    jsonl: list[Path] = []
    parquet: list[Path] = []
    for n, source in enumerate(sources):
        if not isinstance(source, Path):
            jsonl.append(_dump(source, workdir / f"ledger-{n}.jsonl"))
        elif source.name.endswith(".parquet"):
            parquet.append(source)
        elif source.name.endswith((".jsonl", ".jsonl.gz", ".json", ".json.gz")):
            jsonl.append(source)
        elif _is_sqlite(source):
            jsonl.append(_sqlite_docs(source, workdir / f"ledger-{n}.jsonl"))
        else:
            raise InputError(f"{source}: not a ledger (SQLite file, .jsonl[.gz] or .parquet export)")
    parts = []
    if jsonl:
        columns = (
            "{" + ", ".join(f"{_sql_str(k)}: {_sql_str(v)}" for k, v in LEDGER_JSON_COLUMNS.items()) + "}"
        )
        parts.append(
            _ledger_select(
                con,
                f"read_json({_sql_list(jsonl)}, format = 'newline_delimited', columns = {columns})",
                str(jsonl[0]),
            )
        )
    if parquet:
        parts.append(
            _ledger_select(con, f"read_parquet({_sql_list(parquet)}, union_by_name = true)", str(parquet[0]))
        )
    if not parts:
        parts.append(_ledger_select(con, _empty_ledger(), "(none)"))
    con.execute("CREATE OR REPLACE TEMP TABLE tw_ledger_all AS " + " UNION ALL BY NAME ".join(parts))
    creator = ", ".join(f"json_extract_string(actor, '$.{k}')" for k in _CREATOR)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE tw_ledger AS SELECT provider, resource_id, account, state, event_time, "
        f"recorded_at, version, tagged_at, gone_at, tags AS tags_json, COALESCE({creator}) AS creator "
        "FROM tw_ledger_all WHERE record = 'resource' AND resource_id IS NOT NULL "
        # one record per resource, its latest version (a store's versions only grow, a renewed
        # lifecycle's too), as Athena's tw_ledger view keeps it; clocks never decide within a resource
        "QUALIFY ROW_NUMBER() OVER (PARTITION BY provider, resource_id "
        "ORDER BY version DESC NULLS LAST, recorded_at DESC) = 1"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE tw_usage AS SELECT usage_id, kind, time, platform, resource, "
        "attribution, quantities, source FROM tw_ledger_all WHERE record = 'usage'"
    )
    con.execute("DROP TABLE tw_ledger_all")


def _empty_ledger() -> str:
    cols = ", ".join(f"CAST(NULL AS {v}) AS {k}" for k, v in LEDGER_JSON_COLUMNS.items())
    return f"(SELECT {cols} WHERE false)"


def _ledger_select(con: duckdb.DuckDBPyConnection, raw: str, where: str) -> str:
    cols = _columns(con, raw)
    if "record" not in cols:
        raise InputError(f"{where}: not a ledger export (no `record` column)")
    out = []
    for name, kind in LEDGER_JSON_COLUMNS.items():
        if name not in cols:
            out.append(f"CAST(NULL AS {'VARCHAR' if kind == 'JSON' else kind}) AS {name}")
        elif kind == "JSON":
            out.append(f"{_json_text(name, cols[name])} AS {name}")
        else:
            out.append(f"CAST({name} AS {kind}) AS {name}")
    return f"SELECT {', '.join(out)} FROM {raw}"


def _dump(ledger: Ledger, path: Path) -> Path:
    """A store's records as JSON lines (the export format) for DuckDB to read in one pass."""
    with path.open("w", encoding="utf-8") as fh:
        write_jsonl(_records(ledger), fh)
    return path


def _records(ledger: Ledger) -> Iterator[Any]:
    for r in ledger.scan():
        # plain dicts: ResourceRecord.to_json on main uses asdict, which cannot copy a mappingproxy
        yield replace(r, actor=dict(r.actor), tags=dict(r.tags), sources=dict(r.sources))
    yield from ledger.usage()


def _sqlite_docs(path: Path, dest: Path) -> Path:
    """A SqliteLedger file as JSON lines. Its rows keep each record's JSON form whole (`doc`), which is
    the export format, so they are copied as they are; a file without that layout goes through the
    store's port (slower: every record parsed and written again)."""
    import sqlite3

    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        with dest.open("w", encoding="utf-8") as fh:
            for table in ("resources", "usage"):
                for (doc,) in db.execute(f"SELECT doc FROM {table}"):  # table names are ours
                    fh.write(doc.replace("\n", " ") + "\n")
        return dest
    except sqlite3.DatabaseError:
        pass
    finally:
        db.close()
    from tagwarden.ledger.sqlite import SqliteLedger

    store = SqliteLedger(path)
    try:
        return _dump(store, dest)
    finally:
        store.close()


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(16) == b"SQLite format 3\x00"
    except OSError as exc:
        raise InputError(f"{path}: {exc}") from exc


def ledger_to_parquet(source: Path | Ledger, dest: Path) -> Path:
    """Write a ledger (store or JSON lines) as the Parquet export showback reads (JSON columns as text)."""
    import duckdb

    con = duckdb.connect()
    with tempfile.TemporaryDirectory() as tmp:
        src = source if isinstance(source, Path) else _dump(source, Path(tmp) / "ledger.jsonl")
        columns = (
            "{" + ", ".join(f"{_sql_str(k)}: {_sql_str(v)}" for k, v in LEDGER_JSON_COLUMNS.items()) + "}"
        )
        con.execute(
            f"COPY (SELECT * FROM read_json({_sql_str(str(src))}, format = 'newline_delimited', "
            f"columns = {columns})) TO {_sql_str(str(dest))} (FORMAT parquet)"
        )
    con.close()
    return dest


def usage_records(rows: Iterable[tuple[Any, ...]]) -> Iterator[Any]:
    """UsageRecords from tw_usage rows, columns in the order of query.Plan.usage_source."""
    from tagwarden.ledger.model import UsageRecord

    for usage_id, kind, time, platform, resource, attribution, quantities, source in rows:
        yield UsageRecord.from_json(
            {
                "usage_id": usage_id,
                "kind": kind,
                "time": time,
                "platform": platform,
                "resource": resource,
                "attribution": json.loads(attribution) if attribution else {},
                "quantities": json.loads(quantities) if quantities else {},
                "source": source or "",
            }
        )
