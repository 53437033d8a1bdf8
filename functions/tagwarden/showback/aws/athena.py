"""`--engine athena`: the report computed by Amazon Athena, through pyathena."""

from __future__ import annotations

from typing import Any

from tagwarden.showback.engine import AthenaEngine
from tagwarden.showback.query import Plan
from tagwarden.showback.report import run


class AthenaFailed(RuntimeError):
    """Athena (or AWS) refused or failed a query; the message is theirs."""


def connect(database: str, workgroup: str | None, output: str | None, region: str | None) -> Any:
    """A pyathena connection (credentials and region from the usual AWS chain)."""
    from pyathena import connect as athena_connect

    kwargs: dict[str, Any] = {"schema_name": database}
    if workgroup:
        kwargs["work_group"] = workgroup
    if output:
        kwargs["s3_staging_dir"] = output
    if region:
        kwargs["region_name"] = region
    return athena_connect(**kwargs)


def athena_report(
    plan: Plan,
    database: str = "tagwarden",
    workgroup: str | None = None,
    output: str | None = None,
    region: str | None = None,
) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError
    from pyathena.error import Error as AthenaError

    try:
        return run(AthenaEngine(connect(database, workgroup, output, region).cursor()), plan)
    except (AthenaError, BotoCoreError, ClientError) as exc:
        raise AthenaFailed(f"Athena: {exc}") from exc
