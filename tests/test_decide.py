"""decide(): the attribution core, over plain data (no cloud, no mocks)."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec
import pytest

from tagwarden.attribution.context import Scope, StaticLookups
from tagwarden.cli.normalize import normalize
from tagwarden.decide import decide
from tagwarden.model import Action, Actor, CreationEvent, Provider, Resource
from tagwarden.rules import load_rules_text
from tagwarden.rules.model import RuleSet

import builders as b


def event_of(raw: dict) -> CreationEvent:  # type: ignore[type-arg]
    (result,) = normalize(raw)
    assert isinstance(result, CreationEvent), result
    return result


def instance_decision(rules: RuleSet, raw: dict, lookups: StaticLookups | None = None):  # type: ignore[no-untyped-def,type-arg]
    decisions = decide(event_of(raw), rules, lookups or StaticLookups())
    return next(d for d in decisions if d.resource.type == "AWS::EC2::Instance")


# --- the acceptance example --------------------------------------------------------------


def test_agent_session_and_request_tag(example_rules: RuleSet) -> None:
    raw = b.run_instances(
        tags={"CostCenter": "101"}, identity=b.assumed_role("agent-fleet-support", "agent-42")
    )
    d = instance_decision(example_rules, raw, StaticLookups(principal={"Outcome-ID": "OUT-2024"}))
    assert d.action is Action.TAG
    assert d.tags["Agent-ID"] == "42"
    assert d.sources["Agent-ID"] == "actor:session_name"
    assert "CostCenter" not in d.tags  # already on the resource from the request: not rewritten
    assert d.sources["CostCenter"] == "existing"
    assert d.tags["Outcome-ID"] == "OUT-2024"
    assert d.missing == () and d.invalid == ()


def test_unattributable_gets_the_rules_action(example_rules: RuleSet) -> None:
    """No CostCenter in the request, a role with no mapping, no principal tags: quarantine (rule agents-aws)."""
    raw = b.run_instances(identity=b.assumed_role("agent-fleet-unknown", "agent-42"))
    d = instance_decision(example_rules, raw, StaticLookups(principal={}))
    assert d.rule == "agents-aws"
    assert d.action is Action.QUARANTINE
    assert d.grace_seconds == 4 * 3600
    assert {p.key for p in d.missing} == {"CostCenter", "Outcome-ID"}
    assert d.tags["Agent-ID"] == "42"  # what could be derived is still written
    assert all(p.reason for p in d.missing)


# --- sources -------------------------------------------------------------------------------------

RULES = """\
version: 1
mode: enforce
tags:
  Team:
    allowed: [red, blue]
    sources:
      - request_tag: Team
      - principal_tag: team
        case: lower
      - resource_group_tag: Team
      - default: red
rules:
  - id: all
    on_missing: tag-unallocated
"""


def rules(text: str = RULES) -> RuleSet:
    return load_rules_text(text, env={})


class CountingLookups(StaticLookups):
    calls: list[str] = msgspec.field(default_factory=list)

    def principal_tags(self, provider: Provider, actor: Actor) -> Mapping[str, str] | None:
        self.calls.append("principal")
        return super().principal_tags(provider, actor)

    def container_tags(self, provider: Provider, scope: Scope, scope_id: str) -> Mapping[str, str] | None:
        self.calls.append(f"container:{scope_id}")
        return super().container_tags(provider, scope, scope_id)


def test_first_valid_source_wins_and_later_lookups_are_not_made() -> None:
    lookups = CountingLookups(principal={"team": "BLUE"})
    (d,) = decide(event_of(b.create_function(tags={"Team": "blue"})), rules(), lookups)
    assert d.sources["Team"] == "existing"
    assert lookups.calls == []  # the request tag settled it: no principal lookup


def test_invalid_value_falls_through_to_next_source() -> None:
    lookups = CountingLookups(principal={"team": "BLUE"})
    d = instance_decision(rules(), b.run_instances(), lookups)
    assert d.tags["Team"] == "blue"  # upper-case principal tag, lower-cased by the source
    assert d.sources["Team"] == "principal_tag:team"
    lookups = CountingLookups(principal={"team": "green"})
    d = instance_decision(rules(), b.run_instances(), lookups)
    assert d.tags["Team"] == "red"  # green is not allowed: the default applies
    assert d.sources["Team"] == "default:red"
    assert (
        "Team = 'red' from default:red (passed over: principal_tag:team gave 'green' is not one of the allowed values)"
        in d.reasons
    )


def test_principal_tags_are_fetched_once_per_event_across_resources() -> None:
    lookups = CountingLookups(principal={"team": "red"})
    decisions = decide(event_of(b.run_instances(count=3)), rules(), lookups)
    assert len(decisions) == 6  # three instances and their three ENIs
    assert all(d.tags["Team"] == "red" for d in decisions)
    assert lookups.calls == ["principal"]


def test_unresolved_lookup_is_reported_not_guessed() -> None:
    text = RULES.replace("      - default: red\n", "")
    d = instance_decision(rules(text), b.run_instances(), StaticLookups(principal=None))
    assert d.action is Action.TAG_UNALLOCATED
    assert d.tags["Team"] == "unallocated"
    assert d.sources["Team"] == "unallocated"
    assert any("principal" in u for u in d.unresolved)
    (gap,) = d.missing
    assert "principal_tag:team unresolved" in gap.reason


def test_azure_inherits_from_resource_group() -> None:
    rid = b.resource_id("rg-agent-customer-support", "Microsoft.Compute/virtualMachines", "vm1")
    ev = event_of(b.eventgrid_write(rid))
    rg_id = f"/subscriptions/{b.SUBSCRIPTION}/resourceGroups/rg-agent-customer-support"
    lookups = CountingLookups(principal={}, containers={rg_id: {"Team": "blue"}}, resources={rid: {}})
    (d,) = decide(ev, rules(), lookups)
    assert d.tags == {"Team": "blue"}
    assert d.sources["Team"] == "resource_group_tag:Team"
    assert f"container:{rg_id}" in lookups.calls


def test_azure_update_with_tags_present_does_nothing() -> None:
    rid = b.resource_id("rg1", "Microsoft.Storage/storageAccounts", "st1")
    (d,) = decide(event_of(b.eventgrid_write(rid)), rules(), StaticLookups(resources={rid: {"Team": "red"}}))
    assert d.action is Action.NONE
    assert d.tags == {}


def test_session_name_pattern_and_mapping() -> None:
    text = """\
version: 1
tags:
  Agent-ID:
    sources:
      - actor: session_name
        pattern: '^agent-(?P<value>[a-z0-9]+)(-.*)?$'
  CostCenter:
    sources:
      - actor: role_name
        map: {agent-fleet-support: 101}
"""
    d = instance_decision(
        rules(text), b.run_instances(identity=b.assumed_role("agent-fleet-support", "agent-7x-run3"))
    )
    assert d.tags == {"Agent-ID": "7x", "CostCenter": "101"}
    d = instance_decision(rules(text), b.run_instances(identity=b.assumed_role("other", "human-bob")))
    assert {p.key for p in d.missing} == {"Agent-ID", "CostCenter"}
    reasons = " ".join(p.reason for p in d.missing)
    assert "does not match" in reasons and "not in the mapping table" in reasons


# --- overwrite, exemptions, rules ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("overwrite", "present", "expect_tags", "expect_invalid"),
    [
        ("never", "purple", {}, True),
        ("invalid", "purple", {"Team": "red"}, False),
        ("never", "blue", {}, False),
        ("always", "blue", {"Team": "red"}, False),
    ],
)
def test_overwrite_modes(overwrite: str, present: str, expect_tags: dict, expect_invalid: bool) -> None:  # type: ignore[type-arg]
    text = RULES.replace(
        "    allowed: [red, blue]\n", f"    allowed: [red, blue]\n    overwrite: {overwrite}\n"
    )
    text = text.replace("      - request_tag: Team\n      - principal_tag: team\n        case: lower\n", "")
    d = instance_decision(rules(text), b.run_instances(tags={"Team": present}))
    assert {k: v for k, v in d.tags.items() if k == "Team"} == expect_tags
    assert bool(d.invalid) is expect_invalid


def test_exempt_principal_is_skipped_untouched(example_rules: RuleSet) -> None:
    raw = b.run_instances(identity=b.assumed_role("BreakGlassAdmin", "oncall"))
    d = instance_decision(example_rules, raw)
    assert d.action is Action.SKIP
    assert d.tags == {}
    assert d.exemption is not None and "BreakGlassAdmin" in d.exemption


def test_exempt_marker_tag(example_rules: RuleSet) -> None:
    d = instance_decision(example_rules, b.run_instances(tags={"tagwarden:exempt": "true"}))
    assert d.action is Action.SKIP
    d = instance_decision(example_rules, b.run_instances(tags={"tagwarden:exempt": "false"}))
    assert d.action is not Action.SKIP


def test_humans_only_need_cost_center_and_are_notified(example_rules: RuleSet) -> None:
    d = instance_decision(
        example_rules, b.run_instances(identity=b.assumed_role("sso-developer", "alice@corp.com"))
    )
    assert d.rule == "humans"
    assert d.action is Action.NOTIFY
    assert [p.key for p in d.missing] == ["CostCenter"]  # Agent-ID / Outcome-ID not required here


def test_no_rule_matches_uses_defaults() -> None:
    text = RULES.replace("  - id: all\n", "  - id: azure-only\n    match: {provider: azure}\n").replace(
        "      - default: red\n", ""
    )
    d = instance_decision(rules(text), b.run_instances(), StaticLookups(principal={}))
    assert d.rule == "(default)"
    assert d.action is Action.NOTIFY


def test_stamps_written_once_and_never_over_existing() -> None:
    text = RULES + "stamp: {prefix: 'tw:', event_id: true}\n"
    raw = b.run_instances(tags={"Team": "red", "tw:creator": "someone"})
    d = instance_decision(rules(text), raw)
    assert "tw:creator" not in d.tags
    assert d.tags["tw:created-at"] == "2026-11-29T10:00:00Z"
    assert d.tags["tw:rule"] == "all"
    assert d.tags["tw:event-id"] == raw["eventID"]
    assert d.action is Action.TAG


def test_fifty_tag_limit_drops_stamps_then_reports() -> None:
    text = RULES + "stamp: {prefix: 'tw:'}\n"
    full = {f"k{i}": "v" for i in range(49)}
    d = instance_decision(rules(text), b.run_instances(tags=full), StaticLookups(principal={"team": "blue"}))
    assert d.tags == {"Team": "blue"}  # room for one: the required tag, not the stamps
    assert any("stamp tags not written" in r for r in d.reasons)
    d = instance_decision(
        rules(text), b.run_instances(tags={**full, "k49": "v"}), StaticLookups(principal={})
    )
    assert d.tags == {}
    assert [p.key for p in d.missing] == ["Team"]
    assert "no room" in d.missing[0].reason


def test_event_and_resource_sources() -> None:
    text = """\
version: 1
tags:
  InstanceType:
    sources: [{event: requestParameters.instanceType}]
  Name:
    sources: [{resource: id, pattern: '/(?P<value>[^/]+)$'}]
  Region:
    sources: [{event_attr: region}]
"""
    d = instance_decision(rules(text), b.run_instances())
    assert d.tags == {"InstanceType": "t3.micro", "Name": "i-00000000000000001", "Region": "us-east-1"}


def test_resource_is_plain_data() -> None:
    r = Resource(id="x", type="AWS::S3::Bucket")
    assert r.request_tags is None and r.to_json() == {"id": "x", "type": "AWS::S3::Bucket", "name": None}


# --- paths the property tests rarely reach ------------------------------------------------------


def test_a_tag_already_marked_unallocated_is_not_written_again() -> None:
    text = RULES.replace("      - default: red\n", "")
    d = instance_decision(rules(text), b.run_instances(tags={"Team": "unallocated"}), StaticLookups())
    assert d.action is Action.TAG_UNALLOCATED
    assert "Team" not in d.tags
    assert d.sources["Team"] == "unallocated"
    (gap,) = d.missing
    assert gap.reason.startswith("marked 'unallocated'; no source had a value")


SWAPPING = """\
version: 1
tags:
  A:
    sources:
      - request_tag: B
        map: {"1": "2", "2": "1"}
      - default: "1"
  B:
    sources:
      - request_tag: A
      - default: "1"
"""


def test_tags_that_read_each_other_and_never_agree_are_reported() -> None:
    d = instance_decision(rules(SWAPPING), b.run_instances(), StaticLookups())
    assert d.reasons[-1] == "derivation did not settle: tags that read each other disagree"
    assert set(d.tags) == {"A", "B"}
