"""The CloudTrail catalogue: for each create event, where its resources are in the record.

One row (Entry) per (eventSource, eventName). Each row lists what the call creates (Creates): the
resource type, the path to its identifiers, how to build its ARN, where the request's tags are,
and which tagger writes tags to it. Paths are dotted (see tagwarden.attribution.paths); ARN
templates take {partition}, {region}, {account}, {id} and {name}. Adding a service is adding rows
to one of the modules below; `TAGGERS` (in _taggers) is the table of tagger names and the tag call
each one stands for.

Where an identifier is read, in order of preference: the ARN in responseElements; an id in
responseElements with an ARN template; a name in requestParameters with an ARN template (when the
response is empty, as for S3 CreateBucket, Kinesis CreateStream, Glue, CloudWatch alarms).

Modules: compute (EC2, Lambda, containers, Batch ...), data (storage and databases), analytics,
ai (Bedrock, SageMaker, AI services), integration (messaging, workflows, APIs), security
(IAM, KMS, secrets, certificates, identity), operations (networking, monitoring, deployment,
long tail).
"""

from __future__ import annotations

from tagwarden.normalize.aws.catalogue import ai, analytics, compute, data, integration, operations, security
from tagwarden.normalize.aws.catalogue._taggers import TAGGERS
from tagwarden.normalize.aws.catalogue._types import ARN_PLACEHOLDERS, Creates, Entry

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

__all__ = ["ARN_PLACEHOLDERS", "CATALOGUE", "ENTRIES", "TAGGERS", "Creates", "Entry"]
