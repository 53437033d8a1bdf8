"""Which AWS create events may write a resource that exists already: the one home of that fact.

The ledger keys records by ARN, and many ARNs are names (functions, roles, tables, queues): an id the
ledger knows may be created again after a delete it never saw. A create that *fails* when the id
exists (Lambda CreateFunction, IAM CreateRole, DynamoDB CreateTable ...) and succeeded later than
the record is proof of a new resource: the reader sets `CreationEvent.creates_only` and the core
starts a new lifecycle (tagwarden.ledger.state.renews). An *upsert* proves nothing: it may have
written the very resource the record is about (a released rule re-put without tags must not be
quarantined again), so it stays a known resource (tags only). Which is which:

- by name (`UPSERT_NAME`): Put*, CreateOrUpdate*, Upsert*, *OrReplace ...: create or overwrite;
- the exceptions (`UPSERT_EVENTS`): calls named Create* that return the existing resource instead
  of failing, each with the reason (and, for S3, the region where it does);
- an idempotency token in the request (`TOKENS`: ClientToken, ClientRequestToken, CallerReference
  ...) does not make a create an upsert: the reader hands the token on
  (`CreationEvent.idempotency_token`), the ledger keeps the token of the create that opened a
  record, and a later create with the *same* token is a retry that renews nothing, while one
  without a token or with another renews (tagwarden.ledger.state.renews). SDKs fill some tokens
  in by themselves (EKS CreateCluster): each new call gets a new token, its retries resend it.
  A token member whose value cannot be read (not one non-empty string) cannot be compared: that
  create stays a possible retry (`may_exist`), the safe way round.

Getting one wrong the other way (an upsert taken for a creation) would re-judge a released resource
on a request that may lack its tags: when in doubt, a call is listed here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

# Calls that create or overwrite, by their name.
UPSERT_NAME = re.compile(
    r"^(Put|Upsert|CreateOrUpdate|CreateOrReplace|Set|Update|Modify|Replace)[A-Z]|Or(Update|Replace)"
)


def _us_east_1(record: Mapping[str, Any]) -> bool:
    return record.get("awsRegion") == "us-east-1"


def _always(record: Mapping[str, Any]) -> bool:
    return True


_ELB = "elasticloadbalancing.amazonaws.com"

# (eventSource, eventName) -> (when the call is an upsert, why). Creates that succeed on an existing id.
UPSERT_EVENTS: Mapping[tuple[str, str], tuple[Callable[[Mapping[str, Any]], bool], str]] = {
    ("s3.amazonaws.com", "CreateBucket"): (
        _us_east_1,
        "in us-east-1 S3 answers 200 for a bucket you own already (elsewhere BucketAlreadyOwnedByYou)",
    ),
    ("sqs.amazonaws.com", "CreateQueue"): (_always, "returns the existing queue when its attributes match"),
    ("sns.amazonaws.com", "CreateTopic"): (_always, "idempotent: returns the existing topic's ARN"),
    ("states.amazonaws.com", "CreateStateMachine"): (_always, "idempotent for the same definition"),
    ("states.amazonaws.com", "CreateActivity"): (_always, "idempotent: returns the existing activity"),
    ("ecs.amazonaws.com", "CreateCluster"): (_always, "returns the existing cluster of that name"),
    ("ecs.amazonaws.com", "CreateService"): (_always, "idempotent for the same parameters"),
    (_ELB, "CreateLoadBalancer"): (_always, "idempotent for the same settings"),
    (_ELB, "CreateTargetGroup"): (_always, "idempotent for the same settings"),
    ("acm.amazonaws.com", "ImportCertificate"): (_always, "re-imports into an existing certificate ARN"),
}

# Request members that make a create idempotent (compared case-insensitively): botocore's
# `idempotencyToken` members of the catalogued creates, and the tokens it does not mark (Route 53's
# CallerReference, EFS's CreationToken). tests/aws/catalogue/test_upserts.py keeps it complete.
TOKENS = frozenset(
    {
        "clienttoken",
        "clientrequesttoken",
        "idempotencytoken",
        "callerreference",
        "creationtoken",
        "creatorrequestid",  # Backup, Amazon MQ, Route 53 Resolver, Cloud Map
        "requestid",  # MediaLive, HealthOmics (a request member, never CloudTrail's own requestID)
    }
)


def may_exist(record: Mapping[str, Any], source: str, name: str) -> bool:
    """True when the create `record` may have written a resource that existed already (an upsert,
    or a retry whose token cannot be read), False when the call fails on an existing id (a
    readable token is compared by the ledger instead: `idempotency_token`)."""
    if UPSERT_NAME.search(name):
        return True
    known = UPSERT_EVENTS.get((source, name))
    if known is not None and known[0](record):
        return True
    tokens = _token_values(record)
    return bool(tokens) and idempotency_token(record) is None  # a token that cannot be compared


def idempotency_token(record: Mapping[str, Any]) -> str | None:
    """The create request's idempotency token as CloudTrail logged it; None when it carries none,
    or when what it carries is not one non-empty string (then `may_exist`: a possible retry)."""
    tokens = _token_values(record)
    if len(tokens) == 1 and isinstance(tokens[0], str) and tokens[0]:
        return tokens[0]
    return None


def _token_values(record: Mapping[str, Any]) -> list[Any]:
    request = record.get("requestParameters")
    if not isinstance(request, Mapping):
        return []
    return [value for key, value in request.items() if str(key).lower() in TOKENS]


__all__ = ["TOKENS", "UPSERT_EVENTS", "UPSERT_NAME", "idempotency_token", "may_exist"]
