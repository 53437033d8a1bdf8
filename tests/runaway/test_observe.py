from __future__ import annotations

from tagwarden.runaway.observe import member_key, observe

from runaway_helpers import decisions, rules, run_instances, tags_of


def test_counts_instances_not_their_network_interfaces_per_agent() -> None:
    rs = rules()
    event = run_instances(3)
    found = {o.limit.id: o for o in observe(event, decisions(event, rs), rs.limits, tags_of)}
    assert set(found) == {"burst", "spend"}  # t3.micro is not a GPU type
    burst = found["burst"]
    assert burst.scope == "Agent-ID=42"
    assert burst.amount == 3
    assert burst.principal == "arn:aws:iam::123456789012:role/agent-fleet-support"
    assert found["spend"].amount == 3 * 0.0104


def test_gpu_limit_reads_the_instance_type_from_the_request() -> None:
    rs = rules()
    event = run_instances(2, instance_type="p4d.24xlarge")
    found = {o.limit.id: o for o in observe(event, decisions(event, rs), rs.limits, tags_of)}
    assert found["gpu"].amount == 2
    assert found["spend"].amount == 2 * 32.7726


def test_limit_match_and_missing_scope_leave_a_create_uncounted() -> None:
    rs = rules()
    human = run_instances(1, session="alice", role="sso-developer")  # no Agent-ID, role not agent-*
    assert observe(human, decisions(human, rs), rs.limits, tags_of) == []


def test_agent_id_from_request_tag_wins() -> None:
    rs = rules()
    event = run_instances(1, tags={"Agent-ID": "planner"})
    (first, *_) = observe(event, decisions(event, rs), rs.limits, tags_of)
    # counted for the agent the request names, apart from what tagwarden derived itself
    assert first.scope == "Agent-ID=planner (named by the request)"


def test_member_key_is_the_event_and_its_resources() -> None:
    assert member_key("e1", ["b", "a"]) == member_key("e1", ["a", "b"])
    assert member_key("e1", ["a"]) != member_key("e1", ["b"])
    assert member_key("e1", ["a"]) != member_key("e2", ["a"])


def test_tags_are_read_only_for_limits_counted_per_tag() -> None:
    """On Azure a resource's tags may cost an ARM read: a limit per caller never asks for them."""
    rs = rules(
        "version: 1\ntags: {Agent-ID: {}}\n"
        "limits: {checks: [{id: r, per: {actor: role_arn}, creates: 5, window: 10m}]}\n"
    )
    event = run_instances(2)
    asked: list[str] = []

    def reading(d: object) -> dict[str, str]:
        asked.append("read")
        return {}

    (found,) = observe(event, decisions(event, rs), rs.limits, reading)  # type: ignore[arg-type]
    assert found.scope == "role_arn=arn:aws:iam::123456789012:role/agent-fleet-support"
    assert asked == []
