from __future__ import annotations

import pytest

from tagwarden.attribution.limits import LIMITS, fit_value
from tagwarden.model import Provider

AWS, AZURE = LIMITS[Provider.AWS], LIMITS[Provider.AZURE]


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("CostCenter", None),
        ("Kostenstelle-Ä", None),
        ("a" * 128, None),
        ("a" * 129, "129 characters, the limit is 128"),
        ("aws:thing", "reserved prefix 'aws:'"),
        ("AWS:thing", "reserved prefix 'aws:'"),
        ("team#1", "characters the cloud does not accept"),
        ("", "empty"),
    ],
)
def test_aws_keys(key: str, problem: str | None) -> None:
    got = AWS.key_problem(key)
    assert (got is None) if problem is None else (got is not None and problem in got)


@pytest.mark.parametrize(
    ("key", "rtype", "problem"),
    [
        ("team#1", None, None),
        ("a/b", None, "contains '/'"),
        ("x" * 200, None, None),
        ("x" * 200, "Microsoft.Storage/storageAccounts", "the limit is 128"),
        ("x" * 513, None, "the limit is 512"),
        ("microsoftTeam", None, "reserved prefix"),
    ],
)
def test_azure_keys(key: str, rtype: str | None, problem: str | None) -> None:
    got = AZURE.key_problem(key, rtype)
    assert (got is None) if problem is None else (got is not None and problem in got)


def test_values() -> None:
    assert AWS.value_problem("") is None
    assert AWS.value_problem("x" * 257) is not None
    assert AWS.value_problem("a,b") is not None
    assert AZURE.value_problem("a,b<>") is None


def test_fit_value() -> None:
    assert fit_value("arn:aws:sts::1:assumed-role/r/s", AWS) == "arn:aws:sts::1:assumed-role/r/s"
    assert fit_value("a,b#c", AWS) == "abc"
    assert len(fit_value("x" * 300, AZURE)) == 256
