from __future__ import annotations

import io

from tagwarden_demo.offline import run


def test_demo_prints_a_row_per_resource_and_skip() -> None:
    out = io.StringIO()
    assert run(out) == 0  # every sample event, both clouds
    text = out.getvalue()
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["event", "file", "resource"]
    rows = [line for line in lines[1:] if line.strip() and not line.startswith(tuple("0123456789"))]
    by_file: dict[str, list[str]] = {}
    for row in rows:
        by_file.setdefault(row.split()[0], []).append(row)
    assert len(by_file["aws-run-instances-agent-42.json"]) == 4  # two instances, two ENIs
    assert all(" tag " in r for r in by_file["aws-run-instances-agent-42.json"])
    assert "quarantine" in by_file["aws-create-bucket-unattributed.json"][0]
    assert "CostCenter=101" in by_file["azure-openai-account-by-agent.json"][0]  # inherited from the RG
    assert "skipped" in by_file["azure-tag-write.json"][0]
    assert "skipped" in by_file["aws-run-instances-failed.json"][0]
