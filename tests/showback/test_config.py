from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tagwarden.showback.config import ConfigError, glob_to_like, load_config, parse_config


def test_a_shared_entry_reads_with_its_defaults(tmp_path: Path) -> None:
    path = tmp_path / "showback.yaml"
    path.write_text(
        "shared:\n"
        "  - name: claude\n"
        "    match: {ServiceName: 'Amazon Bedrock', ResourceId: 'arn:*:bedrock:*'}\n"
        "    policy: quantity\n"
        "    params: {quantity: input_tokens}\n",
        encoding="utf-8",
    )
    (entry,) = load_config(path).shared
    assert entry.name == "claude"
    assert entry.quantum == Decimal("0.01")
    assert entry.usage_resource("arn:x") == "arn:x"  # default: the row's own ResourceId


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"match": {"ServiceName": "x"}, "policy": "nope"}, "policy 'nope'"),
        ({"match": {"Colour": "x"}, "policy": "quantity"}, "match column 'Colour'"),
        ({"match": {}, "policy": "quantity"}, "`match` must map"),
        (
            {"match": {"ServiceName": "x"}, "policy": "quantity", "quantum": "-1"},
            "quantum must be a positive decimal",
        ),
        ({"match": {"ServiceName": "x"}, "policy": "quantity", "quantum": "abc"}, "not a decimal"),
        ({"match": {"ServiceName": "x"}, "policy": "quantity", "extra": 1}, "unknown key(s) extra"),
    ],
)
def test_bad_entries_name_the_entry(entry: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"shared": [{"match": {"ServiceName": "ok"}, "policy": "quantity"}, entry]}, "sb.yaml")
    assert "sb.yaml: shared[1]" in str(info.value)
    assert message in str(info.value)


def test_globs_become_escaped_like_patterns() -> None:
    assert glob_to_like("arn:*:bedrock:?") == "arn:%:bedrock:_"
    assert glob_to_like("100%_off\\") == "100\\%\\_off\\\\"
