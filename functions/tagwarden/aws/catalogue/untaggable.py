"""Create-like events the catalogue leaves out on purpose, each with its reason. Pure data.

One row per (eventSource, eventName) that looks like a create but gives tagwarden nothing to tag, or
nothing it can name. The reader uses the reason instead of "not in the catalogue" (so the unknown-create
count shows only real gaps), and the corpus coverage test (tests/aws/catalogue/test_catalogue.py) takes
the rows whose `why` makes no taggable resource out of the share it measures, and lists the others as
uncovered with their reason.

Evidence: a row naming a botocore operation (`model`) is checked against the installed model by
tests/aws/catalogue/test_untaggable.py: NOT_A_RESOURCE and UNTAGGABLE operations take no tag member;
RETIRED services are no longer in botocore; a DEFERRED row's `later` event is in the catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from msgspec import Struct


class Why(StrEnum):
    NOT_A_RESOURCE = "not-a-resource"  # changes or fills in something that exists (a rule, a route)
    UNTAGGABLE = "untaggable"  # a resource whose type carries no tags
    DEFERRED = "deferred"  # the resource is named by a later event, which the catalogue covers
    UNIDENTIFIABLE = "unidentifiable"  # taggable, but the record does not name it (async operations)
    NO_API = "no-api"  # taggable, but not through any API an SDK offers
    RETIRED = "retired"  # the service was shut down: its API left botocore, nothing is created any more

    @property
    def taggable(self) -> bool:
        """True when the event makes (or made) a taggable resource that tagwarden does not cover."""
        return self in (Why.UNIDENTIFIABLE, Why.NO_API, Why.RETIRED)


class Gap(Struct, frozen=True):
    why: Why
    reason: str
    model: tuple[str, str] | None = None  # botocore (service, operation) the evidence test reads
    later: tuple[str, str] | None = None  # DEFERRED: the (source, event) that names the resource


def _g(why: Why, reason: str, model: tuple[str, str] | None = None, **kw: tuple[str, str]) -> Gap:
    return Gap(why, reason, model, **kw)


NOT_A_RESOURCE, UNTAGGABLE_TYPE, DEFERRED = Why.NOT_A_RESOURCE, Why.UNTAGGABLE, Why.DEFERRED
UNIDENTIFIABLE, NO_API, RETIRED = Why.UNIDENTIFIABLE, Why.NO_API, Why.RETIRED
_S = ".amazonaws.com"

_ROWS: dict[tuple[str, str], Gap] = {
    # --- not a resource: the call configures or fills in something that already exists -------------
    ("acm-pca" + _S, "ImportCertificateAuthorityCertificate"): _g(
        NOT_A_RESOURCE,
        "installs the signed certificate in an existing CA (tagged on CreateCertificateAuthority)",
        ("acm-pca", "ImportCertificateAuthorityCertificate"),
    ),
    ("cloud9" + _S, "CreateEnvironmentMembership"): _g(
        NOT_A_RESOURCE, "grants a user access to an environment", ("cloud9", "CreateEnvironmentMembership")
    ),
    ("ec2" + _S, "CreateNetworkAclEntry"): _g(
        NOT_A_RESOURCE,
        "NACL entries are rules inside a network ACL, not resources",
        ("ec2", "CreateNetworkAclEntry"),
    ),
    ("ec2" + _S, "CreateRoute"): _g(
        NOT_A_RESOURCE, "routes are entries in a route table, not resources", ("ec2", "CreateRoute")
    ),
    ("elasticloadbalancing" + _S, "CreateLoadBalancerPolicy"): _g(
        NOT_A_RESOURCE,
        "a policy is a setting of a Classic Load Balancer",
        ("elb", "CreateLoadBalancerPolicy"),
    ),
    ("kms" + _S, "ImportKeyMaterial"): _g(
        NOT_A_RESOURCE,
        "loads key material into an existing key (tagged on CreateKey)",
        ("kms", "ImportKeyMaterial"),
    ),
    ("sms-voice" + _S, "CreateConfigurationSetEventDestination"): _g(
        NOT_A_RESOURCE,
        "an event destination is a setting of a configuration set",
        ("pinpoint-sms-voice", "CreateConfigurationSetEventDestination"),
    ),
    ("supportapp" + _S, "CreateSlackChannelConfiguration"): _g(
        NOT_A_RESOURCE,
        "a Slack channel setting of the Support App",
        ("support-app", "CreateSlackChannelConfiguration"),
    ),
    ("taxconsole" + _S, "CreateCustomerCase"): _g(
        NOT_A_RESOURCE, "a console action filing a tax exemption case; no API, no resource"
    ),
    ("kafka-cluster" + _S, "CreateTopic"): _g(
        NOT_A_RESOURCE,
        "a Kafka data-plane call (IAM access control): topics live inside the cluster and carry no AWS tags",
    ),
    # --- untaggable: resources whose type carries no tags ------------------------------------------
    ("athena" + _S, "CreateNamedQuery"): _g(
        UNTAGGABLE_TYPE,
        "named queries cannot be tagged (workgroups and data catalogs can)",
        ("athena", "CreateNamedQuery"),
    ),
    ("autoscaling" + _S, "CreateLaunchConfiguration"): _g(
        UNTAGGABLE_TYPE,
        "launch configurations cannot be tagged",
        ("autoscaling", "CreateLaunchConfiguration"),
    ),
    ("cloudhsm" + _S, "CreateHsm"): _g(
        UNTAGGABLE_TYPE,
        "HSMs cannot be tagged (their cluster is, on CreateCluster)",
        ("cloudhsmv2", "CreateHsm"),
    ),
    ("elasticfilesystem" + _S, "CreateMountTarget"): _g(
        UNTAGGABLE_TYPE, "mount targets cannot be tagged (their file system is)", ("efs", "CreateMountTarget")
    ),
    ("globalaccelerator" + _S, "CreateListener"): _g(
        UNTAGGABLE_TYPE,
        "listeners cannot be tagged (their accelerator is)",
        ("globalaccelerator", "CreateListener"),
    ),
    ("inspector" + _S, "CreateResourceGroup"): _g(
        UNTAGGABLE_TYPE,
        "Inspector Classic resource groups cannot be tagged (only assessment templates)",
        ("inspector", "CreateResourceGroup"),
    ),
    ("kms" + _S, "CreateAlias"): _g(
        UNTAGGABLE_TYPE, "KMS aliases cannot be tagged (their key is)", ("kms", "CreateAlias")
    ),
    ("kms" + _S, "CreateCustomKeyStore"): _g(
        UNTAGGABLE_TYPE, "custom key stores cannot be tagged", ("kms", "CreateCustomKeyStore")
    ),
    ("logs" + _S, "CreateExportTask"): _g(
        UNTAGGABLE_TYPE, "export tasks cannot be tagged", ("logs", "CreateExportTask")
    ),
    ("logs" + _S, "CreateLogStream"): _g(
        UNTAGGABLE_TYPE, "log streams cannot be tagged (their log group is)", ("logs", "CreateLogStream")
    ),
    ("securityhub" + _S, "CreateInsight"): _g(
        UNTAGGABLE_TYPE, "Security Hub insights cannot be tagged", ("securityhub", "CreateInsight")
    ),
    ("serverlessrepo" + _S, "CreateApplication"): _g(
        UNTAGGABLE_TYPE,
        "Serverless Application Repository applications cannot be tagged",
        ("serverlessrepo", "CreateApplication"),
    ),
    ("support" + _S, "CreateCase"): _g(
        UNTAGGABLE_TYPE, "support cases cannot be tagged", ("support", "CreateCase")
    ),
    # --- deferred: a later event names the resource ------------------------------------------------
    ("organizations" + _S, "CreateAccount"): _g(
        DEFERRED,
        "async: the response holds only a create-account request id; the account is tagged from the "
        "CreateAccountResult service event that names it",
        ("organizations", "CreateAccount"),
        later=("organizations" + _S, "CreateAccountResult"),
    ),
    # --- taggable, but not identifiable or not taggable by API -------------------------------------
    ("servicediscovery" + _S, "CreatePublicDnsNamespace"): _g(
        UNIDENTIFIABLE,
        "async: the response holds only an operation id; the namespace appears later, in no event",
        ("servicediscovery", "CreatePublicDnsNamespace"),
    ),
    ("servicediscovery" + _S, "CreatePrivateDnsNamespace"): _g(
        UNIDENTIFIABLE,
        "async: the response holds only an operation id; the namespace appears later, in no event",
        ("servicediscovery", "CreatePrivateDnsNamespace"),
    ),
    ("servicediscovery" + _S, "CreateHttpNamespace"): _g(
        UNIDENTIFIABLE,
        "async: the response holds only an operation id; the namespace appears later, in no event",
        ("servicediscovery", "CreateHttpNamespace"),
    ),
    ("sqlworkbench" + _S, "CreateConnection"): _g(
        NO_API, "Query Editor v2 (sqlworkbench) has no SDK API: its tag writes are console-only"
    ),
    # --- retired services: their API is gone from botocore -----------------------------------------
    ("codestar" + _S, "CreateProject"): _g(
        RETIRED, "AWS CodeStar was discontinued (July 2024)", ("codestar", "")
    ),
    ("iotevents" + _S, "CreateDetectorModel"): _g(
        RETIRED, "AWS IoT Events ended (May 2026)", ("iotevents", "")
    ),
    ("iotevents" + _S, "CreateInput"): _g(RETIRED, "AWS IoT Events ended (May 2026)", ("iotevents", "")),
    ("iotfleethub" + _S, "CreateApplication"): _g(
        RETIRED, "AWS IoT Fleet Hub ended (October 2025)", ("iotfleethub", "")
    ),
    ("lookoutvision" + _S, "CreateDataset"): _g(
        RETIRED,
        "Amazon Lookout for Vision ended (October 2025); datasets were never taggable",
        ("lookoutvision", ""),
    ),
    ("sms" + _S, "CreateReplicationJob"): _g(
        RETIRED, "AWS Server Migration Service was discontinued (March 2023)", ("sms", "")
    ),
    # --- not a real event --------------------------------------------------------------------------
    ("s3" + _S, "CreateServiceLinkedRole"): _g(
        NOT_A_RESOURCE,
        "no such S3 API: a hand-edited fixture (IAM's event name on a PutBucketVersioning request)",
    ),
}

UNTAGGABLE: Mapping[tuple[str, str], Gap] = MappingProxyType(_ROWS)


def lookup(source: str, event: str) -> Gap | None:
    return UNTAGGABLE.get((source, event))
