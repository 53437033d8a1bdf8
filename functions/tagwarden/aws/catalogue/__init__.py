"""The AWS catalogue, one home for what tagwarden knows of each AWS service, as data. Pure: no boto3.

The create events: one row (Entry) per (eventSource, eventName). Each row lists what the call
creates (Creates): the resource type, the path to its identifiers, how to build its ARN, where the
request's tags are, and which tagger writes tags to it. Paths are dotted (see
tagwarden.attribution.paths); ARN templates take {partition}, {region}, {account}, {id} and {name}.
The taggers: `TAGGERS` (taggers.py) maps each tagger name a row uses to a `TaggerSpec`
(tagger_spec.py): the service's tag-write call, its parameters and error codes. Adding a service is
adding rows to one of the event modules below and, if its tag API is new, one row to `TAGGERS`.

Derived entries (derived.py, derived.json.gz): create operations read from botocore's service
models by `make catalogue` (infra/aws/derive_catalogue.py), loaded lazily on the first event the
hand-written rows do not know; hand-written rows win. `all_entries()` lists both.

Where an identifier is read, in order of preference: the ARN in responseElements; an id in
responseElements with an ARN template; a name in requestParameters with an ARN template (when the
response is empty, as for S3 CreateBucket, Kinesis CreateStream, Glue, CloudWatch alarms).

Modules: compute (EC2, Lambda, containers, Batch ...), data (storage and databases), analytics,
ai (Bedrock, SageMaker, AI services), integration (messaging, workflows, APIs), security
(IAM, KMS, secrets, certificates, identity), operations (networking, monitoring, deployment,
long tail).
"""

from __future__ import annotations

from tagwarden.aws.catalogue import ai, analytics, compute, data, integration, operations, security
from tagwarden.aws.catalogue._types import ARN_PLACEHOLDERS, Creates, Entry
from tagwarden.aws.catalogue.taggers import TAGGERS

ENTRIES: tuple[Entry, ...] = (
    *compute.ENTRIES,
    *data.ENTRIES,
    *analytics.ENTRIES,
    *ai.ENTRIES,
    *integration.ENTRIES,
    *security.ENTRIES,
    *operations.ENTRIES,
)

CATALOGUE: dict[tuple[str, str], Entry] = {(e.source, e.event): e for e in ENTRIES}


def all_entries() -> tuple[Entry, ...]:
    """The hand-written entries and the derived ones they do not override (loads the derived file)."""
    from tagwarden.aws.catalogue import derived

    return ENTRIES + derived.entries(frozenset(CATALOGUE))


__all__ = ["ARN_PLACEHOLDERS", "CATALOGUE", "ENTRIES", "TAGGERS", "Creates", "Entry", "all_entries"]
