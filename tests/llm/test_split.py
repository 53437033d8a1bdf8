import json

import pytest

from tagwarden.ledger.model import UsageKind, UsageRecord
from tagwarden.llm.prices import PriceError, load
from tagwarden.showback.split import attribution_key, policy


def usage(agent, model, input_tokens, output_tokens, cached=0.0, kind=UsageKind.LLM):
    q = {"input_tokens": input_tokens, "output_tokens": output_tokens, "calls": 1.0}
    if cached:
        q["cached_input_tokens"] = cached
    return UsageRecord(
        f"u-{agent}-{model}-{input_tokens}", kind, 0.0, "openai", model, {"Agent-ID": agent}, q
    )


def key(agent):
    return attribution_key({"Agent-ID": agent})


def test_weights_are_token_costs_not_token_counts():
    records = [
        usage("a", "gpt-4o-mini-2024-07-18", 1_000_000, 0),  # $0.15
        usage("b", "gpt-4o-mini", 0, 1_000_000),  # $0.60: a quarter of the tokens... same count, 4x the cost
        usage("b", "gpt-4o-mini", 0, 0, cached=1_000_000),  # $0.075
        usage("a", "gpt-4o-mini", 5, 5, kind=UsageKind.VECTOR_QUERY),  # not an LLM record: ignored
    ]
    weights = policy("llm-tokens").weights(records, {})
    assert weights == {key("a"): pytest.approx(0.15), key("b"): pytest.approx(0.675)}


def test_bedrock_ids_and_profiles_resolve_to_a_model(tmp_path):
    table = load()
    assert table.model_of("us.anthropic.claude-3-haiku-20240307-v1:0") == "anthropic.claude-3-haiku"
    assert (
        table.model_of("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0")
        == "amazon.nova-lite"
    )
    assert table.model_of("gpt-4.1-mini-2025-04-14") == "gpt-4.1-mini"  # the longest key wins over gpt-4.1
    assert table.effective and table.currency == "USD"
    prices = tmp_path / "prices.json"
    profile = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/p1"
    prices.write_text(
        json.dumps(
            {
                "effective": "2026-12-01",
                "models": {"my-model": {"input": 1, "output": 2}},
                "resources": {profile: "my-model"},
            }
        )
    )
    weights = policy("llm-tokens").weights(
        [usage("a", profile, 1_000_000, 0), usage("b", profile, 0, 1_000_000)], {"prices": str(prices)}
    )
    assert weights == {key("a"): pytest.approx(1.0), key("b"): pytest.approx(2.0)}


def test_an_unpriced_model_among_priced_ones_is_a_clear_error():
    with pytest.raises(PriceError, match=r"no price for 'mystery-model'.*--prices"):
        policy("llm-tokens").weights([usage("a", "gpt-4o", 1, 1), usage("b", "mystery-model", 1, 1)], {})


def test_only_unpriced_models_fall_back_to_token_counts():
    weights = policy("llm-tokens").weights([usage("a", "mystery", 30, 10), usage("b", "mystery", 50, 10)], {})
    assert weights == {key("a"): 40.0, key("b"): 60.0}


def test_a_bad_price_file_names_the_key(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("models:\n  gpt-4o: {input: -1, output: 2}\n")
    with pytest.raises(PriceError, match=r"p.yaml: models.gpt-4o.input: expected a non-negative number"):
        load(str(path))
    path.write_text("models:\n  gpt-4o: {input: 1, outptu: 2}\n")
    with pytest.raises(PriceError, match=r"unknown keys outptu"):
        load(str(path) + "")  # lru_cache keys on the path: a fresh read per spelling


def test_resources_param_names_the_model_behind_a_profile():
    profile = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/p9"
    records = [
        usage("a", profile, 1_000_000, 0),
        usage("b", "anthropic.claude-3-haiku-20240307-v1:0", 0, 1_000_000),
    ]
    weights = policy("llm-tokens").weights(records, {"resources": {profile: "anthropic.claude-3-haiku"}})
    assert weights == {key("a"): pytest.approx(0.25), key("b"): pytest.approx(1.25)}
    with pytest.raises(PriceError, match="names model 'nope', which has no price"):
        policy("llm-tokens").weights(records, {"resources": {profile: "nope"}})
