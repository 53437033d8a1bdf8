"""Writing tags through each service's own tag API, described as data (boto3).

`TAGGERS` (tagwarden.aws.catalogue.taggers, in the pure catalogue) maps each tagger name the
CloudTrail catalogue uses to a `TaggerSpec` row: client, method, id parameter and which id it
takes, tags parameter and its shape, ids per call, and the error codes meaning "not found" /
"still creating". `write_tags` (write.py) runs the rows: batching where the API allows, retrying
not-found answers for a short window, and reporting one `TagResult` per resource, never raising
for an AWS error.
"""

from tagwarden.aws.catalogue.tagger_spec import ErrorKind, IdFrom, Kind, TagFormat, TaggerSpec
from tagwarden.aws.catalogue.taggers import ALIASES, RGTA, TAGGERS
from tagwarden.aws.taggers.write import Outcome, TagResult, TagWrite, write_tags

__all__ = [
    "ALIASES",
    "RGTA",
    "TAGGERS",
    "ErrorKind",
    "IdFrom",
    "Kind",
    "Outcome",
    "TagFormat",
    "TagResult",
    "TagWrite",
    "TaggerSpec",
    "write_tags",
]
