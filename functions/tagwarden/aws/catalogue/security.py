"""Identity and security: IAM, KMS, Secrets Manager, ACM, Private CA, Cognito, IAM Access Analyzer,
WAF (and WAF Classic), GuardDuty, CloudHSM, Organizations, RAM, CloudTrail."""

from __future__ import annotations

from tagwarden.aws.catalogue._types import REQ, RESP, SED, Entry, arn, row


def _iam(event: str, rtype: str, ids: str, name: str, *, native: bool = True) -> Entry:
    """IAM tag calls take the user/role/profile name; policies and providers take the ARN."""
    return row(
        "iam",
        event,
        rtype,
        f"{RESP}.{ids}",
        name=name,
        native=name if native else None,
        tagger="iam",
    )


IAM: tuple[Entry, ...] = (
    _iam("CreateRole", "AWS::IAM::Role", "role.arn", f"{RESP}.role.roleName"),
    # A service-linked role takes tags afterwards (TagRole accepts them), not in its create call.
    row(
        "iam",
        "CreateServiceLinkedRole",
        "AWS::IAM::Role",
        f"{RESP}.role.arn",
        name=f"{RESP}.role.roleName",
        native=f"{RESP}.role.roleName",
        tags=None,
        tagger="iam",
    ),
    _iam("CreateUser", "AWS::IAM::User", "user.arn", f"{RESP}.user.userName"),
    _iam(
        "CreateInstanceProfile",
        "AWS::IAM::InstanceProfile",
        "instanceProfile.arn",
        f"{RESP}.instanceProfile.instanceProfileName",
    ),
    _iam("CreatePolicy", "AWS::IAM::ManagedPolicy", "policy.arn", f"{RESP}.policy.policyName", native=False),
    _iam(
        "CreateOpenIDConnectProvider",
        "AWS::IAM::OIDCProvider",
        "openIDConnectProviderArn",
        f"{REQ}.url",
        native=False,
    ),
    _iam("CreateSAMLProvider", "AWS::IAM::SAMLProvider", "sAMLProviderArn", f"{REQ}.name", native=False),
)

KEYS_AND_SECRETS: tuple[Entry, ...] = (
    # KMS request tags are {TagKey, TagValue} items.
    row(
        "kms",
        "CreateKey",
        "AWS::KMS::Key",
        f"{RESP}.keyMetadata.arn",
        native=f"{RESP}.keyMetadata.keyId",
        tagger="kms",
    ),
    # The secret ARN ends in a random suffix: read it from the response when it is there; the
    # name (which TagResource also takes) stands in when responseElements is empty.
    row(
        "secretsmanager",
        "CreateSecret",
        "AWS::SecretsManager::Secret",
        f"{REQ}.name",
        arn=f"{RESP}.arn",
        name=f"{REQ}.name",
        tagger="secretsmanager",
    ),
    row(
        "acm",
        "RequestCertificate",
        "AWS::CertificateManager::Certificate",
        f"{RESP}.certificateArn",
        name=f"{REQ}.domainName",
        tagger="acm",
    ),
    row(
        "acm",
        "ImportCertificate",
        "AWS::CertificateManager::Certificate",
        f"{RESP}.certificateArn",
        tagger="acm",
    ),
    row(
        "acm-pca",
        "CreateCertificateAuthority",
        "AWS::ACMPCA::CertificateAuthority",
        f"{RESP}.certificateAuthorityArn",
        tagger="acm-pca",
    ),
    row(
        "cloudhsm",
        "CreateCluster",
        "AWS::CloudHSM::Cluster",
        f"{RESP}.cluster.clusterId",
        arn=arn("cloudhsm", "cluster/{id}"),
        tags=f"{REQ}.tagList",
        tagger="cloudhsm",
    ),
)

IDENTITY_AND_GOVERNANCE: tuple[Entry, ...] = (
    row(
        "cognito-idp",
        "CreateUserPool",
        "AWS::Cognito::UserPool",
        f"{RESP}.userPool.arn",
        name=f"{RESP}.userPool.name",
        native=f"{RESP}.userPool.id",
        tags=f"{REQ}.userPoolTags",
        tagger="cognito-idp",
    ),
    row(
        "cognito-identity",
        "CreateIdentityPool",
        "AWS::Cognito::IdentityPool",
        f"{RESP}.identityPoolId",
        arn=arn("cognito-identity", "identitypool/{id}"),
        name=f"{RESP}.identityPoolName",
        tags=f"{REQ}.identityPoolTags",
        tagger="cognito-identity",
    ),
    row(
        "access-analyzer",
        "CreateAnalyzer",
        "AWS::AccessAnalyzer::Analyzer",
        f"{RESP}.arn",
        name=f"{REQ}.analyzerName",
    ),
    row(
        "wafv2",
        "CreateWebACL",
        "AWS::WAFv2::WebACL",
        f"{RESP}.summary.aRN",
        name=f"{RESP}.summary.name",
        tagger="wafv2",
    ),
    row(
        "wafv2",
        "CreateIPSet",
        "AWS::WAFv2::IPSet",
        f"{RESP}.summary.aRN",
        name=f"{RESP}.summary.name",
        tagger="wafv2",
    ),
    row(
        "organizations",
        "CreateOrganizationalUnit",
        "AWS::Organizations::OrganizationalUnit",
        f"{RESP}.organizationalUnit.arn",
        name=f"{RESP}.organizationalUnit.name",
        native=f"{RESP}.organizationalUnit.id",
        tagger="organizations",
    ),
    # CreateAccount answers with a request id; the service event that ends it names the account.
    # Tagged by account id (Organizations' TagResource takes it); the ARN would need the org id.
    row(
        "organizations",
        "CreateAccountResult",
        "AWS::Organizations::Account",
        f"{SED}.createAccountStatus.accountId",
        name=f"{SED}.createAccountStatus.accountName",
        tags=None,
        tagger="organizations",
    ),
    row(
        "ram",
        "CreateResourceShare",
        "AWS::RAM::ResourceShare",
        f"{RESP}.resourceShare.resourceShareArn",
        name=f"{RESP}.resourceShare.name",
    ),
    row(
        "cloudtrail",
        "CreateTrail",
        "AWS::CloudTrail::Trail",
        f"{RESP}.trailARN",
        name=f"{RESP}.name",
        tags=f"{REQ}.tagsList",
        tagger="cloudtrail",
    ),
)


def _guardduty(event: str, rtype: str, ids: str, kind: str) -> Entry:
    """Sets and filters live in a detector: the ARN joins the request's detector id and the new id."""
    return row(
        "guardduty",
        event,
        rtype,
        f"{RESP}.{ids}",
        arn=arn("guardduty", f"detector/{{parent}}/{kind}/{{id}}"),
        name=f"{REQ}.name",
        parent=f"{REQ}.detectorId",
        tagger="guardduty",
    )


def _waf_classic(service: str, event: str, rtype: str, ids: str, kind: str) -> Entry:
    """WAF Classic: global (`waf`, ARNs without a region) or regional (`waf-regional`)."""
    region = "" if service == "waf" else "{region}"
    return row(
        service,
        event,
        rtype,
        f"{RESP}.{ids}",
        arn=f"arn:{{partition}}:{service}:{region}:{{account}}:{kind}/{{id}}",
        name=f"{REQ}.name",
        tagger=service,
    )


THREAT_DETECTION: tuple[Entry, ...] = (
    row(
        "guardduty",
        "CreateDetector",
        "AWS::GuardDuty::Detector",
        f"{RESP}.detectorId",
        arn=arn("guardduty", "detector/{id}"),
        tagger="guardduty",
    ),
    _guardduty("CreateIPSet", "AWS::GuardDuty::IPSet", "ipSetId", "ipset"),
    _guardduty(
        "CreateThreatIntelSet", "AWS::GuardDuty::ThreatIntelSet", "threatIntelSetId", "threatintelset"
    ),
    _guardduty("CreateFilter", "AWS::GuardDuty::Filter", "name", "filter"),
    *(
        entry
        for service in ("waf", "waf-regional")
        for entry in (
            _waf_classic(service, "CreateRule", "AWS::WAF::Rule", "rule.ruleId", "rule"),
            _waf_classic(
                service, "CreateRateBasedRule", "AWS::WAF::RateBasedRule", "rule.ruleId", "ratebasedrule"
            ),
            _waf_classic(
                service, "CreateRuleGroup", "AWS::WAF::RuleGroup", "ruleGroup.ruleGroupId", "rulegroup"
            ),
        )
    ),
)

ENTRIES: tuple[Entry, ...] = (*IAM, *KEYS_AND_SECRETS, *IDENTITY_AND_GOVERNANCE, *THREAT_DETECTION)
