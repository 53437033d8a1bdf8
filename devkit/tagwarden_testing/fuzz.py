"""Mutated events through the real handlers: every input ends handled, skipped with a reason, or as
a logged MalformedEvent (retried, then dead-lettered). Anything else is a crash class.

Seeds are real events (../shared/corpus when present), the repository's example events and the
catalogue's cases; each fuzzed event is a seed with one to three mutations from `MUTATIONS`
(wrong types, huge and odd strings, deep nesting, missing keys, non-object input). A run is
reproducible from its seed. Used by tests/testing/test_fuzz.py (a small count) and
bench/fuzz_bench.py (the full count).
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import random
import tempfile
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Event = Any

ODD_STRINGS: tuple[str, ...] = (
    "",
    " ",
    "x" * 3000,  # over DynamoDB's 2 KB key limit, over every tag limit
    "\ud800",  # a lone surrogate: json.loads accepts it, UTF-8 encoders do not
    "\x00\x01",
    "é🙂 ünïcödé",
    "us east 1!",  # not a region name botocore accepts
    "../../etc/passwd",
    "%s%n{0}",
    "arn:aws:iam::123456789012:role/agent-fleet-support",
    "/subscriptions/x/resourceGroups/y/providers/Microsoft.Compute/virtualMachines/z",
    "AssumedRole",
    "2026-13-45T99:99:99Z",
)
ODD_SCALARS: tuple[Any, ...] = (None, True, False, 0, -1, 2**64, 1.5e308, [], {}, [None], {"": None})


def _nest(depth: int, leaf: Any = "x") -> Any:
    value = leaf
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


def _paths(node: Any, prefix: tuple[Any, ...] = (), limit: int = 400) -> list[tuple[Any, ...]]:
    """Paths of the nodes in the tree (breadth first, at most `limit`)."""
    out: list[tuple[Any, ...]] = []
    queue: list[tuple[tuple[Any, ...], Any]] = [(prefix, node)]
    while queue and len(out) < limit:
        path, value = queue.pop(0)
        out.append(path)
        if isinstance(value, dict):
            queue.extend(((*path, k), v) for k, v in value.items())
        elif isinstance(value, list):
            queue.extend(((*path, i), v) for i, v in enumerate(value))
    return out


def _get(node: Any, path: Sequence[Any]) -> Any:
    for part in path:
        node = node[part]
    return node


def _set(root: Any, path: Sequence[Any], value: Any) -> Any:
    if not path:
        return value
    _get(root, path[:-1])[path[-1]] = value
    return root


def _delete(root: Any, path: Sequence[Any]) -> Any:
    if not path:
        return None
    parent = _get(root, path[:-1])
    del parent[path[-1]]
    return root


def _replace(rng: random.Random, root: Any, path: Sequence[Any]) -> Any:
    pool = rng.choice((ODD_STRINGS, ODD_SCALARS))
    return _set(root, path, copy.deepcopy(rng.choice(pool)))


def _retype(rng: random.Random, root: Any, path: Sequence[Any]) -> Any:
    """A mapping becomes a list (or a string), a list a mapping, a scalar a container."""
    value = _get(root, path)
    if isinstance(value, dict):
        text = json.dumps(value, default=str) if _depth_ok(value) else "{"
        new: Any = rng.choice((list(value.values()), text, [value]))
    elif isinstance(value, list):
        new = {str(i): v for i, v in enumerate(value)} if rng.random() < 0.5 else (value[0] if value else "")
    else:
        new = rng.choice(([value], {"value": value}, str(value) * 2))
    return _set(root, path, new)


def _deepen(rng: random.Random, root: Any, path: Sequence[Any]) -> Any:
    return _set(root, path, _nest(rng.choice((50, 1200, 3000))))


def _remove(rng: random.Random, root: Any, path: Sequence[Any]) -> Any:
    return _delete(root, path) if path else root


def _lengthen(rng: random.Random, root: Any, path: Sequence[Any]) -> Any:
    value = _get(root, path)
    if isinstance(value, str):
        return _set(root, path, value * rng.choice((2, 50, 400)))
    if isinstance(value, list) and value:
        return _set(root, path, value * rng.choice((2, 30)))
    return root


def _known_key(rng: random.Random, root: Any, path: Sequence[Any]) -> Any:
    """Aim at the fields the code reads most: ids, regions, identities, resource URIs."""
    keys = ("eventID", "id", "awsRegion", "region", "userIdentity", "authorization", "claims", "subject")
    key = rng.choice(keys)
    for p in _paths(root):
        if p and p[-1] == key:
            odd = copy.deepcopy(rng.choice((*ODD_STRINGS, *ODD_SCALARS)))
            value = _nest(1500) if rng.random() < 0.1 else odd
            return _set(root, p, value)
    return root


Mutation = Callable[[random.Random, Any, Sequence[Any]], Any]
MUTATIONS: tuple[Mutation, ...] = (_replace, _retype, _deepen, _remove, _lengthen, _known_key)


def mutate(event: Event, rng: random.Random) -> Event:
    """One to three mutations of a copy of `event`; now and then the whole input is not an object."""
    if rng.random() < 0.04:
        if rng.random() < 0.2:
            return _nest(2000)
        return copy.deepcopy(rng.choice((*ODD_SCALARS, *ODD_STRINGS[:6], [event, 1])))
    out = copy.deepcopy(event)
    for _ in range(rng.randint(1, 3)):
        paths = _paths(out)
        if not paths:
            break
        path = rng.choice(paths)
        out = rng.choice(MUTATIONS)(rng, out, path)
    return out


def fuzzed(seeds: Sequence[Event], count: int, seed: int) -> Iterator[Event]:
    rng = random.Random(seed)
    for _ in range(count):
        yield mutate(rng.choice(seeds), rng)


# --- seeds -----------------------------------------------------------------------------------


def _json_files(folder: Path) -> Iterator[Any]:
    for path in sorted(folder.rglob("*.json")):
        try:
            yield json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue  # not JSON as found: nothing a handler would be given


def _eventbridge(record: Mapping[str, Any]) -> dict[str, Any]:
    """As EventBridge wraps a CloudTrail record (the corpus README's recipe)."""
    service = str(record.get("eventSource", "")).split(".")[0]
    return {
        "version": "0",
        "id": "6f2c1a43-0000-4000-8000-000000000000",
        "detail-type": "AWS API Call via CloudTrail",
        "source": f"aws.{service}",
        "account": record.get("recipientAccountId") or "123456789012",
        "time": record.get("eventTime") or "2026-11-29T10:00:00Z",
        "region": record.get("awsRegion") or "us-east-1",
        "resources": [],
        "detail": dict(record),
    }


def aws_seeds(corpus: Path | None, extra: Iterable[Mapping[str, Any]] = ()) -> list[Event]:
    """EventBridge events: corpus records (wrapped as EventBridge delivers them), the examples,
    and `extra` CloudTrail records (the catalogue's cases)."""
    out: list[Event] = []
    sources: list[Any] = list(_json_files(EXAMPLES))
    if corpus is not None and (corpus / "aws").is_dir():
        sources.extend(_json_files(corpus / "aws"))
    for item in (*sources, *extra):
        if not isinstance(item, dict):
            continue
        if "detail" in item or "Records" in item:
            out.append(item)
        elif "eventSource" in item and isinstance(item.get("eventSource"), str):
            out.append(_eventbridge(item))
    return out


def azure_seeds(corpus: Path | None) -> list[Event]:
    out: list[Event] = []
    sources: list[Any] = list(_json_files(EXAMPLES))
    if corpus is not None and (corpus / "azure").is_dir():
        sources.extend(_json_files(corpus / "azure"))
    for item in sources:
        items = item if isinstance(item, list) else [item]
        for i in items:
            if isinstance(i, dict) and ("data" in i or "eventType" in i):
                out.append(i)
            elif isinstance(i, dict) and "operationName" in i and "eventSource" not in i:
                out.append(_as_eventgrid(i))  # an Activity Log record: the same fields, another envelope
    return out


def _as_eventgrid(record: Mapping[str, Any]) -> dict[str, Any]:
    op = record.get("operationName")
    op = op.get("value") if isinstance(op, dict) else op
    uri = record.get("resourceId") or ""
    kind = "Write" if str(op).lower().endswith("/write") else "Action"
    return {
        "subject": uri,
        "eventType": f"Microsoft.Resources.Resource{kind}Success",
        "eventTime": record.get("time") or record.get("eventTimestamp") or "2026-11-29T10:00:00Z",
        "id": record.get("correlationId") or "00000000-0000-4000-8000-000000000000",
        "data": {**record, "resourceUri": uri, "operationName": op, "status": "Succeeded"},
        "dataVersion": "2",
        "topic": "/subscriptions/00000000-1111-2222-3333-444444444444",
    }


EXAMPLES = Path(__file__).resolve().parents[2] / "functions" / "tagwarden" / "examples" / "events"


# --- running ---------------------------------------------------------------------------------


@dataclass
class Report:
    """What a run ended as: outcomes counted, and each unexpected exception with where it was raised."""

    events: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    crashes: Counter[str] = field(default_factory=Counter)  # "Type at file:line" -> count
    examples: dict[str, str] = field(default_factory=dict)  # one message per crash class

    def record(self, outcome: str) -> None:
        self.events += 1
        self.outcomes[outcome] += 1

    def crash(self, exc: BaseException, event: Event) -> None:
        self.events += 1
        frames = traceback.extract_tb(exc.__traceback__)
        if frames and "/moto/" in frames[-1].filename:
            # moto's in-process backend raising where AWS would answer 500 (a ClientError we handle).
            self.outcomes[f"emulator fault ({type(exc).__name__} in {Path(frames[-1].filename).name})"] += 1
            return
        ours = [f for f in frames if "/tagwarden/" in f.filename] or frames
        where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
        key = f"{type(exc).__name__} at {where}"
        self.crashes[key] += 1
        if key not in self.examples:
            text = json.dumps(event, default=str)[:300] if _depth_ok(event) else "(deeply nested)"
            self.examples[key] = f"{str(exc)[:200]} | event: {text}"

    @property
    def unexpected(self) -> int:
        return sum(self.crashes.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "unexpected": self.unexpected,
            "outcomes": dict(self.outcomes),
            "crashes": dict(self.crashes),
            "examples": self.examples,
        }


def _depth_ok(event: Event, limit: int = 200) -> bool:
    stack = [(event, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return True


def run(handle: Callable[[Event], Any], events: Iterable[Event], report: Report | None = None) -> Report:
    """Each event through `handle`: a return or a MalformedEvent is expected; anything else is not."""
    from tagwarden.aws.lookups import LookupFailed as AwsLookupFailed
    from tagwarden.azure.lookups import LookupFailed as AzureLookupFailed
    from tagwarden.enforce import TagWriteFailed
    from tagwarden.normalize import MalformedEvent

    retried = (TagWriteFailed, AwsLookupFailed, AzureLookupFailed)
    report = report or Report()
    for event in events:
        try:
            handle(event)
        except MalformedEvent:
            report.record("malformed")
        except retried:
            report.record("retry")  # raised on purpose, logged: Lambda retries, then dead-letters
        except Exception as exc:
            report.crash(exc, event)
        else:
            report.record("handled")
    return report


@contextlib.contextmanager
def quiet(*logger_names: str) -> Iterator[None]:
    """Handlers' log records still formatted (that is part of what is fuzzed), written nowhere."""
    sink = open(os.devnull, "w")  # noqa: SIM115 - closed below
    swapped: list[tuple[logging.StreamHandler[Any], Any]] = []
    for name in logger_names:
        for h in logging.getLogger(name).handlers:
            if isinstance(h, logging.StreamHandler):
                swapped.append((h, h.setStream(sink)))
    try:
        with contextlib.redirect_stdout(sink):
            yield
    finally:
        for h, stream in swapped:
            h.setStream(stream)
        sink.close()


FUZZ_RULES = EXAMPLES.parent / "rules.yaml"


@contextlib.contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def aws_handler(rules: Path = FUZZ_RULES) -> Iterator[Callable[[Event], Any]]:
    """`lambda_handler` against moto in-process (`mock_aws`): the deployed configuration, with a
    claims table, a topic, a seal key and the agents' role; no not-found wait."""
    import boto3
    from moto import mock_aws

    from tagwarden.aws import handler
    from tagwarden_testing.moto_world import LambdaContext

    region = "us-east-1"
    base = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "POWERTOOLS_METRICS_NAMESPACE": "tagwarden",
    }
    with _environ(base), mock_aws():
        ddb = boto3.client("dynamodb", region_name=region)
        ddb.create_table(
            TableName="claims",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        topic = boto3.client("sns", region_name=region).create_topic(Name="tagwarden")["TopicArn"]
        boto3.client("iam", region_name=region).create_role(
            RoleName="agent-fleet-support",
            AssumeRolePolicyDocument="{}",
            Tags=[{"Key": "Outcome-ID", "Value": "OUT-7001"}],
        )
        env = {
            "TAGWARDEN_RULES_PATH": str(rules),
            "TAGWARDEN_LEDGER": str(Path(tempfile.mkdtemp()) / "ledger.sqlite"),
            "TAGWARDEN_SNS_TOPIC_ARN": topic,
            "TAGWARDEN_NOT_FOUND_WINDOW": "0",
        }
        context = LambdaContext()
        with _environ(env), quiet(handler._TELEMETRY.logger.name):
            handler._ENFORCER = handler._SWEEPER = None
            try:
                yield lambda event: handler.lambda_handler(event, context)
            finally:
                handler._ENFORCER = handler._SWEEPER = None


@contextlib.contextmanager
def azure_handler(rules: Path = FUZZ_RULES) -> Iterator[Callable[[Event], Any]]:
    """The Function's `handle` with the real azure-mgmt-resource client against the ARM fake."""
    from tagwarden.azure import handler
    from tagwarden.azure.arm import ArmClient
    from tagwarden.azure.enforcer import build, build_sweeper
    from tagwarden.azure.telemetry import LOGGER
    from tagwarden_testing.arm_fake import arm_fake
    from tagwarden_testing.events import SUBSCRIPTION

    with arm_fake() as fake:
        fake.add_resource_group(SUBSCRIPTION, "rg-agent-customer-support", {"CostCenter": "101"})
        ledger = str(Path(tempfile.mkdtemp()) / "ledger.sqlite")
        env = {"TAGWARDEN_RULES_PATH": str(rules), "TAGWARDEN_LEDGER": ledger}
        arm = ArmClient.local(fake.endpoint, sleep=lambda s: None)
        handler._ENFORCER = build(env, arm=arm)
        handler._SWEEPER = build_sweeper({**env, "TAGWARDEN_SUBSCRIPTIONS": SUBSCRIPTION}, arm=arm)
        log = logging.getLogger(LOGGER)
        log.addHandler(logging.StreamHandler())
        log.propagate, propagate = False, log.propagate
        sdk = logging.getLogger("azure")  # the SDK's own records (failsafe deserialization) are noise here
        sdk_level = sdk.level
        sdk.setLevel(logging.CRITICAL)
        try:
            with quiet(LOGGER):
                yield handler.handle
        finally:
            log.handlers.pop()
            log.propagate = propagate
            sdk.setLevel(sdk_level)
            handler._ENFORCER = handler._SWEEPER = None
