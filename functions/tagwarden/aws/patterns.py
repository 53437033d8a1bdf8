"""EventBridge rules for the CloudTrail catalogue, and the IAM actions its taggers need: pure data.

`event_patterns()` turns the catalogue (`ENTRIES`) into as few EventBridge event patterns as the
pattern-size quota allows. Each pattern matches successful "AWS API Call via CloudTrail" events
of some services (no `errorCode`) by `eventSource` and `eventName`::

    {"source": ["aws.ec2", ...], "detail-type": ["AWS API Call via CloudTrail"],
     "detail": {"eventSource": ["ec2.amazonaws.com", ...], "eventName": ["RunInstances", ...],
                "errorCode": [{"exists": false}]}}

Every event source lives in exactly one pattern, so every catalogue row is matched by exactly one
rule. A pattern matches the cross product of its sources and names; pairs that are not catalogue
rows (`stray_pairs`) reach the handler only if the service has an API of that name, and are then
skipped as unknown events. Sources are packed so that services sharing event names (CreateCluster,
CreateApplication ...) share a pattern, which keeps patterns small and stray pairs few.

`tag_actions()` gives the IAM actions the enforcer's role needs to write tags through the taggers
the catalogue names. It reads the tagger rows (tagwarden.aws.taggers.TAGGERS) passed to it, duck
typed, so this module imports neither boto3 nor botocore; the mapping from boto3 client names to
IAM service prefixes, and the few calls whose IAM action is not the operation's name, are data
below.

Nothing here runs in the Lambda: infra/aws/generate_template.py writes its output into
template.yaml, and tests/aws/test_patterns.py checks it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

from tagwarden.aws.catalogue import ENTRIES, Entry

DETAIL_TYPE = "AWS API Call via CloudTrail"

# EventBridge quota "Event pattern size": 2,048 characters by default (adjustable up to 4,096).
# Sizes are measured as json.dumps writes them, with a space after each ',' and ':', which is more
# than any serialization CloudFormation or the console sends, so a pattern under it fits.
MAX_PATTERN_CHARS = 2048

# EventBridge `source` of CloudTrail events is "aws." + the eventSource's service prefix
# (es.amazonaws.com -> aws.es, monitoring.amazonaws.com -> aws.monitoring,
# elasticmapreduce.amazonaws.com -> aws.elasticmapreduce; checked against the EventBridge events
# reference for every catalogue source). An eventSource that breaks the rule goes here.
SOURCE_EXCEPTIONS: Mapping[str, str] = MappingProxyType({})

Pattern = dict[str, Any]


def eventbridge_source(event_source: str) -> str:
    """The EventBridge `source` of CloudTrail events whose eventSource is `event_source`."""
    exception = SOURCE_EXCEPTIONS.get(event_source)
    if exception is not None:
        return exception
    return "aws." + event_source.removesuffix(".amazonaws.com")


def pattern_chars(pattern: Mapping[str, Any]) -> int:
    """The size EventBridge's quota counts, measured generously (see MAX_PATTERN_CHARS)."""
    return len(json.dumps(pattern))


def build_pattern(events: Mapping[str, Iterable[str]]) -> Pattern:
    """One pattern for {eventSource: eventNames}; lists sorted, so the output is deterministic."""
    names = sorted({name for group in events.values() for name in group})
    return {
        "source": sorted({eventbridge_source(source) for source in events}),
        "detail-type": [DETAIL_TYPE],
        "detail": {
            "eventSource": sorted(events),
            "eventName": names,
            "errorCode": [{"exists": False}],
        },
    }


def events_by_source(entries: Iterable[Entry] = ENTRIES) -> dict[str, frozenset[str]]:
    grouped: dict[str, set[str]] = {}
    for entry in entries:
        grouped.setdefault(entry.source, set()).add(entry.event)
    return {source: frozenset(names) for source, names in sorted(grouped.items())}


def event_patterns(entries: Iterable[Entry] = ENTRIES, max_chars: int = MAX_PATTERN_CHARS) -> list[Pattern]:
    """As few patterns as fit in `max_chars` each, covering every (eventSource, eventName) once.

    Best fit, largest source first: each source joins the pattern it enlarges least (so sources
    sharing names go together), or starts a new one. Deterministic for a given catalogue.
    """
    by_source = events_by_source(entries)
    alone = {source: pattern_chars(build_pattern({source: names})) for source, names in by_source.items()}
    too_big = sorted(source for source, size in alone.items() if size > max_chars)
    if too_big:
        raise ValueError(f"a pattern for {too_big} alone exceeds {max_chars} characters")
    groups: list[dict[str, frozenset[str]]] = []
    sizes: list[int] = []
    for source in sorted(by_source, key=lambda s: (-alone[s], s)):
        best: tuple[int, int, int] | None = None  # (growth, index, new size)
        for index, group in enumerate(groups):
            size = pattern_chars(build_pattern({**group, source: by_source[source]}))
            if size <= max_chars and (best is None or size - sizes[index] < best[0]):
                best = (size - sizes[index], index, size)
        if best is None:
            groups.append({source: by_source[source]})
            sizes.append(alone[source])
        else:
            _, index, size = best
            groups[index][source] = by_source[source]
            sizes[index] = size
    patterns = [build_pattern(group) for group in groups]
    return sorted(patterns, key=lambda p: p["detail"]["eventSource"])


def stray_pairs(
    patterns: Iterable[Mapping[str, Any]], entries: Iterable[Entry] = ENTRIES
) -> set[tuple[str, str]]:
    """(eventSource, eventName) pairs the patterns match that are not catalogue rows."""
    known = {(entry.source, entry.event) for entry in entries}
    matched = {
        (source, name)
        for pattern in patterns
        for source in pattern["detail"]["eventSource"]
        for name in pattern["detail"]["eventName"]
    }
    return matched - known


# --- IAM ---------------------------------------------------------------------------------------

# boto3 client name -> IAM service prefix, where they differ.
IAM_PREFIX: Mapping[str, str] = MappingProxyType(
    {
        "apigatewayv2": "apigateway",
        "bedrock-agent": "bedrock",
        "bedrock-agentcore-control": "bedrock-agentcore",
        "cloudhsmv2": "cloudhsm",
        "efs": "elasticfilesystem",
        "elb": "elasticloadbalancing",
        "elbv2": "elasticloadbalancing",
        "emr": "elasticmapreduce",
        "kinesisanalyticsv2": "kinesisanalytics",
        "mwaa": "airflow",
        "opensearch": "es",
        "opensearchserverless": "aoss",
        "resourcegroupstaggingapi": "tag",
        "sesv2": "ses",
        "stepfunctions": "states",
        "timestream-write": "timestream",
    }
)

# (boto3 client, method) -> IAM actions, where the action is not the operation's name.
CALL_ACTIONS: Mapping[tuple[str, str], tuple[str, ...]] = MappingProxyType(
    {
        # API Gateway authorizes by HTTP verb on the resource path: TagResource is PUT /tags/{arn}
        # (REST APIs) and POST /v2/tags/{arn} (HTTP and WebSocket APIs). See ACTION_RESOURCES.
        ("apigateway", "tag_resource"): ("apigateway:PUT",),
        ("apigatewayv2", "tag_resource"): ("apigateway:POST",),
        # IAM's spelling of the acronyms (IAM matches actions case-insensitively; this is for readers).
        ("iam", "tag_open_id_connect_provider"): ("iam:TagOpenIDConnectProvider",),
        ("iam", "tag_saml_provider"): ("iam:TagSAMLProvider",),
        ("iam", "tag_mfa_device"): ("iam:TagMFADevice",),
    }
)

# Actions that must not get Resource "*": the ARN pattern (CloudFormation !Sub syntax) they get.
ACTION_RESOURCES: Mapping[str, str] = MappingProxyType(
    {
        "apigateway:PUT": "arn:${AWS::Partition}:apigateway:*::/tags/*",
        "apigateway:POST": "arn:${AWS::Partition}:apigateway:*::/tags/*",
    }
)

# S3 tags are replaced as a set: the tagger reads them, merges, and writes them back.
S3_ACTIONS = ("s3:GetBucketTagging", "s3:PutBucketTagging")

# The Resource Groups Tagging API also needs the owning service's own tag permission ("to tag an
# EC2 instance with TagResources you need tag:TagResources and ec2:CreateTags"). For rows tagged
# through it that is "<IAM prefix>:TagResource" unless listed here. CodeBuild has no tag action:
# its tags change only through codebuild:UpdateProject, which can also rewrite a project's
# buildspec, so it is deliberately not granted and CodeBuild projects are not tagged.
RGTA_ACTION = "tag:TagResources"
RGTA_SERVICE_ACTIONS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "codebuild": (),
        "servicecatalog-appregistry": ("servicecatalog:TagResource",),
        "cloudsearch": ("cloudsearch:AddTags",),  # its own API's tag call (not in botocore's model)
        "pinpoint": ("mobiletargeting:TagResource",),  # CloudTrail's source; IAM's prefix differs
    }
)


class TaggerRow(Protocol):
    """What `tag_actions` reads from a tagwarden.aws.taggers.TaggerSpec."""

    @property
    def service(self) -> str: ...

    @property
    def method(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def by_type(self) -> Mapping[str, TaggerRow]: ...


def _camel(method: str) -> str:
    return "".join(part.capitalize() for part in method.split("_"))


def row_actions(row: TaggerRow) -> tuple[str, ...]:
    """The IAM actions one tagger row's calls need (rows for several types: all of theirs)."""
    kind = str(row.kind)
    actions: list[str] = []
    if kind == "s3":
        actions.extend(S3_ACTIONS)
    elif kind == "rgta":
        actions.append(RGTA_ACTION)
    elif kind == "api":
        explicit = CALL_ACTIONS.get((row.service, row.method))
        prefix = IAM_PREFIX.get(row.service, row.service)
        actions.extend(explicit or (f"{prefix}:{_camel(row.method)}",))
    # by-type rows hold their calls in by_type; untaggable and declined rows make no call.
    for sub in row.by_type.values():
        actions.extend(row_actions(sub))
    return tuple(dict.fromkeys(actions))


@dataclass(frozen=True, slots=True)
class TagPermissions:
    actions: tuple[str, ...]  # for Resource "*": resources are arbitrary
    scoped: Mapping[str, tuple[str, ...]]  # resource ARN pattern -> actions
    by_tagger: Mapping[str, tuple[str, ...]]  # tagger name -> its actions, for reports and tests
    missing: tuple[str, ...]  # catalogue tagger names with no row in the registry


def tag_actions(taggers: Mapping[str, TaggerRow], entries: Iterable[Entry] = ENTRIES) -> TagPermissions:
    """The IAM actions needed to tag every resource the catalogue creates, from the tagger rows."""
    entries = tuple(entries)
    by_tagger: dict[str, tuple[str, ...]] = {}
    missing: set[str] = set()
    for name in sorted({c.tagger for entry in entries for c in entry.creates}):
        row = taggers.get(name)
        if row is None:
            missing.add(name)
            continue
        by_tagger[name] = row_actions(row)
    rgta_services: set[str] = {
        entry.service
        for entry in entries
        for c in entry.creates
        if c.tagger in by_tagger and RGTA_ACTION in by_tagger[c.tagger]
    }
    wanted: set[str] = {action for actions in by_tagger.values() for action in actions}
    for service in rgta_services:
        wanted.update(RGTA_SERVICE_ACTIONS.get(service, (f"{service}:TagResource",)))
    scoped: dict[str, set[str]] = {}
    for action in wanted:
        if action in ACTION_RESOURCES:
            scoped.setdefault(ACTION_RESOURCES[action], set()).add(action)
    return TagPermissions(
        actions=tuple(sorted(wanted - set(ACTION_RESOURCES), key=str.lower)),
        scoped=MappingProxyType({arn: tuple(sorted(a)) for arn, a in sorted(scoped.items())}),
        by_tagger=MappingProxyType(by_tagger),
        missing=tuple(sorted(missing)),
    )


__all__ = [
    "DETAIL_TYPE",
    "MAX_PATTERN_CHARS",
    "SOURCE_EXCEPTIONS",
    "TagPermissions",
    "TaggerRow",
    "build_pattern",
    "event_patterns",
    "eventbridge_source",
    "events_by_source",
    "pattern_chars",
    "row_actions",
    "stray_pairs",
    "tag_actions",
]
