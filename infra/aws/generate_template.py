"""Write the generated blocks of template.yaml: EventBridge rules, permissions, IAM policies.

Re-run after changing the CloudTrail catalogue (tagwarden/aws/catalogue), the tagger
table (tagwarden/aws/catalogue/taggers.py) or the quarantine table
(tagwarden/aws/quarantine/registry.py), from the repository root:

    .venv/bin/python infra/aws/generate_template.py            # rewrite template.yaml in place
    .venv/bin/python infra/aws/generate_template.py --check    # exit 1 if template.yaml is stale

(tests/aws/test_patterns.py fails while template.yaml is stale.)

It replaces the text between the "# >>> GENERATED <name>" and "# <<< GENERATED <name>" marker
lines of template.yaml and leaves everything else as written:

- parameters, conditions: ExtraEventSources, ExtraEventNames, ExtraTagActions (the rules file's own
  `catalogue:` entries, which the template cannot know: README, catalogue) and their conditions.
- resources: one AWS::Events::Rule per pattern of tagwarden.aws.patterns.event_patterns() (the
  whole catalogue, hand-written and derived), each with its AWS::Lambda::Permission, target retry
  policy and dead-letter queue, and the conditional CreateEventsRuleExtra; the dead-letter queue's
  policy (EventBridge may send only for these rules); TagWritePolicy1..n, managed policies packed
  to IAM's size quota with the tag actions of tagwarden.aws.patterns.tag_actions() (both roles),
  and ExtraTagWritePolicy; EnforcerQuarantinePolicy, the part of the quarantine table's actions
  (tagwarden.aws.quarantine.IAM_ACTIONS) that quarantining needs; SweeperLifecyclePolicy, the
  sweeper role's release / delete actions (all of IAM_ACTIONS); and MarkerRemovalPolicy1..n, the
  untag actions that remove marker tags (`untag_actions`: each tag action's counterpart).
- outputs: CreateEventsRuleNames (the catalogue's rules, not the conditional extra one).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
if str(ROOT / "functions") not in sys.path:  # runnable without installing the package
    sys.path.insert(0, str(ROOT / "functions"))

from tagwarden.aws.patterns import (  # noqa: E402
    MAX_MANAGED_POLICY_CHARS,
    MAX_PATTERN_CHARS,
    TagPermissions,
    event_patterns,
    extra_pattern,
    pack,
    pattern_chars,
    policy_chars,
    tag_actions,
)
from tagwarden.aws.quarantine import IAM_ACTIONS as LIFECYCLE_ACTIONS  # noqa: E402

# EventBridge -> Lambda delivery (fails only when the invoke itself fails: throttling, permissions,
# a Lambda outage); after that the event goes to the dead-letter queue.
TARGET_MAX_RETRY_ATTEMPTS = 24
TARGET_MAX_EVENT_AGE_SECONDS = 3600

RULE_ID = "CreateEventsRule{n}"
EXTRA_RULE = "CreateEventsRuleExtra"
TAG_POLICY = "TagWritePolicy{n}"
UNTAG_POLICY = "MarkerRemovalPolicy{n}"
EXTRA_TAG_POLICY = "ExtraTagWritePolicy"
BLOCKS = ("parameters", "conditions", "resources", "outputs")
# Room left in each managed policy for growth of the catalogue between releases: parts are packed to
# this, the quota is MAX_MANAGED_POLICY_CHARS.
POLICY_HEADROOM = 144

# --- lifecycle permissions -------------------------------------------------------------------------

# The enforcer only quarantines (tagwarden.lifecycle.act); release and delete are the sweeper's. Of
# the quarantine table's actions it gets the reads and the reversible changes quarantining makes
# (stop, scale to 0, reserved concurrency 0, a bucket-policy statement): these verbs. Never Delete,
# Terminate or Start. tests/infra/test_template.py reads the row functions' calls to check it.
QUARANTINE_VERBS = ("Describe", "Get", "Put", "Stop", "Update")

# Tag action -> the action that removes such tags, where it is not the rule in `untag_action`.
UNTAG_EXCEPTIONS: dict[str, tuple[str, ...]] = {
    "ec2:CreateTags": ("ec2:DeleteTags",),
    "autoscaling:CreateOrUpdateTags": ("autoscaling:DeleteTags",),
    "mq:CreateTags": ("mq:DeleteTags",),
    "redshift:CreateTags": ("redshift:DeleteTags",),
    "workspaces:CreateTags": ("workspaces:DeleteTags",),
    "medialive:CreateTags": ("medialive:DeleteTags",),
    "sagemaker:AddTags": ("sagemaker:DeleteTags",),
    # One call adds and removes tags.
    "route53:ChangeTagsForResource": ("route53:ChangeTagsForResource",),
    "elasticbeanstalk:UpdateTagsForResource": ("elasticbeanstalk:UpdateTagsForResource",),
    # S3 DeleteBucketTagging is authorized by s3:PutBucketTagging (the sweeper reads, then puts the
    # rest back or deletes the set).
    "s3:GetBucketTagging": ("s3:GetBucketTagging",),
    "s3:PutBucketTagging": ("s3:PutBucketTagging",),
    # API Gateway UntagResource is DELETE /tags/{arn} (REST) and DELETE /v2/tags/{arn} (HTTP, WebSocket).
    "apigateway:PUT": ("apigateway:DELETE",),
    "apigateway:POST": ("apigateway:DELETE",),
}
# Reads the sweeper's untag calls make besides (tagwarden.aws.sweeper.UNTAG): the queue URL by name.
UNTAG_READS = ("sqs:GetQueueUrl",)
# Untag actions that must not get Resource "*" (as tagwarden.aws.patterns.ACTION_RESOURCES).
UNTAG_RESOURCES = {"apigateway:DELETE": "arn:${AWS::Partition}:apigateway:*::/tags/*"}


def untag_action(tag_action: str) -> tuple[str, ...]:
    """The IAM actions that remove the tags `tag_action` writes: TagX -> UntagX, AddTagsToX ->
    RemoveTagsFromX, AddTagsX -> RemoveTagsX, else UNTAG_EXCEPTIONS."""
    if tag_action in UNTAG_EXCEPTIONS:
        return UNTAG_EXCEPTIONS[tag_action]
    prefix, _, verb = tag_action.partition(":")
    for tag, untag in (("AddTagsTo", "RemoveTagsFrom"), ("AddTags", "RemoveTags"), ("Tag", "Untag")):
        if verb.startswith(tag):
            return (f"{prefix}:{untag}{verb.removeprefix(tag)}",)
    raise SystemExit(f"no untag action known for {tag_action}: add it to UNTAG_EXCEPTIONS")


def untag_actions(perms: TagPermissions) -> TagPermissions:
    """What removing marker tags needs: the counterpart of every tag action the enforcer has (a
    marked resource was tagged through one of them). The sweeper removes them through the service's
    own untag call (tagwarden.aws.sweeper.UNTAG) or through tag:UntagResources, which also needs the
    service's own untag permission; both are covered."""
    tagging = (*perms.actions, *(a for acts in perms.scoped.values() for a in acts))
    wanted = {u for action in tagging for u in untag_action(action)} | set(UNTAG_READS)
    scoped: dict[str, set[str]] = {}
    for action in wanted & set(UNTAG_RESOURCES):
        scoped.setdefault(UNTAG_RESOURCES[action], set()).add(action)
    return TagPermissions(
        actions=tuple(sorted(wanted - set(UNTAG_RESOURCES), key=str.lower)),
        scoped={arn: tuple(sorted(a)) for arn, a in sorted(scoped.items())},
        by_tagger={},
        missing=(),
    )


def quarantine_actions(actions: Sequence[str] = LIFECYCLE_ACTIONS) -> tuple[str, ...]:
    """The enforcer's share of the quarantine table's actions (QUARANTINE_VERBS)."""
    return tuple(a for a in actions if a.partition(":")[2].startswith(QUARANTINE_VERBS))


class _Dumper(yaml.SafeDumper):
    """Block style with sequences indented under their key, as the rest of template.yaml."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _yaml(data: Any, indent: int) -> str:
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000)
    return "".join(" " * indent + line + "\n" for line in text.splitlines())


def _rule(
    rule: str,
    description: str,
    pattern: Mapping[str, Any],
    depends: Sequence[str],
    condition: str | None = None,
) -> str:
    when = f"    Condition: {condition}\n" if condition else ""
    return (
        f"  {rule}:\n"
        "    Type: AWS::Events::Rule\n"
        f"{when}"
        f"    DependsOn: [{', '.join(depends)}]\n"
        "    Properties:\n"
        f"      Description: tagwarden - {description}\n"
        "      State: ENABLED\n"
        "      EventBusName: !Ref EventBusName\n"
        "      EventPattern:\n"
        f"{_yaml(dict(pattern), 8)}"
        "      Targets:\n"
        "        - Id: enforcer\n"
        "          Arn: !GetAtt Enforcer.Arn\n"
        "          RetryPolicy:\n"
        f"            MaximumRetryAttempts: {TARGET_MAX_RETRY_ATTEMPTS}\n"
        f"            MaximumEventAgeInSeconds: {TARGET_MAX_EVENT_AGE_SECONDS}\n"
        "          DeadLetterConfig:\n"
        "            Arn: !GetAtt DeadLetterQueue.Arn\n"
        f"  {rule}Invoke:\n"
        "    Type: AWS::Lambda::Permission\n"
        f"{when}"
        "    Properties:\n"
        "      Action: lambda:InvokeFunction\n"
        "      FunctionName: !GetAtt Enforcer.Arn\n"
        "      Principal: events.amazonaws.com\n"
        f"      SourceArn: !GetAtt {rule}.Arn\n"
    )


def _rules(patterns: Sequence[Mapping[str, Any]], depends: Sequence[str]) -> str:
    out = ""
    for n, pattern in enumerate(patterns, start=1):
        detail = pattern["detail"]
        out += (
            f"  # {len(detail['eventSource'])} event sources, {len(detail['eventName'])} event names: "
            f"{pattern_chars(pattern)} of {MAX_PATTERN_CHARS} characters\n"
        )
        out += _rule(
            RULE_ID.format(n=n), f"successful create calls, part {n} of {len(patterns)}", pattern, depends
        )
    out += (
        "  # The rules file's own catalogue entries (README, catalogue): their sources x their names, from\n"
        "  # the parameters; no rule while ExtraEventSources is empty.\n"
    )
    extra = extra_pattern({"Ref": "ExtraEventSources"}, {"Ref": "ExtraEventNames"})
    return out + _rule(
        EXTRA_RULE,
        "successful create calls the rules file's catalogue adds",
        extra,
        depends,
        "HasExtraEvents",
    )


# --- parameters and conditions: what the template cannot know at generation time ------------------

# An IAM action that writes tags and nothing else: what ExtraTagActions may hold. And what the
# extra rule's sources and names may be (CloudFormation checks each item of the list).
TAG_ACTION_PATTERN = r"^[a-z0-9-]+:(Tag|AddTags|CreateTags|CreateOrUpdateTags)[A-Za-z]*$"
EXTRA_SOURCE_PATTERN = r"^$|^[a-z0-9.-]+\.amazonaws\.com$"
EXTRA_NAME_PATTERN = r"^$|^[A-Za-z0-9]+$"


def _parameters() -> str:
    return (
        "  # The rules file's own `catalogue:` entries (README, catalogue): values from\n"
        "  # tagwarden.aws.patterns.extra_parameters(), printed by infra/aws/extra_parameters.py.\n"
        "  ExtraEventSources:\n"
        "    Type: CommaDelimitedList\n"
        '    Default: ""\n'
        f"    AllowedPattern: '{EXTRA_SOURCE_PATTERN}'\n"
        "    Description: >-\n"
        "      The eventSource of each create event the rules file's catalogue section adds (the\n"
        "      generated rules cover the built-in catalogue only). Empty: no extra rule.\n"
        "  ExtraEventNames:\n"
        "    Type: CommaDelimitedList\n"
        '    Default: ""\n'
        f"    AllowedPattern: '{EXTRA_NAME_PATTERN}'\n"
        "    Description: The eventName of each create event the rules file's catalogue section adds.\n"
        "  ExtraTagActions:\n"
        "    Type: CommaDelimitedList\n"
        '    Default: ""\n'
        f"    AllowedPattern: '^$|{TAG_ACTION_PATTERN}'\n"
        "    Description: >-\n"
        "      Tag-write IAM actions the catalogue section's taggers need beyond the built-in ones\n"
        "      (e.g. quantumledger:TagResource for a service tagged through the tagging API). Tag\n"
        "      writes only: the pattern refuses anything else.\n"
    )


def _conditions() -> str:
    return (
        '  HasExtraEvents: !Not [!Equals [!Join ["", !Ref ExtraEventSources], ""]]\n'
        '  HasExtraTagActions: !Not [!Equals [!Join ["", !Ref ExtraTagActions], ""]]\n'
    )


def _queue_policy(rules: Sequence[str]) -> str:
    arns = "".join(f"                  - !GetAtt {rule}.Arn\n" for rule in rules)
    arns += f"                  - !If [HasExtraEvents, !GetAtt {EXTRA_RULE}.Arn, !Ref AWS::NoValue]\n"
    return (
        "  DeadLetterQueuePolicy:\n"
        "    Type: AWS::SQS::QueuePolicy\n"
        "    Properties:\n"
        "      Queues:\n"
        "        - !Ref DeadLetterQueue\n"
        "      PolicyDocument:\n"
        '        Version: "2012-10-17"\n'
        "        Statement:\n"
        "          - Sid: UndeliverableEvents\n"
        "            Effect: Allow\n"
        "            Principal:\n"
        "              Service: events.amazonaws.com\n"
        "            Action: sqs:SendMessage\n"
        "            Resource: !GetAtt DeadLetterQueue.Arn\n"
        "            Condition:\n"
        "              ArnEquals:\n"
        "                aws:SourceArn:\n"
        f"{arns}"
    )


def _statement(sid: str, actions: Any, resource: Any = "*") -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource}


def _packed(
    perms: TagPermissions, sid: str, reserved: Sequence[dict[str, Any]] = ()
) -> list[list[dict[str, Any]]]:
    """The statements of each managed policy: the Resource "*" actions packed to the quota, the
    scoped statements (`reserved`) in the first."""
    empty = {"Version": "2012-10-17", "Statement": [*reserved, _statement(sid, [])]}
    limit = MAX_MANAGED_POLICY_CHARS - POLICY_HEADROOM
    parts = pack(perms.actions, limit - policy_chars(empty) + 2)
    policies = [[_statement(sid, list(part))] for part in parts]
    policies[0] = [*policies[0], *reserved]
    for statements in policies:
        size = policy_chars({"Version": "2012-10-17", "Statement": statements})
        assert size <= limit, size
    return policies


def _managed(
    logical: str, description: str, roles: Sequence[str], statements: Any, condition: str | None = None
) -> str:
    body: dict[str, Any] = {"Type": "AWS::IAM::ManagedPolicy"}
    if condition:
        body["Condition"] = condition
    body["Properties"] = {
        "Description": description,
        "Roles": [{"Ref": role} for role in roles],
        "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
    }
    return _yaml({logical: body}, 2)


def tag_policies(perms: TagPermissions) -> list[list[dict[str, Any]]]:
    """The statements of TagWritePolicy1..n."""
    scoped = [
        _statement(f"TagWritesOnPath{n}", list(actions), {"Fn::Sub": arn})
        for n, (arn, actions) in enumerate(perms.scoped.items(), start=1)
    ]
    return _packed(perms, "TagWrites", scoped)


def untag_policies(untag: TagPermissions) -> list[list[dict[str, Any]]]:
    """The statements of MarkerRemovalPolicy1..n."""
    scoped = [
        _statement(f"MarkerRemovalOnPath{n}", list(actions), {"Fn::Sub": arn})
        for n, (arn, actions) in enumerate(untag.scoped.items(), start=1)
    ]
    return _packed(untag, "MarkerRemoval", scoped)


def _tag_policy(perms: TagPermissions) -> str:
    policies = tag_policies(perms)
    out = (
        "  # The tag-write actions of every tagger the CloudTrail catalogue names, hand-written and derived\n"
        "  # (Resource *: created resources are arbitrary); no action here deletes or replaces anything but\n"
        '  # tags. The sweeper writes marks too ("notified", a retried quarantine\'s marker) on whatever\n'
        "  # resource it finds marked: the same actions. Managed policies, packed to IAM's 6,144-character\n"
        "  # quota: the ~270 actions exceed a role's 10,240 characters of inline policy.\n"
    )
    for n, statements in enumerate(policies, start=1):
        out += _managed(
            TAG_POLICY.format(n=n),
            f"tagwarden - tag writes of the catalogue's taggers, part {n} of {len(policies)}",
            ("EnforcerRole", "SweeperRole"),
            statements,
        )
    out += "  # The tag actions the rules file's own catalogue entries need (parameter ExtraTagActions).\n"
    out += _managed(
        EXTRA_TAG_POLICY,
        "tagwarden - tag writes the rules file's catalogue section adds",
        ("EnforcerRole", "SweeperRole"),
        [_statement("ExtraTagWrites", {"Ref": "ExtraTagActions"})],
        "HasExtraTagActions",
    )
    return out


def _untag_policy(untag: TagPermissions) -> str:
    policies = untag_policies(untag)
    out = "  # The sweeper removes the marker tags of released resources: each tag action's counterpart.\n"
    for n, statements in enumerate(policies, start=1):
        out += _managed(
            UNTAG_POLICY.format(n=n),
            f"tagwarden - marker-tag removal, part {n} of {len(policies)}",
            ("SweeperRole",),
            statements,
        )
    return out


def _listed(actions: Sequence[str]) -> str:
    return "".join(f"              - {action}\n" for action in actions)


# The tag every marked resource carries (tagwarden.lifecycle.marker.Keys with the default prefix)
# and the tag that protects a resource (lifecycle.protect_tag's default): IAM conditions use both.
MARKER_TAG = "tagwarden:quarantine"
PROTECT_TAG = "tagwarden:protect"
# Deletions of resources that do not carry the marker themselves: the EBS volumes a terminated,
# marked instance leaves behind (DeleteOnTermination off).
UNMARKED_DELETES = ("ec2:DeleteVolume",)
# Bucket-policy writes: the quarantine statement (enforcer) and its removal (sweeper).
BUCKET_POLICY = ("s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy")
# What releasing writes: never denied on a protected resource (one protected after its quarantine
# must still be released).
RELEASE_WRITES = (*BUCKET_POLICY, "lambda:DeleteFunctionConcurrency")


def sweeper_denied(actions: Sequence[str]) -> tuple[str, ...]:
    """The sweeper's deletes and stops, which a resource tagged protect=true never gets."""
    stops = tuple(a for a in actions if a.partition(":")[2].startswith("Stop"))
    _, marked, unmarked = split_lifecycle(actions)
    return tuple(a for a in (*marked, *unmarked) if a not in RELEASE_WRITES) + stops


def is_delete(action: str) -> bool:
    return action.partition(":")[2].startswith(("Delete", "Terminate"))


def split_lifecycle(actions: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(release and reads, deletes of marked resources (and bucket-policy writes), other deletes)."""
    marked = tuple(a for a in actions if (is_delete(a) or a in BUCKET_POLICY) and a not in UNMARKED_DELETES)
    unmarked = tuple(a for a in actions if a in UNMARKED_DELETES)
    return tuple(a for a in actions if a not in marked and a not in unmarked), marked, unmarked


def _deny_protected(actions: Sequence[str]) -> str:
    return (
        "          - Sid: ProtectedStayUntouched\n"
        "            Effect: Deny\n"
        "            Action:\n"
        f"{_listed(actions)}"
        '            Resource: "*"\n'
        "            Condition:\n"
        "              StringEqualsIgnoreCase:\n"
        f'                "aws:ResourceTag/{PROTECT_TAG}": "true"\n'
    )


def _lifecycle_policies(quarantine: Sequence[str], lifecycle: Sequence[str], untag: TagPermissions) -> str:
    release, marked, unmarked = split_lifecycle(lifecycle)
    enforcer_buckets = tuple(a for a in quarantine if a in BUCKET_POLICY)
    enforcer_rest = tuple(a for a in quarantine if a not in BUCKET_POLICY)
    enforcer_changes = tuple(a for a in quarantine if not a.partition(":")[2].startswith(("Describe", "Get")))
    return (
        "  # Quarantine, release and delete, per resource type (tagwarden.aws.quarantine.registry).\n"
        "  # These actions stop, scale down, lock and delete resources: they are granted because the rules\n"
        "  # may say quarantine or delete. Nothing is acted on while the rules file says\n"
        "  # lifecycle.dry_run: true, and nothing is deleted until it says lifecycle.delete_dry_run: false.\n"
        "  # Resource *: the resources are arbitrary. Each action is named: no wildcard. No action may\n"
        f"  # touch a resource tagged {PROTECT_TAG}=true (an explicit Deny on aws:ResourceTag).\n"
        "  # The enforcer quarantines at create time: reads and reversible changes only; its bucket-policy\n"
        "  # writes are limited to the account's own buckets (the statement it adds is a Deny).\n"
        "  EnforcerQuarantinePolicy:\n"
        "    Type: AWS::IAM::RolePolicy\n"
        "    Properties:\n"
        "      RoleName: !Ref EnforcerRole\n"
        "      PolicyName: quarantine\n"
        "      PolicyDocument:\n"
        '        Version: "2012-10-17"\n'
        "        Statement:\n"
        "          - Sid: Quarantine\n"
        "            Effect: Allow\n"
        "            Action:\n"
        f"{_listed(enforcer_rest)}"
        '            Resource: "*"\n'
        "          - Sid: QuarantineBuckets\n"
        "            Effect: Allow\n"
        "            Action:\n"
        f"{_listed(enforcer_buckets)}"
        '            Resource: !Sub "arn:${AWS::Partition}:s3:::*"\n'
        "            Condition:\n"
        "              StringEquals:\n"
        '                "aws:ResourceAccount": !Ref AWS::AccountId\n'
        f"{_deny_protected(enforcer_changes)}"
        "  # The sweeper releases (start, restore, remove the bucket-policy statement), deletes\n"
        f"  # past-deadline resources only while they carry the marker tag ({MARKER_TAG}), never one\n"
        f"  # tagged {PROTECT_TAG}=true, and removes the marker tags of released ones (the untag\n"
        "  # counterpart of each tag action: MarkerRemovalPolicy*).\n"
        "  SweeperLifecyclePolicy:\n"
        "    Type: AWS::IAM::RolePolicy\n"
        "    Properties:\n"
        "      RoleName: !Ref SweeperRole\n"
        "      PolicyName: release-delete-untag\n"
        "      PolicyDocument:\n"
        '        Version: "2012-10-17"\n'
        "        Statement:\n"
        "          - Sid: Release\n"
        "            Effect: Allow\n"
        "            Action:\n"
        f"{_listed(release)}"
        '            Resource: "*"\n'
        "          - Sid: DeleteMarked\n"
        "            Effect: Allow\n"
        "            Action:\n"
        f"{_listed(marked)}"
        '            Resource: "*"\n'
        "            Condition:\n"
        '              "Null":\n'
        f'                "aws:ResourceTag/{MARKER_TAG}": "false"\n'
        "          - Sid: DeleteLeftovers\n"
        "            Effect: Allow\n"
        "            Action:\n"
        f"{_listed(unmarked)}"
        '            Resource: "*"\n'
        f"{_deny_protected(sweeper_denied(lifecycle))}"
    ) + _untag_policy(untag)


def _outputs(rules: Sequence[str]) -> str:
    refs = "".join(f"        - !Ref {rule}\n" for rule in rules)
    return (
        "  CreateEventsRuleNames:\n"
        "    Description: The EventBridge rules that send create events to the enforcer (comma-separated).\n"
        "    Value: !Join\n"
        '      - ","\n'
        f"      - {refs.lstrip()}"
    )


def blocks(
    patterns: Sequence[Mapping[str, Any]],
    perms: TagPermissions,
    lifecycle: Sequence[str] = LIFECYCLE_ACTIONS,
) -> dict[str, str]:
    """The text of each generated block, keyed by block name."""
    if perms.missing:
        raise SystemExit(f"the tagger table has no row for catalogue taggers {list(perms.missing)}")
    rules = [RULE_ID.format(n=n) for n in range(1, len(patterns) + 1)]
    depends = [TAG_POLICY.format(n=n) for n in range(1, len(tag_policies(perms)) + 1)]
    resources = _rules(patterns, [*depends, "EnforcerQuarantinePolicy"])
    resources += _queue_policy(rules) + _tag_policy(perms)
    resources += _lifecycle_policies(quarantine_actions(lifecycle), lifecycle, untag_actions(perms))
    return {
        "parameters": _parameters(),
        "conditions": _conditions(),
        "resources": resources,
        "outputs": _outputs(rules),
    }


def current_blocks() -> dict[str, str]:
    from tagwarden.aws.taggers import TAGGERS

    return blocks(event_patterns(), tag_actions(TAGGERS))


def render(text: str, generated: Mapping[str, str]) -> str:
    """`text` with the body of each marked block replaced."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    open_block: str | None = None
    seen: set[str] = set()
    for line in lines:
        stripped = line.strip()
        if open_block is None:
            out.append(line)
            for name in BLOCKS:
                if stripped.startswith(f"# >>> GENERATED {name}"):
                    open_block = name
                    out.append(generated[name])
        elif stripped.startswith(f"# <<< GENERATED {open_block}"):
            seen.add(open_block)
            open_block = None
            out.append(line)
    missing = set(BLOCKS) - seen
    if open_block is not None or missing:
        raise SystemExit(f"template.yaml lacks the markers of the generated blocks {sorted(missing)}")
    return "".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if template.yaml is not up to date")
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    args = parser.parse_args(argv)
    text = args.template.read_text()
    new = render(text, current_blocks())
    if args.check:
        if new != text:
            print(f"{args.template} is stale: run {Path(__file__).relative_to(ROOT)}", file=sys.stderr)
            return 1
        return 0
    if new != text:
        args.template.write_text(new)
        print(f"updated {args.template}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
