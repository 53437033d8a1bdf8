"""Showback at organization scale: Amazon Athena over the FOCUS export and the ledger's S3 export.

`ddl()` returns the statements to run once (tables with partition projection, so new months and
days need no crawler, and the views that give Athena the same tw_costs / tw_ledger / tw_usage
relations that sources.py builds in DuckDB). `athena_report()` (aws/athena.py, the adapter) then
runs the very queries of the local path, rendered for Athena by sqlglot, through pyathena;
`report_with_cursor()` does the same on any DB-API cursor speaking Athena's SQL.

Layouts assumed (adjust LOCATION / the templates to yours):
  FOCUS 1.0 export (AWS Data Exports, Parquet):  <costs>/BILLING_PERIOD=YYYY-MM/*.parquet
  ledger export (JSON lines, one record a line):  <ledger>/day=YYYY-MM-DD/*.jsonl.gz
"""

from __future__ import annotations

from typing import Any

from tagwarden.showback.engine import AthenaEngine
from tagwarden.showback.query import Plan
from tagwarden.showback.report import run

# FOCUS 1.0 columns the views read, with the types of AWS's FOCUS Parquet export.
FOCUS_TABLE_COLUMNS = (
    ("BilledCost", "double"),
    ("BillingCurrency", "string"),
    ("ChargeDescription", "string"),
    ("ChargePeriodEnd", "timestamp"),
    ("ChargePeriodStart", "timestamp"),
    ("EffectiveCost", "double"),
    ("ProviderName", "string"),
    ("ResourceId", "string"),
    ("ServiceName", "string"),
    ("SkuId", "string"),
    ("SubAccountId", "string"),
    ("SubAccountName", "string"),
    ("Tags", "map<string,string>"),
)
LEDGER_TABLE_COLUMNS = (
    ("record", "string"),
    ("provider", "string"),
    ("resource_id", "string"),
    ("account", "string"),
    ("state", "string"),
    ("event_time", "string"),
    ("recorded_at", "double"),
    ("tagged_at", "double"),
    ("gone_at", "double"),
    ("version", "bigint"),
    ("actor", "map<string,string>"),
    ("tags", "map<string,string>"),
    ("usage_id", "string"),
    ("kind", "string"),
    ("time", "double"),
    ("platform", "string"),
    ("resource", "string"),
    ("attribution", "map<string,string>"),
    ("quantities", "map<string,double>"),
    ("source", "string"),
)
_CREATOR = ("arn", "upn", "app_id", "object_id", "principal_id")


def _s3(url: str) -> str:
    if not url.startswith("s3://") or "'" in url:
        raise ValueError(f"expected an s3://bucket/prefix location, got {url!r}")
    return url.rstrip("/")


def ddl(costs: str, ledger: str, database: str = "tagwarden") -> list[str]:
    """CREATE statements for the FOCUS export, the ledger export and the three views, in order."""
    if not database.replace("_", "").isalnum():
        raise ValueError(f"database name {database!r}: letters, digits and _ only")
    costs, ledger = _s3(costs), _s3(ledger)
    db = database
    focus_cols = ",\n  ".join(f"`{n.lower()}` {t}" for n, t in FOCUS_TABLE_COLUMNS)
    ledger_cols = ",\n  ".join(f"`{n}` {t}" for n, t in LEDGER_TABLE_COLUMNS)
    creator = ", ".join(f"element_at(actor, '{k}')" for k in _CREATOR)
    return [
        f"CREATE DATABASE IF NOT EXISTS {db}",
        f"""CREATE EXTERNAL TABLE IF NOT EXISTS {db}.focus_export (
  {focus_cols}
)
PARTITIONED BY (`billing_period` string)
STORED AS PARQUET
LOCATION '{costs}/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.billing_period.type' = 'date',
  'projection.billing_period.format' = 'yyyy-MM',
  'projection.billing_period.range' = '2020-01,NOW',
  'projection.billing_period.interval' = '1',
  'projection.billing_period.interval.unit' = 'MONTHS',
  'storage.location.template' = '{costs}/BILLING_PERIOD=${{billing_period}}/'
)""",
        f"""CREATE EXTERNAL TABLE IF NOT EXISTS {db}.ledger_export (
  {ledger_cols}
)
PARTITIONED BY (`day` string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION '{ledger}/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.day.type' = 'date',
  'projection.day.format' = 'yyyy-MM-dd',
  'projection.day.range' = '2024-01-01,NOW',
  'projection.day.interval' = '1',
  'projection.day.interval.unit' = 'DAYS',
  'storage.location.template' = '{ledger}/day=${{day}}/'
)""",
        f"""CREATE OR REPLACE VIEW {db}.tw_costs AS
SELECT providername AS provider, subaccountid AS account, subaccountname AS account_name,
       servicename AS service, resourceid AS resource_id, skuid AS sku_id,
       chargedescription AS charge_description, billingcurrency AS currency,
       CAST(chargeperiodstart AS timestamp) AS charge_start, CAST(chargeperiodend AS timestamp) AS charge_end,
       CAST(COALESCE(billedcost, 0) AS decimal(38, 15)) AS billed,
       CAST(COALESCE(effectivecost, 0) AS decimal(38, 15)) AS effective,
       json_format(CAST(tags AS json)) AS tags_json, false AS tags_invalid
FROM {db}.focus_export""",
        f"""CREATE OR REPLACE VIEW {db}.tw_ledger AS
SELECT provider, resource_id, account, state, event_time, recorded_at, version, tagged_at, gone_at,
       json_format(CAST(tags AS json)) AS tags_json, COALESCE({creator}) AS creator
FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY provider, resource_id ORDER BY version DESC) AS rn
  FROM {db}.ledger_export
  WHERE record = 'resource' AND resource_id IS NOT NULL
)
WHERE rn = 1""",
        f"""CREATE OR REPLACE VIEW {db}.tw_usage AS
SELECT usage_id, kind, time, platform, resource, json_format(CAST(attribution AS json)) AS attribution,
       json_format(CAST(quantities AS json)) AS quantities, source
FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY usage_id ORDER BY time) AS rn
  FROM {db}.ledger_export
  WHERE record = 'usage'
)
WHERE rn = 1""",
    ]


def report_with_cursor(plan: Plan, cursor: Any) -> dict[str, Any]:
    """The report computed through `cursor`: any DB-API cursor that speaks Athena's SQL."""
    return run(AthenaEngine(cursor), plan)
