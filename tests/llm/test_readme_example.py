"""The README's "LLM calls" example runs as written, against the loopback stand-ins (pointed to by
the SDKs' own environment variables, so the block is executed unchanged)."""

import re

from tagwarden.ledger.sqlite import SqliteLedger

from conftest import ROOT


def test_readme_llm_example_runs_and_records(openai_api, bedrock_api, tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## LLM calls\n(.*?)(?=^## )", readme, flags=re.S | re.M).group(1)
    (code,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    monkeypatch.chdir(tmp_path)
    for key, value in {
        "OPENAI_API_KEY": "sk-local",
        "OPENAI_BASE_URL": openai_api.url + "/v1",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock_api.url,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    exec(compile(code, "README.md", "exec"), {})
    ledger = SqliteLedger(tmp_path / "ledger.db")
    records = list(ledger.usage())
    ledger.close()
    assert sorted(r.platform for r in records) == ["bedrock", "openai"]
    for r in records:
        assert r.attribution == {"Agent-ID": "42", "Outcome-ID": "OUT-1001", "CostCenter": "101"}
