"""The JSON Schema we ship is the loader's own spec, and agrees with it on good and bad files."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml

from tagwarden.rules import RulesError, load_rules_text
from tagwarden.rules.spec import json_schema

from conftest import EXAMPLE_RULES, ROOT

SHIPPED = ROOT / "functions" / "tagwarden" / "rules" / "rules.schema.json"


def validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_shipped_schema_is_current() -> None:
    """`make schema` regenerates it; this fails when spec.py changed and the file did not."""
    assert json.loads(SHIPPED.read_text()) == json_schema()


def test_example_modeline_points_at_the_shipped_schema() -> None:
    first = EXAMPLE_RULES.read_text().splitlines()[0]
    rel = first.split("$schema=", 1)[1]
    assert (EXAMPLE_RULES.parent / rel).resolve() == SHIPPED.resolve()


def test_example_validates_against_json_schema() -> None:
    data = yaml.safe_load(EXAMPLE_RULES.read_text().replace("${TAGWARDEN_TOPIC_ARN:-}", "''"))
    assert list(validator().iter_errors(data)) == []


BAD = {
    "unknown key": "version: 1\ntags: {A: {sources: [{request_tag: A}]}}\nmdoe: audit\n",
    "two source kinds": "version: 1\ntags: {A: {sources: [{request_tag: A, default: x}]}}\n",
    "bad action": "version: 1\ntags: {A: {}}\nrules: [{id: r, on_missing: explode}]\n",
    "bad duration": "version: 1\ntags: {A: {}}\ndefaults: {grace: soon}\n",
    "no tags": "version: 1\n",
    "wrong version": "version: 3\ntags: {A: {}}\n",
    "empty allowed": "version: 1\ntags: {A: {allowed: []}}\n",
}


@pytest.mark.parametrize("name", list(BAD))
def test_loader_and_json_schema_both_reject(name: str) -> None:
    text = BAD[name]
    assert list(validator().iter_errors(yaml.safe_load(text))), "JSON Schema accepted it"
    with pytest.raises(RulesError):
        load_rules_text(text, env={})


GOOD = {
    "one or many globs": "version: 1\ntags: {A: {}}\nrules: [{id: r, match: {region: eu-*, account: [1, 2]}, "
    "on_missing: notify}]\n",
    "seconds as grace": "version: 1\ntags: {A: {}}\ndefaults: {grace: 3600, on_missing: delete}\n",
    "numeric default": "version: 1\ntags: {A: {sources: [{default: 101}]}}\n",
}


@pytest.mark.parametrize("name", list(GOOD))
def test_loader_and_json_schema_both_accept(name: str) -> None:
    text = GOOD[name]
    assert list(validator().iter_errors(yaml.safe_load(text))) == []
    load_rules_text(text, env={})


def test_schema_documents_every_source_kind() -> None:
    from tagwarden.attribution.sources import SOURCE_KINDS

    source = json_schema()["properties"]["tags"]["additionalProperties"]["properties"]["sources"]["items"]
    assert set(SOURCE_KINDS) <= set(source["properties"])
    assert all(source["properties"][k].get("description") for k in SOURCE_KINDS)


def test_typo_in_nested_key_is_reported(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        version: 1
        tags:
          A:
            requird: true
        """
    )
    with pytest.raises(
        RulesError, match=r"<rules>:4: tags\.A\.requird: unknown key 'requird'; did you mean 'required'\?"
    ):
        load_rules_text(text, env={})
