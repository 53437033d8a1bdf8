"""The catalogue's row types and the small constructors the service modules share."""

from __future__ import annotations

from msgspec import Struct

# Placeholders an ARN template may use (filled from the record; {name} falls back to the id;
# {parent} is the value at `Creates.parent`, and without it the record yields no resource).
ARN_PLACEHOLDERS = frozenset({"partition", "region", "account", "id", "name", "parent"})


class Creates(Struct, frozen=True):
    """One kind of resource an event creates."""

    type: str  # CloudFormation-style type, e.g. AWS::EC2::Instance
    ids: str  # path to the identifier(s) in the record; a list yields one resource each
    arn: str | None = None  # "arn:..." template, or a path to the ARN; None: the id is the ARN
    name: str | None = None  # path to the name(s); default: none
    native: str | None = None  # path to what the service's tag API takes, when not the id
    tags: str | None = None  # path to request tags: a {k: v} map or a list of {Key, Value}
    tag_spec: str | None = None  # EC2 TagSpecification resourceType to read tags from
    tagger: str = "rgta"  # which tagger writes to it (a TAGGERS row, taggers.py)
    parent: str | None = None  # path to the id of the resource it lives in ({parent} in the ARN template)


class Entry(Struct, frozen=True):
    source: str  # eventSource, e.g. ec2.amazonaws.com
    event: str  # eventName
    creates: tuple[Creates, ...]
    derived: bool = False  # True: read from botocore's models (derived.py), not written by hand

    @property
    def service(self) -> str:
        return self.source.removesuffix(".amazonaws.com")

    @property
    def service_event(self) -> bool:
        """True when the record is a service event (detail-type "AWS Service Event via CloudTrail"):
        its ids are read from serviceEventDetails, not from a request and response."""
        return any(c.ids.startswith("serviceEventDetails.") for c in self.creates)


def e(service: str, event: str, *creates: Creates) -> Entry:
    """A row for `<service>.amazonaws.com` / `event`."""
    return Entry(f"{service}.amazonaws.com", event, creates)


def arn(service: str, resource: str) -> str:
    """A regional ARN template: arn:{partition}:<service>:{region}:{account}:<resource>."""
    return f"arn:{{partition}}:{service}:{{region}}:{{account}}:{resource}"


def global_arn(service: str, resource: str) -> str:
    """An ARN template without region and account (S3 buckets, Route 53)."""
    return f"arn:{{partition}}:{service}:::{resource}"


REQ = "requestParameters"
RESP = "responseElements"
SED = "serviceEventDetails"  # service events: what the service reports it made


def row(
    service: str,
    event: str,
    rtype: str,
    ids: str,
    *,
    arn: str | None = None,
    name: str | None = None,
    native: str | None = None,
    tags: str | None = f"{REQ}.tags",
    tagger: str = "rgta",
    parent: str | None = None,
) -> Entry:
    """The common case: one resource, tags at `requestParameters.tags` unless told otherwise."""
    return e(
        service,
        event,
        Creates(rtype, ids=ids, arn=arn, name=name, native=native, tags=tags, tagger=tagger, parent=parent),
    )
