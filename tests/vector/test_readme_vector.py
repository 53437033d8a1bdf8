"""The README's "Shared vector stores" example runs as written (Qdrant local, a temp ledger)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tagwarden.ledger.model import UsageKind
from tagwarden.ledger.sqlite import SqliteLedger

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    found = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, flags=re.S | re.M)
    assert found, title
    return found.group(1)


def test_section_sits_right_before_the_rules_reference() -> None:
    # The feature sections (vector stores, then runaway agents) come right before the reference.
    titles = re.findall(r"^## (.+)$", README, flags=re.M)
    after = titles[titles.index("Shared vector stores") + 1 : titles.index("Rules reference")]
    assert after in ([], ["Runaway agents"])


def test_the_python_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("qdrant_client")
    (code,) = re.findall(r"```python\n(.*?)```", section("Shared vector stores"), flags=re.S)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})  # the manual's own example
    assert "qdrant:kb: upsert refused" in capsys.readouterr().out
    ledger = SqliteLedger(os.path.join(tmp_path, "usage.db"))
    kinds = sorted((u.kind.value, u.attribution.get("tenant_id")) for u in ledger.usage())
    assert kinds == [(UsageKind.VECTOR_QUERY.value, "acme"), (UsageKind.VECTOR_STORAGE.value, "acme")]


def test_the_store_table_lists_every_adapter() -> None:
    import tagwarden.vector as package

    adapters = {p.stem for p in Path(package.__file__).parent.glob("*.py")} & {
        "pgvector",
        "qdrant",
        "pinecone",
        "opensearch",
        "azure_search",
    }
    table = section("Shared vector stores")
    for name in (
        "PgvectorTenants",
        "QdrantTenants",
        "PineconeTenants",
        "OpenSearchTenants",
        "AzureSearchTenants",
    ):
        assert f"`{name}`" in table
    assert len(adapters) == 5
