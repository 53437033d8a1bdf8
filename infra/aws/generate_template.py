"""Write the generated blocks of template.yaml: EventBridge rules, permissions, tag-write policy.

Re-run after changing the CloudTrail catalogue (tagwarden/normalize/aws/catalogue) or the tagger
table (tagwarden/aws/taggers/registry.py), from the repository root:

    .venv/bin/python infra/aws/generate_template.py            # rewrite template.yaml in place
    .venv/bin/python infra/aws/generate_template.py --check    # exit 1 if template.yaml is stale

(tests/aws/test_patterns.py fails while template.yaml is stale.)

It replaces the text between the "# >>> GENERATED <name>" and "# <<< GENERATED <name>" marker
lines of template.yaml and leaves everything else as written:

- resources: one AWS::Events::Rule per pattern of tagwarden.aws.patterns.event_patterns(), each
  with its AWS::Lambda::Permission, target retry policy and dead-letter queue; the dead-letter
  queue's policy (EventBridge may send only for these rules); and TagWritePolicy, the role's tag
  actions from tagwarden.aws.patterns.tag_actions().
- outputs: CreateEventsRuleNames.
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
    MAX_PATTERN_CHARS,
    TagPermissions,
    event_patterns,
    pattern_chars,
    tag_actions,
)

# EventBridge -> Lambda delivery (fails only when the invoke itself fails: throttling, permissions,
# a Lambda outage); after that the event goes to the dead-letter queue.
TARGET_MAX_RETRY_ATTEMPTS = 24
TARGET_MAX_EVENT_AGE_SECONDS = 3600

RULE_ID = "CreateEventsRule{n}"
BLOCKS = ("resources", "outputs")


class _Dumper(yaml.SafeDumper):
    """Block style with sequences indented under their key, as the rest of template.yaml."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _yaml(data: Any, indent: int) -> str:
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000)
    return "".join(" " * indent + line + "\n" for line in text.splitlines())


def _rule(n: int, total: int, pattern: Mapping[str, Any]) -> str:
    rule = RULE_ID.format(n=n)
    detail = pattern["detail"]
    return (
        f"  # {len(detail['eventSource'])} event sources, {len(detail['eventName'])} event names: "
        f"{pattern_chars(pattern)} of {MAX_PATTERN_CHARS} characters\n"
        f"  {rule}:\n"
        "    Type: AWS::Events::Rule\n"
        "    DependsOn: TagWritePolicy\n"
        "    Properties:\n"
        f"      Description: tagwarden - successful create calls, part {n} of {total}\n"
        "      State: ENABLED\n"
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
        "    Properties:\n"
        "      Action: lambda:InvokeFunction\n"
        "      FunctionName: !GetAtt Enforcer.Arn\n"
        "      Principal: events.amazonaws.com\n"
        f"      SourceArn: !GetAtt {rule}.Arn\n"
    )


def _queue_policy(rules: Sequence[str]) -> str:
    arns = "".join(f"                  - !GetAtt {rule}.Arn\n" for rule in rules)
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


def _tag_policy(perms: TagPermissions) -> str:
    actions = "".join(f"              - {action}\n" for action in perms.actions)
    scoped = ""
    for n, (arn, scoped_actions) in enumerate(perms.scoped.items(), start=1):
        listed = "".join(f"              - {action}\n" for action in scoped_actions)
        scoped += (
            f"          - Sid: TagWritesOnPath{n}\n"
            "            Effect: Allow\n"
            "            Action:\n"
            f"{listed}"
            f'            Resource: !Sub "{arn}"\n'
        )
    return (
        "  # The tag-write actions of every tagger the CloudTrail catalogue names (Resource *: created\n"
        "  # resources are arbitrary); no action here deletes or replaces anything but tags.\n"
        "  TagWritePolicy:\n"
        "    Type: AWS::IAM::RolePolicy\n"
        "    Properties:\n"
        "      RoleName: !Ref EnforcerRole\n"
        "      PolicyName: tag-writes\n"
        "      PolicyDocument:\n"
        '        Version: "2012-10-17"\n'
        "        Statement:\n"
        "          - Sid: TagWrites\n"
        "            Effect: Allow\n"
        "            Action:\n"
        f"{actions}"
        '            Resource: "*"\n'
        f"{scoped}"
    )


def _outputs(rules: Sequence[str]) -> str:
    refs = "".join(f"        - !Ref {rule}\n" for rule in rules)
    return (
        "  CreateEventsRuleNames:\n"
        "    Description: The EventBridge rules that send create events to the enforcer (comma-separated).\n"
        "    Value: !Join\n"
        '      - ","\n'
        f"      - {refs.lstrip()}"
    )


def blocks(patterns: Sequence[Mapping[str, Any]], perms: TagPermissions) -> dict[str, str]:
    """The text of each generated block, keyed by block name."""
    if perms.missing:
        raise SystemExit(f"the tagger table has no row for catalogue taggers {list(perms.missing)}")
    rules = [RULE_ID.format(n=n) for n in range(1, len(patterns) + 1)]
    resources = "".join(_rule(n, len(patterns), p) for n, p in enumerate(patterns, start=1))
    resources += _queue_policy(rules) + _tag_policy(perms)
    return {"resources": resources, "outputs": _outputs(rules)}


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
