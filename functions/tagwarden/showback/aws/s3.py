"""`s3://bucket/prefix` inputs: listed and downloaded with boto3 to a temporary folder.

AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_S3 point boto3 at another endpoint (moto's server in tests).
DuckDB then reads the files locally: its own httpfs extension is fetched from the internet at first
use, and the pip-packaged build of it lags DuckDB's releases.
"""

from __future__ import annotations

from pathlib import Path

from tagwarden.showback.sources import InputError


def download_prefix(url: str, suffixes: tuple[str, ...], workdir: Path) -> list[Path]:
    """Download every object under an s3://bucket/prefix with a known suffix (keys kept as paths)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    client = boto3.client("s3")
    target = (workdir / "s3" / bucket).resolve()
    out: list[Path] = []
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                key = obj["Key"]
                if not key.endswith(suffixes):
                    continue
                dest = (target / key).resolve()
                if not dest.is_relative_to(target):  # a key like ../../x must not escape
                    raise InputError(f"{url}: refusing object key {key!r}")
                dest.parent.mkdir(parents=True, exist_ok=True)
                client.download_file(bucket, key, str(dest))
                out.append(dest)
    except (BotoCoreError, ClientError) as exc:
        raise InputError(f"{url}: {exc}") from exc
    return sorted(out)
