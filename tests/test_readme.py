"""The README is the user's manual: its commands, examples and rules reference are checked here."""

from __future__ import annotations

import json
import re
import textwrap

import pytest

from tagwarden.attribution.sources import SOURCE_KINDS
from tagwarden.rules import RulesError, load_rules_text
from tagwarden.rules.match import MATCH_FIELDS
from tagwarden.rules.spec import json_schema

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def blocks(lang: str, text: str = README) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def section(title: str) -> str:
    m = re.search(rf"^#+ {re.escape(title)}\n(.*?)(?=^#+ |\Z)", README, flags=re.S | re.M)
    assert m, f"README has no section {title!r}"
    return m.group(1)


def first_column(title: str, table: int = 0) -> set[str]:
    """Names in the first column of the section's Nth table (backticked, comma-separated allowed)."""
    tables = re.findall(r"((?:^\|.*\|\n)+)", section(title), flags=re.M)
    rows = tables[table].strip().splitlines()[2:]
    names: set[str] = set()
    for row in rows:
        names.update(re.findall(r"`([^`]+)`", row.split("|")[1]))
    return names


def second_column_backticks(title: str, kind: str) -> set[str]:
    tables = re.findall(r"((?:^\|.*\|\n)+)", section(title), flags=re.M)
    for row in tables[0].strip().splitlines()[2:]:
        cells = row.split("|")
        if f"`{kind}`" in cells[1]:
            return set(re.findall(r"`([^`]+)`", cells[2]))
    raise AssertionError(kind)


def test_quick_start_has_the_two_commands_and_ci_runs_the_test_one() -> None:
    quick = section("Quick start")
    assert "make demo" in quick and "make test" in quick
    assert "make test" in (ROOT / ".ci" / "run").read_text()


SCHEMA = json_schema()
TAG = SCHEMA["properties"]["tags"]["additionalProperties"]
SOURCE = TAG["properties"]["sources"]["items"]
RULE = SCHEMA["properties"]["rules"]["items"]


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Top-level keys", set(SCHEMA["properties"])),
        ("A tag (`tags.<Key>`)", set(TAG["properties"])),
        ("A rule (`rules[]`)", set(RULE["properties"])),
        ("Stamps (`stamp`)", set(SCHEMA["properties"]["stamp"]["properties"])),
        ("Exemptions (`exemptions`)", set(SCHEMA["properties"]["exemptions"]["properties"])),
        ("Notifications (`notifications`)", set(SCHEMA["properties"]["notifications"]["properties"])),
        ("Lifecycle (`lifecycle`)", set(SCHEMA["properties"]["lifecycle"]["properties"])),
        ("Limits (`limits`)", set(SCHEMA["properties"]["limits"]["properties"])),
        (
            "A limit (`limits.checks[]`)",
            set(SCHEMA["properties"]["limits"]["properties"]["checks"]["items"]["properties"]),
        ),
    ],
)
def test_reference_tables_list_exactly_the_schema_keys(title: str, expected: set[str]) -> None:
    assert first_column(title) == expected


def test_source_tables_match_the_registry() -> None:
    title = "A source (`tags.<Key>.sources[]`)"
    assert first_column(title, 0) == set(SOURCE_KINDS)
    assert first_column(title, 1) == set(SOURCE["properties"]) - set(SOURCE_KINDS)
    for kind in SOURCE_KINDS.values():
        if kind.choices:
            assert second_column_backticks(title, kind.name) == set(kind.choices), kind.name


def test_match_fields_table_matches_the_registry() -> None:
    assert first_column("A rule (`rules[]`)", 1) == set(MATCH_FIELDS)
    assert set(RULE["properties"]["match"]["properties"]) == set(MATCH_FIELDS)


def test_yaml_examples_are_valid_rules() -> None:
    example = blocks("yaml", section("Rules reference"))[0]
    rs = load_rules_text(example, "README.md", env={})
    assert [r.id for r in rs.rules] == ["agents"]


def test_error_example_is_what_the_loader_prints() -> None:
    shown = blocks("text", section("Rules reference"))[0]
    bad = textwrap.dedent(
        """\
        version: 1
        tags:
          Agent-ID:
            sources:
              - actor: session_name
                patern: '^agent-(?P<value>.+)$'
          CostCenter:
            pattern: '^([0-9]{3}'
            min_length: three
        """
    )
    with pytest.raises(RulesError) as info:
        load_rules_text(bad, "rules.yaml", env={})
    assert info.value.render() == shown.rstrip("\n")


def test_json_contract_example_has_the_contract_keys() -> None:
    (shown,) = blocks("json", section("`tagwarden explain`"))
    data = json.loads(shown.replace("…", "x"))
    assert set(data) == {
        "provider",
        "event_id",
        "event_name",
        "actor",
        "resources",
        "decisions",
        "skipped",
        "mode",
        "changes",
    }
    assert set(data["decisions"][0]) == {
        "resource",
        "tags",
        "sources",
        "missing",
        "invalid",
        "action",
        "rule",
        "exemption",
        "grace_seconds",
        "unresolved",
        "reasons",
    }


def test_readme_explain_command_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.chdir(ROOT)
    from tagwarden.cli.main import main

    cmd = re.search(r"\.venv/bin/tagwarden explain (.*?)\n```", README, flags=re.S)
    assert cmd
    argv = cmd.group(1).replace("\\\n", " ").split()
    out = io.StringIO()
    assert main(["explain", *argv], out=out, err=io.StringIO()) == 0
    assert "AWS::EC2::Instance" in out.getvalue()


def test_command_line_section_examples_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The replay and rules-test commands shown in the manual work as shown."""
    import io

    from tagwarden.cli.main import main

    monkeypatch.chdir(ROOT)
    text = section("Command line")
    commands = [
        c.replace("\\\n", " ").split() for c in re.findall(r"\.venv/bin/tagwarden (.*?)\n(?!\s)", text, re.S)
    ]
    names = [c[0] if c[0] != "rules" else "rules " + c[1] for c in commands]
    assert names == ["replay", "rules test"]
    for argv in commands:
        if argv[0] == "replay" and not (ROOT.parent / "shared" / "corpus").is_dir():
            continue  # the corpus lives beside the repository; absent on some machines
        run = argv[: argv.index("--junit")] if "--junit" in argv else argv  # no report file here
        assert main(run, out=io.StringIO(), err=io.StringIO()) == 0, run
    lookups = blocks("yaml", text)[0]
    from tagwarden.cli.lookups import parse

    parse(lookups, "README.md", ("CostCenter", "Outcome-ID", "Agent-ID"))


def test_runaway_section_sits_right_before_the_rules_reference() -> None:
    titles = re.findall(r"^## (.+)$", README, flags=re.M)
    assert titles[titles.index("Runaway agents") + 1] == "Rules reference"


def test_runaway_section_example_and_figures_are_true() -> None:
    from tagwarden.aws.brake import create_actions

    text = section("Runaway agents")
    (example,) = blocks("yaml", text)
    rules = load_rules_text("version: 1\ntags: {Agent-ID: {}}\n" + example, "README.md", env={})
    assert [c.id for c in rules.limits.checks] == ["burst", "gpus", "spend"]
    assert f"create actions ({len(create_actions())})" in text
    assert "`AgentRate`" in text and "tagwarden brake release AGENT" in text


def test_rules_from_a_store_section_matches_the_code_and_the_template() -> None:
    """The sources the example names are accepted by the code and the template, and each metric
    and log message the table names is one the code emits."""
    import boto3
    import yaml

    from tagwarden.aws.clients import Clients
    from tagwarden.aws.rules_source import feed

    text = section("Rules from S3, SSM or AppConfig")
    (example,) = blocks("sh", text)
    sources = re.findall(r"RulesSource=(\S+)", example)
    assert [s.split(":")[0] for s in sources] == ["s3", "ssm", "appconfig"]

    class _Loader(yaml.SafeLoader):
        pass

    _Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_Loader)
    pattern = template["Parameters"]["RulesSource"]["AllowedPattern"]
    clients = Clients(boto3.session.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"))
    for source in sources:
        assert re.fullmatch(pattern, source), source
        assert feed(source, clients, 60).name == source
    assert template["Parameters"]["RulesMaxAgeSeconds"]["Default"] == 60 and "(default 60" in text
    code = (ROOT / "functions" / "tagwarden" / "rules" / "live.py").read_text()
    for outcome in ("reloaded", "rejected", "unreadable"):
        assert f"`Rules{outcome.capitalize()}`" in text and f'count_rules("{outcome}")' in code
    for message in ("rules reloaded", "rules rejected: the rules in force stay", "rules unreadable"):
        assert message in text and message in code
