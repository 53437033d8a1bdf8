"""Derive catalogue entries from botocore's service models (offline) into a committed data file.

    .venv/bin/python infra/aws/derive_catalogue.py            # rewrite the data file
    .venv/bin/python infra/aws/derive_catalogue.py --check    # exit 1 if it is stale

(`make catalogue` runs the first; tests/aws/catalogue/test_derived.py fails while the file is stale.)

Which operations: every operation whose name starts with a create verb (CREATE_VERBS: Create, Run,
Start, Register, Allocate, Import, Copy, Request, Launch, Publish, Put, Issue, Provision, Deploy,
Establish) whose input has a tag member (TAG_MEMBERS) and whose output names the created resource by
ARN. Start*/Put* only count when they accept tags, which filters out the "start a job run"/"put a
setting" calls that create nothing lasting. Operations whose output has no ARN are left out: an id
alone gives no ARN to tag by, and guessing one is worse than saying "not in the catalogue".

Per operation, one row:
- event source: `<signingName or endpointPrefix>.amazonaws.com` (CloudTrail's eventSource), or the
  one the hand-written catalogue already uses for that service (SOURCES below, checked by the test);
- ids: the ARN member in the output, searched breadth-first through structures and lists (depth 3),
  preferring `<Noun>Arn` (the operation's noun), then `Arn`/`ResourceArn`, then a single other
  `*Arn` member that does not name a role, key or other known input resource; written in
  CloudTrail's casing (first letter lowered; an all-capital `ARN` lowered whole), with the
  alternative casing after a `|` when the two differ;
- resource type: `AWS::<serviceId without spaces>::<noun>`;
- request tags: `requestParameters.<tag member>` (maps and {Key, Value} lists read the same), the
  member found at the top of the input or in its payload structure (Pinpoint logs the payload's
  members as requestParameters); an output payload's ARN also under the unwrapped path;
- tagger: `derived:<client>` when the service's model has a TagResource-like operation taking an ARN
  and the tags (written into the `taggers` table of the file), else `rgta`.

Hand-written entries stay and win over derived ones with the same (source, name).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "functions" / "tagwarden" / "aws" / "catalogue" / "derived.json.gz"
if str(ROOT / "functions") not in sys.path:  # runnable without installing the package
    sys.path.insert(0, str(ROOT / "functions"))

CREATE_VERBS = (
    "Create", "Run", "Start", "Register", "Allocate", "Import", "Copy", "Request", "Launch",
    "Publish", "Put", "Issue", "Provision", "Deploy", "Establish",
)  # fmt: skip
_VERB = re.compile(rf"^({'|'.join(CREATE_VERBS)})(?=[A-Z])")
_TAG_WRITE = re.compile(r"Tag(s|ging)?$")
TAG_MEMBERS = ("Tags", "TagSpecifications", "TagList", "Tag", "ResourceTags", "TagsList", "TagSet")
TAG_OPS = ("TagResource", "TagResources", "AddTagsToResource", "AddTags", "CreateTags", "TagResourceV2")
# ARN members that name something the call uses, not what it creates.
_NOT_CREATED = re.compile(
    r"(Role|Kms|Key|Certificate|Subnet|Vpc|SecurityGroup|Topic|Bucket|Policy|Owner|Source|Target|"
    r"Execution|Parent|Destination|Principal|User|Account|Image|Log|Stream|Secret|Queue|Function|Acl|"
    r"Alias|Registry|Sink)Arn$",
    re.IGNORECASE,
)
# CloudTrail sources that differ from the signing name (checked against the hand-written entries).
SOURCES = {
    "pinpoint": "pinpoint.amazonaws.com",  # signs as mobiletargeting, logs as pinpoint
    "bedrock-agent": "bedrock.amazonaws.com",
    "bedrock-agentcore-control": "bedrock-agentcore.amazonaws.com",
    "monitoring": "monitoring.amazonaws.com",
    "sagemaker": "sagemaker.amazonaws.com",
}
_TAG_FORMATS = {("Key", "Value"): "kv", ("key", "value"): "kv_lower", ("TagKey", "TagValue"): "tagkey"}


def cloudtrail_name(member: str, location: str | None = None) -> str:
    """The member's name as CloudTrail writes it in requestParameters / responseElements."""
    name = location or member
    if name.isupper():
        return name.lower()
    return name[:1].lower() + name[1:]


def _casings(path: list[str]) -> list[str]:
    """CloudTrail's casings of a member path: first letter lowered (all-capital names lowered whole,
    or only their first letter), or as the model spells it (some services log that)."""
    variants = [
        [cloudtrail_name(p) for p in path],
        [p[:1].lower() + p[1:] for p in path],
        list(path),
    ]
    out: list[str] = []
    for v in variants:
        dotted = ".".join(v)
        if dotted not in out:
            out.append(dotted)
    return out


_Found = tuple[int, str, list[str]]


def _find_arns(shape: Any, depth: int = 0, prefix: tuple[str, ...] = ()) -> list[_Found]:
    """(depth, member name, member path as the wire names it) of every string ARN-like member."""
    found: list[_Found] = []
    if depth > 3 or shape.type_name != "structure":
        return found
    for name, member in shape.members.items():
        path = (*prefix, member.serialization.get("name") or name)
        target = member.member if member.type_name == "list" else member
        if target.type_name == "string" and (
            name.lower().endswith("arn") or target.name.lower().endswith("arn")
        ):
            found.append((depth, name, list(path)))
        elif target.type_name == "structure":
            found.extend(_find_arns(target, depth + 1, path))
    return found


def _rank(noun: str, found: _Found) -> tuple[int, int] | None:
    depth, name, _ = found
    lower = name.lower()
    if lower == f"{noun}arn".lower():
        return (depth, 0)
    if lower in ("arn", "resourcearn") and depth <= 1:
        return (depth, 1)
    if len(name) > 3 and noun.lower().endswith(lower.removesuffix("arn")):
        return (depth, 2)
    return None


def _pick_arn(noun: str, output: Any, protocol: str) -> list[list[str]] | None:
    """The member path(s) of the created resource's ARN in the output, or None."""
    cands = _find_arns(output)
    ranked = sorted((r, i) for i, c in enumerate(cands) if (r := _rank(noun, c)) is not None)
    if ranked:
        best = cands[ranked[0][1]]
    else:
        # One ARN member at the top, or inside the member named after the noun, that names no input.
        others = [
            c
            for c in cands
            if (c[0] == 0 or (c[0] == 1 and c[2][0].lower() == noun.lower()))
            and not _NOT_CREATED.search(c[1])
        ]
        if len(others) != 1:
            return None
        best = others[0]
    path = best[2]
    # Query-protocol services (RDS, ElastiCache, Redshift ...) log the one result member unwrapped.
    if protocol == "query" and len(path) > 1 and len(output.members) == 1:
        return [path[1:], path]
    # REST services whose output is a payload member: Pinpoint logs the payload's body unwrapped.
    if len(path) > 1 and path[0] == output.serialization.get("payload"):
        return [path, path[1:]]
    return [path]


def _ids(paths: list[list[str]]) -> str:
    out: list[str] = []
    for path in paths:
        out.extend(f"responseElements.{c}" for c in _casings(path) if f"responseElements.{c}" not in out)
    return "|".join(out)


def _tag_member(shape: Any) -> str | None:
    if shape is None:
        return None
    wanted = {m.lower() for m in TAG_MEMBERS}
    return next((m for m in shape.members if m.lower() in wanted), None)


def _request_tags(op_name: str, shape: Any) -> tuple[str, Any] | None:
    """(tag member, its shape) of a create's input: at the top, or in the input's payload structure
    (REST services such as Pinpoint, whose CloudTrail requestParameters hold the payload's members).
    Tag writes (PutBucketTagging ...) are not creates."""
    tag = _tag_member(shape)
    if tag is not None:
        return tag, shape.members[tag]
    payload = shape.serialization.get("payload") if shape is not None else None
    if payload is None or _TAG_WRITE.search(op_name) or shape.members[payload].type_name != "structure":
        return None
    body = shape.members[payload]
    tag = _tag_member(body)
    return None if tag is None else (tag, body.members[tag])


def _tag_format(shape: Any) -> str | None:
    if shape.type_name == "map":
        return "map"
    if shape.type_name == "list" and shape.member.type_name == "structure":
        keys = tuple(shape.member.members)[:2]
        return _TAG_FORMATS.get(keys)
    return None


def _tagger(model: Any) -> list[str] | None:
    """[client, method, id_param, tags_param, format] of the service's own ARN tag operation."""
    for op_name in TAG_OPS:
        if op_name not in model.operation_names:
            continue
        shape = model.operation_model(op_name).input_shape
        required = set(shape.required_members)
        ids = [m for m in shape.members if "arn" in m.lower() and m in required]
        tags = [m for m in shape.members if m.lower() in ("tags", "taglist", "tag") and m in required]
        if len(ids) != 1 or len(tags) != 1 or required - {ids[0], tags[0]}:
            continue
        if shape.members[ids[0]].type_name != "string":
            continue
        fmt = _tag_format(shape.members[tags[0]])
        if fmt is None:
            continue
        method = re.sub(r"(?<!^)(?=[A-Z])", "_", op_name).lower()
        return [model.service_name, method, ids[0], tags[0], fmt]
    return None


def _source(model: Any) -> str:
    meta = model.metadata
    name = meta.get("signingName") or meta["endpointPrefix"]
    if name == "chime" and model.service_name != "chime":  # the Chime SDKs log under their own names
        name = model.service_name
    return SOURCES.get(model.service_name) or SOURCES.get(name) or f"{name}.amazonaws.com"


def derive_service(model: Any) -> tuple[dict[str, list[Any]], list[str] | None]:
    entries: dict[str, list[Any]] = {}
    protocol = model.metadata.get("protocol", "")
    if protocol == "ec2":  # EC2's log shapes (items lists, wrapped responses) are hand-written
        return entries, None
    tagger = _tagger(model)
    service_id = re.sub(r"[^A-Za-z0-9]", "", model.metadata.get("serviceId", model.service_name))
    for op_name in model.operation_names:
        verb = _VERB.match(op_name)
        if verb is None:
            continue
        op = model.operation_model(op_name)
        found_tags = _request_tags(op_name, op.input_shape)
        if found_tags is None or op.output_shape is None:
            continue
        tag, member = found_tags
        noun = op_name[verb.end() :]
        found = _pick_arn(noun, op.output_shape, protocol)
        if found is None:
            continue
        ids = _ids(found)
        tags = f"requestParameters.{cloudtrail_name(tag, member.serialization.get('name'))}"
        if tag == "TagSpecifications":
            tags += ".tags"
        entries[op_name] = [f"AWS::{service_id}::{noun}", ids, tags]
    return entries, tagger


def derive() -> dict[str, Any]:
    import botocore
    import botocore.session

    session = botocore.session.get_session()
    sources: dict[str, dict[str, list[Any]]] = {}
    taggers: dict[str, list[str]] = {}
    for service in sorted(session.get_available_services()):
        model = session.get_service_model(service)
        entries, tagger = derive_service(model)
        if not entries:
            continue
        name = "rgta"
        if tagger is not None:
            name = f"derived:{service}"
            taggers[name] = tagger
        bucket = sources.setdefault(_source(model), {})
        for event, row in entries.items():
            if event in bucket:  # two API versions share a source (kinesisanalytics v1/v2): either path
                alts = bucket[event][1].split("|")
                bucket[event][1] = "|".join(alts + [a for a in row[1].split("|") if a not in alts])
            else:
                bucket[event] = [*row, name]
    return {"botocore": botocore.__version__, "taggers": taggers, "sources": sources}


def render(data: dict[str, Any]) -> bytes:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return gzip.compress(text.encode(), mtime=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the data file is stale")
    args = parser.parse_args(argv)
    data = derive()
    if args.check:
        current = json.loads(gzip.decompress(DATA.read_bytes())) if DATA.exists() else None
        if current != data:
            print(f"{DATA.relative_to(ROOT)} is stale: run `make catalogue`", file=sys.stderr)
            return 1
        return 0
    DATA.write_bytes(render(data))
    events = sum(len(v) for v in data["sources"].values())
    print(f"{DATA.relative_to(ROOT)}: {events} events over {len(data['sources'])} sources")
    return 0


if __name__ == "__main__":
    sys.exit(main())
