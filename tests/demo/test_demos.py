"""`make demo` must stay true: both scenarios run against their emulators and end as the rules say."""

from __future__ import annotations

import io
import re

import pytest

from tagwarden_demo import aws, azure, lifecycle

pytestmark = pytest.mark.e2e


def test_aws_demo() -> None:
    out = io.StringIO()
    assert aws.run(out) == 0, out.getvalue()
    text = out.getvalue()
    assert "Every resource ended as the rules say." in text
    assert "vanished" in text and "duplicate delivery" in text
    assert text.count(" quarantine ") >= 3
    # the summary counts what the log says happened (it once said 0 right after two quarantines)
    m = re.search(r"; (\d+) lifecycle actions and (\d+) notifications logged;", text)
    assert m and int(m.group(1)) >= 2 and int(m.group(2)) >= 2, text
    # a row whose only writes are tagwarden's stamps says so instead of an empty column
    assert not re.search(r" tagged {2,}\(missing", text)


def test_azure_demo() -> None:
    out = io.StringIO()
    assert azure.run(out) == 0, out.getvalue()
    text = out.getvalue()
    assert "CostCenter=101" in text  # inherited from rg-agent-customer-support
    assert "Every resource ended as the rules say." in text


def test_lifecycle_demo() -> None:
    out = io.StringIO()
    assert lifecycle.run(out) == 0, out.getvalue()
    text = out.getvalue()
    for kind in ("[quarantined]", "[released]", "[deleted]"):
        assert kind in text
    assert "function concurrency 5 (restored)" in text
    assert "[released]" in text and "missing -" not in text
    assert re.search(r"\[released\] \S+: attributed now", text)
