from __future__ import annotations

from tagwarden.runaway.prices import shipped


def test_shipped_table_is_dated_and_longest_glob_wins() -> None:
    table = shipped()
    assert table.as_of and table.currency == "USD"
    assert table.hourly_for("p5.48xlarge") == 55.04
    assert table.hourly_for("no.such", "AWS::SageMaker::Endpoint") == 1.41
    assert table.model_unit("anthropic.claude-3-haiku-20240307-v1:0:200k") == 39.60
    assert table.model_unit("someone.else") == 40.0  # the "*" entry


def test_override_replaces_entries_and_date() -> None:
    table = shipped().merged({"as_of": "2026-12-01", "hourly": {"p5.48xlarge": 98.32, "x.large": 1}})
    assert table.as_of == "2026-12-01"
    assert table.hourly_for("p5.48xlarge") == 98.32
    assert table.hourly_for("t3.micro") == 0.0104  # the rest stays
