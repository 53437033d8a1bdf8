"""EventBridge rules for the CloudTrail catalogue, and the IAM actions its taggers need: pure data.

The catalogue is the whole of it: the hand-written rows and the derived ones
(tagwarden.aws.catalogue.all_entries(), ~1,250 create events over ~275 services).

`event_patterns()` turns it into as few EventBridge event patterns as the pattern-size quota
allows. Each pattern matches successful "AWS API Call via CloudTrail" events of some services (no
`errorCode`) by `eventSource` and exact `eventName`::

    {"source": [{"prefix": "aws."}], "detail-type": ["AWS API Call via CloudTrail"],
     "detail": {"eventSource": ["ec2.amazonaws.com", ...], "eventName": ["RunInstances", ...],
                "errorCode": [{"exists": false}]}}

`source` is a prefix, not the list of services: the eventSource list does the selecting, and
"aws." keeps the rules to events of AWS services (a custom PutEvents may not use an "aws." source),
as the list did, in 25 characters instead of ~4,000 over all the patterns. Names are exact, not
prefixes such as "Create": a prefix would also send ec2 CreateTags (a tag write, the sweeper's
TagWrites rule's business), logs CreateLogStream, kms CreateGrant, sso-oidc CreateToken ... to the
enforcer, an invocation each.

Every event source lives in exactly one pattern, so every catalogue row is matched by exactly one
rule. A pattern matches the cross product of its sources and names; pairs that are not catalogue
rows (`stray_pairs`) reach the handler only if the service has an API of that name, and are then
skipped as unknown events. Sources are packed so that services sharing event names (CreateCluster,
CreateApplication ...) share a pattern, which keeps patterns small and stray pairs few.

`extra_pattern()` is the pattern of the rule for the rules file's own `catalogue:` entries, whose
sources a template cannot know: template parameters fill it (`ExtraEventSources`, ...;
`extra_parameters()` computes their values from a rules file's entries).

`tag_actions()` gives the IAM actions the enforcer's role needs to write tags through the taggers
the catalogue names. It reads the tagger rows (tagwarden.aws.taggers.TAGGERS) passed to it, duck
typed, so this module imports neither boto3 nor botocore; the mapping from boto3 client names to
IAM service prefixes, and the few calls whose IAM action is not the operation's name, are data
below. `pack()` splits such a list into policies within IAM's managed-policy size quota.

Nothing here runs in the Lambda: infra/aws/generate_template.py writes its output into
template.yaml, and tests/aws/test_patterns.py checks it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

from tagwarden.aws.catalogue import Entry, all_entries

DETAIL_TYPE = "AWS API Call via CloudTrail"
# What a service does on its own (e.g. Organizations' CreateAccountResult once an account exists):
# CloudTrail's service events, read from serviceEventDetails (Entry.service_event).
SERVICE_DETAIL_TYPE = "AWS Service Event via CloudTrail"

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


# The sources of AWS services' events (see the module docstring).
AWS_SOURCES: list[Any] = [{"prefix": "aws."}]


def build_pattern(events: Mapping[str, Iterable[str]], detail_type: str = DETAIL_TYPE) -> Pattern:
    """One pattern for {eventSource: eventNames}; lists sorted, so the output is deterministic."""
    names = sorted({name for group in events.values() for name in group})
    return {
        "source": list(AWS_SOURCES),
        "detail-type": [detail_type],
        "detail": {
            "eventSource": sorted(events),
            "eventName": names,
            "errorCode": [{"exists": False}],
        },
    }


def catalogue(entries: Iterable[Entry] | None = None) -> tuple[Entry, ...]:
    """`entries`, or the whole catalogue (hand-written and derived) when None."""
    return all_entries() if entries is None else tuple(entries)


def events_by_source(entries: Iterable[Entry] | None = None) -> dict[str, frozenset[str]]:
    grouped: dict[str, set[str]] = {}
    for entry in catalogue(entries):
        grouped.setdefault(entry.source, set()).add(entry.event)
    return {source: frozenset(names) for source, names in sorted(grouped.items())}


def event_patterns(
    entries: Iterable[Entry] | None = None, max_chars: int = MAX_PATTERN_CHARS
) -> list[Pattern]:
    """As few patterns as fit in `max_chars` each, covering every (eventSource, eventName) once.

    Best fit: each source, in turn, joins the pattern it enlarges least (so sources sharing names go
    together), or starts a new one. Two orders are tried, largest source first and most shared
    names first, and the one needing fewer patterns is kept (bin packing has no cheap optimum;
    with the whole catalogue the orders differ by one rule). Deterministic for a given catalogue.
    """
    rows = catalogue(entries)
    calls = [entry for entry in rows if not entry.service_event]
    services = [entry for entry in rows if entry.service_event]
    patterns = _packed_patterns(events_by_source(calls), max_chars)
    if services:  # few: one pattern of their own, with their own detail-type
        patterns.append(build_pattern(events_by_source(services), SERVICE_DETAIL_TYPE))
    return sorted(patterns, key=lambda p: p["detail"]["eventSource"])


def _packed_patterns(by_source: Mapping[str, frozenset[str]], max_chars: int) -> list[Pattern]:
    alone = {source: pattern_chars(build_pattern({source: names})) for source, names in by_source.items()}
    too_big = sorted(source for source, size in alone.items() if size > max_chars)
    if too_big:
        raise ValueError(f"a pattern for {too_big} alone exceeds {max_chars} characters")
    uses = Counter(name for names in by_source.values() for name in names)
    orders = (
        sorted(by_source, key=lambda s: (-alone[s], s)),
        sorted(by_source, key=lambda s: (-sum(uses[n] > 1 for n in by_source[s]), s)),
    )
    groups = min((_best_fit(order, by_source, alone, max_chars) for order in orders), key=len)
    return [build_pattern(group) for group in groups]


def _best_fit(
    order: Iterable[str], by_source: Mapping[str, frozenset[str]], alone: Mapping[str, int], max_chars: int
) -> list[dict[str, frozenset[str]]]:
    groups: list[dict[str, frozenset[str]]] = []
    sizes: list[int] = []
    for source in order:
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
    return groups


def stray_pairs(
    patterns: Iterable[Mapping[str, Any]], entries: Iterable[Entry] | None = None
) -> set[tuple[str, str]]:
    """(eventSource, eventName) pairs the patterns match that are not catalogue rows."""
    known = {(entry.source, entry.event) for entry in catalogue(entries)}
    matched = {
        (source, name)
        for pattern in patterns
        for source in pattern["detail"]["eventSource"]
        for name in pattern["detail"]["eventName"]
    }
    return matched - known


def extra_pattern(sources: Any, names: Any) -> Pattern:
    """The rule for the rules file's own `catalogue:` entries: `sources` x `names` (template
    parameters, as CloudFormation `Ref`s, or lists), successful calls only, as every other rule."""
    return {
        "source": list(AWS_SOURCES),
        "detail-type": [DETAIL_TYPE],
        "detail": {"eventSource": sources, "eventName": names, "errorCode": [{"exists": False}]},
    }


# --- IAM ---------------------------------------------------------------------------------------

# boto3 client name (or the service part of a tagging-API row's eventSource) -> IAM service prefix,
# where they differ. Checked against the IAM service authorization reference (cfn-lint's copy) by
# tests/aws/test_patterns.py; for derived clients it is usually the model's signingName.
IAM_PREFIX: Mapping[str, str] = MappingProxyType(
    {
        "agent-registry-control": "agent-registry",
        "amp": "aps",
        "apigatewayv2": "apigateway",
        "appintegrations": "app-integrations",
        "backupsearch": "backup-search",
        "bedrock-agent": "bedrock",
        "bedrock-agent-runtime": "bedrock",
        "bedrock-agentcore-control": "bedrock-agentcore",
        "bedrock-data-automation": "bedrock",
        "chime-sdk-identity": "chime",
        "chime-sdk-media-pipelines": "chime",
        "chime-sdk-meetings": "chime",
        "chime-sdk-messaging": "chime",
        "chime-sdk-voice": "chime",
        "cleanroomsml": "cleanrooms-ml",
        "cloudhsmv2": "cloudhsm",
        "codeguruprofiler": "codeguru-profiler",
        "connectcampaigns": "connect-campaigns",
        "connectcases": "cases",
        "connecthealth": "health-agent",
        "customer-profiles": "profile",
        "efs": "elasticfilesystem",
        "elb": "elasticloadbalancing",
        "elbv2": "elasticloadbalancing",
        "elementalinference": "elemental-inference",
        "emr": "elasticmapreduce",
        "endusermessaging": "end-user-messaging",
        "eventbridgev2": "events",
        "greengrassv2": "greengrass",
        "iot-managed-integrations": "iotmanagedintegrations",
        "ivs-realtime": "ivs",
        "keyspaces": "cassandra",
        "kinesisanalyticsv2": "kinesisanalytics",
        "location": "geo",
        "migration-hub-refactor-spaces": "refactor-spaces",
        "migrationhuborchestrator": "migrationhub-orchestrator",
        "mwaa": "airflow",
        "mwaa-serverless": "airflow-serverless",
        "notificationscontacts": "notifications-contacts",
        "opensearch": "es",
        "opensearchserverless": "aoss",
        # Partner Central's APIs share one IAM prefix (the revenue-measurement model signs with it).
        "partnercentral-account": "partnercentral",
        "partnercentral-benefits": "partnercentral",
        "partnercentral-channel": "partnercentral",
        "partnercentral-marketing": "partnercentral",
        "partnercentral-revenue-measurement": "partnercentral",
        "partnercentral-selling": "partnercentral",
        "pinpoint-sms-voice-v2": "sms-voice",
        "qconnect": "wisdom",
        "resiliencehubv2": "resiliencehub",
        "resourcegroupstaggingapi": "tag",
        "servicecatalog-appregistry": "servicecatalog",
        "sesv2": "ses",
        "sso-admin": "sso",
        "stepfunctions": "states",
        "supplychain": "scn",
        "timestream-query": "timestream",
        "timestream-write": "timestream",
        "workspaces-thin-client": "thinclient",
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
        "cloudsearch": ("cloudsearch:AddTags",),  # its own API's tag call (not in botocore's model)
        "medialive": ("medialive:CreateTags",),
        "pinpoint": ("mobiletargeting:TagResource",),  # CloudTrail's source; IAM's prefix differs
        "resource-groups": ("resource-groups:Tag",),
        "ssm": ("ssm:AddTagsToResource",),
    }
)


def rgta_service_actions(service: str, granted: Iterable[str] = ()) -> tuple[str, ...]:
    """The service's own tag permission that tag:TagResources needs for `service` (an eventSource's
    service part): RGTA_SERVICE_ACTIONS, else the tag actions its own tagger rows already need
    (`granted`: rds:AddTagsToResource, apigateway:PUT ...), else "<IAM prefix>:TagResource"."""
    if service in RGTA_SERVICE_ACTIONS:
        return RGTA_SERVICE_ACTIONS[service]
    prefix = IAM_PREFIX.get(service, service)
    own = sorted(
        a for a in granted if a.partition(":")[0] == prefix and not a.partition(":")[2].startswith("Get")
    )
    return tuple(own) or (f"{prefix}:TagResource",)


# Tag actions of derived rows that the IAM reference does not know yet (services newer than it, or
# whose model has a TagResource IAM does not list: Polly). cfn-lint refuses them, so they are not
# granted: those services' resources fail to tag with AccessDenied (logged, counted) until the
# reference knows the action; the README says how to grant one (ExtraTagActions).
UNGRANTED: frozenset[str] = frozenset(
    {
        "apiportal:TagResource",
        "iotthingsgraph:TagResource",
        "opensearchmemory:TagResource",
        "polly:TagResource",
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


def tag_actions(
    taggers: Mapping[str, TaggerRow],
    entries: Iterable[Entry] | None = None,
    ungranted: frozenset[str] = UNGRANTED,
) -> TagPermissions:
    """The IAM actions needed to tag every resource the catalogue creates, from the tagger rows,
    less `ungranted`."""
    entries = catalogue(entries)
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
    own = frozenset(wanted)
    for service in rgta_services:
        wanted.update(rgta_service_actions(service, own))
    scoped: dict[str, set[str]] = {}
    for action in wanted:
        if action in ACTION_RESOURCES:
            scoped.setdefault(ACTION_RESOURCES[action], set()).add(action)
    wanted -= ungranted
    return TagPermissions(
        actions=tuple(sorted(wanted - set(ACTION_RESOURCES), key=str.lower)),
        scoped=MappingProxyType({arn: tuple(sorted(a)) for arn, a in sorted(scoped.items())}),
        by_tagger=MappingProxyType(by_tagger),
        missing=tuple(sorted(missing)),
    )


# IAM quota "managed policy size": 6,144 characters, whitespace not counted. A role takes 10
# managed policies by default (20 on request) and 10,240 characters of inline policies in all, so
# the ~270 tag actions (~7,000 characters) go in managed policies, several if need be.
MAX_MANAGED_POLICY_CHARS = 6144


def policy_chars(document: Mapping[str, Any]) -> int:
    """A policy document's size as IAM counts it (no whitespace). Measured on the template's form,
    where `!Sub "arn:${AWS::Partition}:..."` is longer than what it resolves to."""
    return len(json.dumps(document, separators=(",", ":")))


def pack(actions: Iterable[str], room: int) -> list[tuple[str, ...]]:
    """`actions` in order, in as few consecutive parts as keep each part's JSON list within `room`
    characters (a part is never empty; an action longer than `room` is an error)."""
    parts: list[tuple[str, ...]] = []
    part: list[str] = []
    size = 2  # []
    for action in actions:
        cost = len(json.dumps(action))
        if cost + 2 > room:
            raise ValueError(f"{action} alone exceeds {room} characters")
        if part and size + 1 + cost > room:
            parts.append(tuple(part))
            part, size = [], 2
        size += cost + (1 if part else 0)
        part.append(action)
    if part:
        parts.append(tuple(part))
    return parts


def extra_parameters(entries: Iterable[Entry], taggers: Mapping[str, TaggerRow]) -> dict[str, str]:
    """The template parameters that route a rules file's own `catalogue:` entries to the enforcer
    and let it tag them: their sources, their names, and the tag actions the catalogue's policies
    do not grant already (comma-separated, as CloudFormation's CommaDelimitedList takes them)."""
    entries = tuple(entries)
    granted = tag_actions(taggers)
    mine = tag_actions(taggers, entries, ungranted=frozenset())  # the deployer grants those by hand
    if mine.missing:
        raise ValueError(f"no tagger rows for {list(mine.missing)}")
    known = set(granted.actions) | {a for acts in granted.scoped.values() for a in acts}
    return {
        "ExtraEventSources": ",".join(sorted({e.source for e in entries})),
        "ExtraEventNames": ",".join(sorted({e.event for e in entries})),
        "ExtraTagActions": ",".join(a for a in mine.actions if a not in known),
    }


__all__ = [
    "AWS_SOURCES",
    "DETAIL_TYPE",
    "MAX_MANAGED_POLICY_CHARS",
    "MAX_PATTERN_CHARS",
    "SERVICE_DETAIL_TYPE",
    "SOURCE_EXCEPTIONS",
    "UNGRANTED",
    "TagPermissions",
    "TaggerRow",
    "build_pattern",
    "catalogue",
    "event_patterns",
    "eventbridge_source",
    "events_by_source",
    "extra_parameters",
    "extra_pattern",
    "pack",
    "pattern_chars",
    "policy_chars",
    "rgta_service_actions",
    "row_actions",
    "stray_pairs",
    "tag_actions",
]
