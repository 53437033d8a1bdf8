"""The showback query, written once (DuckDB's SQL) and rendered by sqlglot for DuckDB or Athena (Trino).

It reads two normalized relations, `tw_costs` and `tw_ledger` (sources.py builds them in DuckDB;
athena.py ships their Athena DDL and views), classifies every cost row into exactly one source —
`bill-tags`, `ledger`, `usage-split` (a shared row, split later in Python) or `unallocated` — and
aggregates the rest in one pass with GROUPING SETS.

Resource ids: AWS ARNs and ids are case-sensitive (two Lambda functions may differ only in case), so
they match exactly; Azure resource ids are case-insensitive and the bill lower-cases them, so ids
starting with /subscriptions/ match lower-cased on both sides. Bills name some AWS resources by a
short id (EC2 `i-...`, `vol-...`; S3 bucket names): a ledger ARN also matches by that alias when no
record claims it by its full id. Each cost row matches at most one ledger record.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tagwarden.showback.config import MATCH_COLUMNS, SharedEntry, glob_to_like

SOURCES = ("bill-tags", "ledger", "usage-split", "unallocated")
ALLOCATED = ("bill-tags", "ledger", "usage-split")
DIALECTS = {"duckdb": "duckdb", "athena": "athena"}
# Tag keys go into JSON paths: AWS's tag-key alphabet (Azure's is a subset in practice).
_TAG_KEY = re.compile(r"^[\w .:/=+\-@]{1,128}$")

# Dimensions of the aggregate, in GROUPING() order after the tag columns are appended.
DIMENSIONS = ("provider", "account", "service", "day")
# Named grouping sets: the report's breakdowns. "tags" uses the --by keys, "outcomes" every key.
SETS: dict[str, tuple[str, ...]] = {
    "buckets": (),
    "provider": ("provider",),
    "account": ("provider", "account"),
    "service": ("provider", "service"),
    "day": ("day",),
}

_MATCH_KEY = "CASE WHEN lower({c}) LIKE '/subscriptions/%' THEN lower({c}) ELSE {c} END"
_ALIASES = (
    r"^arn:[^:]+:ec2:[^:]*:[^:]*:[a-z-]+/(.+)$",  # i-..., vol-..., snap-... as the bill names them
    r"^arn:[^:]+:s3:::([^/]+)$",  # bucket name
)


def check_tag_key(key: str) -> str:
    if not _TAG_KEY.match(key):
        raise ValueError(f"tag key {key!r}: only letters, digits, spaces and _ . : / = + - @ (1-128)")
    return key


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _path(key: str) -> str:
    return _lit('$."' + key + '"')  # check_tag_key allows no quote or backslash


@dataclass(frozen=True, slots=True)
class Plan:
    """What one showback run asks: tag keys, period, the shared entries. Renders each query."""

    by: tuple[str, ...]
    outcome_key: str | None = "Outcome-ID"
    since: datetime | None = None
    until: datetime | None = None
    shared: tuple[SharedEntry, ...] = ()
    top: int = 20

    @property
    def keys(self) -> tuple[str, ...]:
        """Every tag key read: the --by keys, then the outcome key if it is not one of them."""
        extra = (self.outcome_key,) if self.outcome_key and self.outcome_key not in self.by else ()
        return tuple(check_tag_key(k) for k in (*self.by, *extra))

    @property
    def tag_columns(self) -> tuple[str, ...]:
        return tuple(f"t_{i}" for i in range(len(self.keys)))

    def set_columns(self) -> dict[str, tuple[str, ...]]:
        cols = self.tag_columns
        sets = dict(SETS)
        sets["tags"] = cols[: len(self.by)]
        sets["outcomes"] = cols
        return sets

    # -- the query, written once ------------------------------------------------------------
    def _period(self, column: str) -> str:
        conds = ["true"]
        if self.since is not None:
            conds.append(f"{column} >= CAST({_lit(self.since.strftime('%Y-%m-%d %H:%M:%S'))} AS TIMESTAMP)")
        if self.until is not None:
            conds.append(f"{column} < CAST({_lit(self.until.strftime('%Y-%m-%d %H:%M:%S'))} AS TIMESTAMP)")
        return " AND ".join(conds)

    def _shared_case(self) -> str:
        whens = []
        for i, entry in enumerate(self.shared):
            conds = [
                f"c.{MATCH_COLUMNS[col]} LIKE {_lit(glob_to_like(glob))} ESCAPE '\\'"
                for col, glob in entry.match.items()
            ]
            whens.append(f"WHEN {' AND '.join(conds)} THEN {i}")
        return f"CASE {' '.join(whens)} END" if whens else "CAST(NULL AS INTEGER)"

    def classify_source(self) -> str:
        """One row per cost row in the period, with its source and attribution (tag values t_i)."""
        keys = self.keys
        bill = [
            f"NULLIF(json_extract_string(c.tags_json, {_path(k)}), '') AS bill_{i}"
            for i, k in enumerate(keys)
        ]
        led = [
            f"NULLIF(json_extract_string(lk.ledger_tags, {_path(k)}), '') AS led_{i}"
            for i, k in enumerate(keys)
        ]
        by_bill = " OR ".join(f"bill_{i} IS NOT NULL" for i in range(len(self.by))) or "false"
        by_led = " OR ".join(f"led_{i} IS NOT NULL" for i in range(len(self.by))) or "false"
        tags = [
            f"CASE x.source WHEN 'bill-tags' THEN x.bill_{i} WHEN 'ledger' THEN x.led_{i} END AS t_{i}"
            for i in range(len(keys))
        ]
        # the bill's tags win, but where the ledger attributed the same resource otherwise, say so
        disagrees = " OR ".join(
            f"(x.bill_{i} IS NOT NULL AND x.led_{i} IS NOT NULL AND x.bill_{i} <> x.led_{i})"
            for i in range(len(self.by))
        )
        disagrees = f"(x.source = 'bill-tags' AND ({disagrees or 'false'}))"
        aliases = ", ".join(f"NULLIF(regexp_extract(resource_id, {_lit(p)}, 1), '')" for p in _ALIASES)
        return f"""
WITH lk_all AS (
  SELECT {_MATCH_KEY.format(c="resource_id")} AS match_key, 0 AS priority,
         resource_id, tags_json, creator, state, recorded_at, version
  FROM tw_ledger
  UNION ALL
  SELECT COALESCE({aliases}) AS match_key, 1 AS priority,
         resource_id, tags_json, creator, state, recorded_at, version
  FROM tw_ledger
), lk AS (
  SELECT match_key, resource_id AS ledger_resource_id, tags_json AS ledger_tags, creator,
         state AS ledger_state
  FROM lk_all
  WHERE match_key IS NOT NULL
  -- tw_ledger holds each resource's latest version; between resources sharing a key (an alias),
  -- the newest record wins, then the higher version: never left to file order
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY match_key ORDER BY priority, recorded_at DESC, version DESC NULLS LAST, resource_id) = 1
), joined AS (
  SELECT c.provider, c.account, c.account_name, c.service, c.resource_id, c.currency,
         c.charge_start, c.charge_end, c.billed, c.effective, c.tags_invalid,
         lk.ledger_resource_id, lk.creator, lk.ledger_state,
         {", ".join([*bill, *led])},
         {self._shared_case()} AS shared_idx
  FROM tw_costs AS c
  LEFT JOIN lk ON {_MATCH_KEY.format(c="c.resource_id")} = lk.match_key
  WHERE {self._period("c.charge_start")}
), x AS (
  SELECT joined.*,
         CASE WHEN {by_bill} THEN 'bill-tags'
              WHEN {by_led} THEN 'ledger'
              WHEN shared_idx IS NOT NULL THEN 'usage-split'
              ELSE 'unallocated' END AS source
  FROM joined
)
SELECT x.provider, x.account, x.account_name, x.service, x.resource_id, x.currency,
       x.charge_start, x.charge_end, CAST(DATE_TRUNC('day', x.charge_start) AS DATE) AS day,
       x.billed, x.effective, x.source, x.shared_idx, x.ledger_resource_id, x.creator, x.ledger_state,
       {disagrees} AS ledger_disagrees,
       {", ".join(tags)}
FROM x"""

    def aggregate_source(self) -> str:
        dims = [*DIMENSIONS, *self.tag_columns]
        sets = ", ".join("(" + ", ".join(("source", *cols)) + ")" for cols in self.set_columns().values())
        return f"""
SELECT source, {", ".join(dims)}, GROUPING({", ".join(dims)}) AS grouping_id,
       MAX(account_name) AS account_name, SUM(billed) AS billed, SUM(effective) AS effective, COUNT(*) AS n
FROM tw_classified
WHERE source <> 'usage-split'
GROUP BY GROUPING SETS ({sets})"""

    def split_rows_source(self) -> str:
        """Shared rows, summed per charge window and per what the other breakdowns group by: each
        window's sum is split once (exact, and far fewer pieces than splitting row by row)."""
        return """
SELECT resource_id, provider, account, MAX(account_name) AS account_name, service, day,
       charge_start, charge_end, SUM(billed) AS billed, SUM(effective) AS effective, shared_idx,
       MAX(creator) AS creator, MAX(ledger_state) AS ledger_state, COUNT(*) AS n
FROM tw_classified
WHERE source = 'usage-split'
GROUP BY shared_idx, resource_id, charge_start, charge_end, provider, account, service, day
ORDER BY charge_start, resource_id, provider, account, service"""

    def top_unallocated_source(self) -> str:
        return f"""
SELECT resource_id, provider, account, service, MAX(creator) AS creator, MAX(ledger_state) AS ledger_state,
       MAX(ledger_resource_id) AS ledger_resource_id,
       SUM(billed) AS billed, SUM(effective) AS effective, COUNT(*) AS n
FROM tw_classified
WHERE source = 'unallocated'
GROUP BY resource_id, provider, account, service
ORDER BY billed DESC, resource_id
LIMIT {int(self.top) * 2}"""

    def usage_source(self, resources: Sequence[str]) -> str:
        wanted = ", ".join(_lit(r) for r in sorted(resources)) or "NULL"
        return f"""
SELECT usage_id, kind, time, platform, resource, attribution, quantities, source
FROM tw_usage
WHERE resource IN ({wanted})
ORDER BY time, usage_id"""

    def disagreements_source(self) -> str:
        return """
SELECT COUNT(*) AS n, SUM(billed) AS billed, COUNT(DISTINCT resource_id) AS resources
FROM tw_classified
WHERE ledger_disagrees"""

    def totals_source(self) -> str:
        """Totals straight from the costs, not through the join: what the buckets must add up to."""
        return f"""
SELECT SUM(billed) AS billed, SUM(effective) AS effective, COUNT(*) AS n,
       COUNT(DISTINCT currency) AS currencies, MIN(currency) AS currency,
       SUM(CASE WHEN tags_invalid THEN 1 ELSE 0 END) AS invalid_tags,
       MIN(charge_start) AS first_start, MAX(charge_start) AS last_start
FROM tw_costs AS c
WHERE {self._period("c.charge_start")}"""

    def grouping_ids(self) -> dict[int, str]:
        """GROUPING() value -> set name (a bit is 1 where the dimension is rolled up; first is highest)."""
        dims = [*DIMENSIONS, *self.tag_columns]
        out: dict[int, str] = {}
        for name, cols in self.set_columns().items():
            value = 0
            for d in dims:
                value = (value << 1) | (0 if d in cols else 1)
            out.setdefault(value, name)  # "outcomes" equals "tags" when the outcome key is a --by key
        return out


def render(sql: str, engine: str, classified_inline: bool = False, classify: str | None = None) -> str:
    """Render DuckDB SQL for `engine`; with classified_inline, tw_classified becomes a CTE (Athena)."""
    if classified_inline:
        if classify is None:
            raise ValueError("classify SQL needed to inline tw_classified")
        sql = f"WITH tw_classified AS ({classify}) {sql}"
    import sqlglot  # only to render: DuckDB runs the source as written

    tree = sqlglot.parse_one(sql, read="duckdb")
    return tree.sql(DIALECTS[engine], pretty=True)


def render_all(plan: Plan, engine: str) -> dict[str, str]:
    """Every query of a run, rendered for one engine (what `--engine athena --show-sql` prints)."""
    classify = plan.classify_source()
    inline = engine != "duckdb"
    out = {"classify": render(classify, engine)}
    for name, src in (
        ("aggregate", plan.aggregate_source()),
        ("split_rows", plan.split_rows_source()),
        ("top_unallocated", plan.top_unallocated_source()),
        ("disagreements", plan.disagreements_source()),
    ):
        out[name] = render(src, engine, classified_inline=inline, classify=classify)
    out["totals"] = render(plan.totals_source(), engine)
    return out
