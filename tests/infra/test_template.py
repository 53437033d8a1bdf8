"""template.yaml: valid SAM, lint-clean CloudFormation, least-privilege roles, wired to the code.

The SAM template is expanded offline with aws-sam-translator (CodeUri replaced by an S3 URI, as
`sam package` would) and the expansion is linted with cfn-lint, as is the template itself.
`sam validate --lint` runs too when the SAM CLI is installed (.venv-sam/bin/sam or on PATH).
"""

from __future__ import annotations

import ast
import copy
import fnmatch
import importlib.util
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import cfnlint
import pytest
from cfnlint.api import ManualArgs, lint
from cfnlint.decode import decode_str
from samtranslator.translator.transform import transform

from infra_scripts import script

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]


@cache
def template() -> dict[str, Any]:
    decoded, errors = decode_str(TEMPLATE.read_text())
    assert not errors, errors
    plain: dict[str, Any] = json.loads(json.dumps(decoded))
    return plain


class _NoManagedPolicies:
    """ManagedPolicyLoader stand-in: the template names no managed policies, so none are looked up."""

    def load(self) -> dict[str, str]:
        return {}


@cache
def expanded() -> dict[str, Any]:
    sam = copy.deepcopy(template())
    for resource in sam["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://deployment-bucket/enforcer.zip"
    previous = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"  # the translator resolves pseudo parameters
    try:
        out: dict[str, Any] = transform(sam, {}, _NoManagedPolicies())
    finally:
        if previous is None:
            del os.environ["AWS_DEFAULT_REGION"]
        else:
            os.environ["AWS_DEFAULT_REGION"] = previous
    return out


def resources(kind: str, doc: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    doc = doc or expanded()
    return {k: r for k, r in doc["Resources"].items() if r["Type"] == kind}


# --- lint ---------------------------------------------------------------------------------------


def _lint(text: str) -> list[Any]:
    return lint(text, config=ManualArgs(regions=REGIONS))


def test_cfn_lint_finds_no_errors_or_warnings_in_the_template() -> None:
    matches = _lint(TEMPLATE.read_text())
    found = [m for m in matches if m.rule.id.startswith(("E", "W"))]
    assert not found, "\n".join(str(m) for m in found)


def test_cfn_lint_finds_no_errors_in_the_expansion() -> None:
    matches = _lint(json.dumps(expanded(), indent=1))
    errors = [m for m in matches if m.rule.id.startswith("E")]
    assert not errors, "\n".join(str(m) for m in errors)


def _sam() -> str | None:
    local = ROOT / ".venv-sam" / "bin" / "sam"
    return str(local) if local.exists() else shutil.which("sam")


def test_sam_validate_lint() -> None:
    sam = _sam()
    if sam is None:
        # `make test` installs it; only a bare pytest run outside make may lack it. CI must not.
        assert not os.environ.get("CI"), "SAM CLI missing in CI: `make test` installs it into .venv-sam"
        pytest.skip("SAM CLI not installed (make test installs it into .venv-sam)")
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run(
        [sam, "validate", "--lint", "--template", str(TEMPLATE), "--region", "us-east-1"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


# --- the functions --------------------------------------------------------------------------------

FUNCTIONS = {
    "Enforcer": "tagwarden.aws.handler.lambda_handler",
    "Sweeper": "tagwarden.aws.handler.sweeper_handler",
}


def function(name: str = "Enforcer") -> dict[str, Any]:
    functions = resources("AWS::Lambda::Function")
    assert set(functions) == set(FUNCTIONS)
    props: dict[str, Any] = functions[name]["Properties"]
    return props


def test_function_runtime_and_limits() -> None:
    props = function()
    assert props["Runtime"] == "python3.13"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == "tagwarden.aws.handler.lambda_handler"
    window = template()["Parameters"]["NotFoundWindowSeconds"]
    assert int(window["Default"]) == 20
    # The not-found window at its largest, plus room for lookups, cold start and throttling retries.
    assert props["Timeout"] >= int(window["MaxValue"]) + 20
    assert props["Timeout"] <= 300
    assert 256 <= props["MemorySize"] <= 1024
    assert template()["Resources"]["Enforcer"]["Properties"]["CodeUri"] == "build/aws/"  # make package-aws


def test_sweeper_function() -> None:
    props = function("Sweeper")
    enforcer = function("Enforcer")
    assert props["Handler"] == FUNCTIONS["Sweeper"]
    for key in ("Runtime", "Architectures", "Environment"):
        assert props[key] == enforcer[key], key
    assert template()["Resources"]["Sweeper"]["Properties"]["CodeUri"] == "build/aws/"
    assert props["Timeout"] == 300
    assert 256 <= props["MemorySize"] <= 1024
    assert props["Role"] == {"Fn::GetAtt": ["SweeperRole", "Arn"]}
    assert props["LoggingConfig"]["LogGroup"] == {"Ref": "SweeperLogGroup"}


def test_sweeper_runs_on_the_schedule() -> None:
    schedule = template()["Parameters"]["SweepSchedule"]
    assert schedule["Default"] == "rate(15 minutes)"
    assert re.fullmatch(schedule["AllowedPattern"], "rate(15 minutes)")
    assert re.fullmatch(schedule["AllowedPattern"], "cron(0/30 * * * ? *)")
    assert not re.fullmatch(schedule["AllowedPattern"], "15 minutes")
    rules = {
        k: r for k, r in resources("AWS::Events::Rule").items() if "ScheduleExpression" in r["Properties"]
    }
    ((rule_id, rule),) = rules.items()
    assert rule["Properties"]["ScheduleExpression"] == {"Ref": "SweepSchedule"}
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["Sweeper", "Arn"]}
    (permission,) = [
        p["Properties"]
        for p in resources("AWS::Lambda::Permission").values()
        if p["Properties"]["SourceArn"] == {"Fn::GetAtt": [rule_id, "Arn"]}
    ]
    assert permission["FunctionName"] == {"Ref": "Sweeper"}
    assert permission["Principal"] == "events.amazonaws.com"
    # The next sweep is the retry: a failed one is not repeated on top of it.
    (config,) = [
        c["Properties"]
        for c in resources("AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["FunctionName"] == {"Ref": "Sweeper"}
    ]
    assert config["MaximumRetryAttempts"] == 0


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_handler_exists_in_the_code_uri(name: str) -> None:
    spec = importlib.util.find_spec("tagwarden.aws.handler")
    assert spec is not None and spec.origin is not None
    origin = Path(spec.origin).resolve()
    code_root = ROOT / "functions"
    assert function(name)["Handler"] == FUNCTIONS[name]
    module, _, name = function(name)["Handler"].rpartition(".")
    assert origin == code_root / (module.replace(".", "/") + ".py")
    tree = ast.parse(origin.read_text())
    handlers = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    assert len(handlers) == 1
    assert [a.arg for a in handlers[0].args.args] == ["event", "context"]


def test_async_retries_end_in_the_dead_letter_queue() -> None:
    (props,) = [
        c["Properties"]
        for c in resources("AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["FunctionName"] == {"Ref": "Enforcer"}
    ]
    assert 0 <= props["MaximumRetryAttempts"] <= 2
    assert 60 <= props["MaximumEventAgeInSeconds"] <= 21600
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["DeadLetterQueue", "Arn"]
    }
    assert props["Qualifier"] == "$LATEST"  # what the rules' unqualified targets invoke


def test_ledger_table_matches_the_store() -> None:
    table = resources("AWS::DynamoDB::Table")["LedgerTable"]
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["DeletionPolicy"] == "Retain"  # the system of record outlives a stack
    (index,) = props["GlobalSecondaryIndexes"]
    store = (ROOT / "functions" / "tagwarden" / "aws" / "ledger.py").read_text()
    assert index["IndexName"] == "live" and 'STATE_INDEX = "live"' in store
    assert index["KeySchema"] == [{"AttributeName": "sweep", "KeyType": "HASH"}]
    assert '"pk": {"S"' in store and 'item["sweep"]' in store


# --- environment ----------------------------------------------------------------------------------


def _env_names(node: ast.AST) -> set[str]:
    names: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            names.update(re.findall(r"^(TAGWARDEN_[A-Z_]+)$", sub.value))
    return names


def package_step() -> Any:
    return script("aws/package.py")


def _env_names_read_by_the_code() -> set[str]:
    """Every TAGWARDEN_* name in the modules the Lambda package ships (the package step's list)."""
    names: set[str] = set()
    for module in package_step().modules():
        names |= _env_names(ast.parse(package_step().source_file(module).read_text()))
    return names


def _reachable(path: Path, entry: str) -> list[ast.FunctionDef]:
    """`entry` and the module-level functions of `path` it calls, directly or not."""
    defs = {n.name: n for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)}
    seen: dict[str, ast.FunctionDef] = {}
    todo = [entry]
    while todo:
        name = todo.pop()
        if name in seen or name not in defs:
            continue
        seen[name] = defs[name]
        todo.extend(
            n.func.id
            for n in ast.walk(defs[name])
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
        )
    assert entry in seen, entry
    return list(seen.values())


def _env_names_read_by(entry: str) -> set[str]:
    """The variables `tagwarden.aws.enforcer.<entry>` (build, build_sweeper) reads, and those of the
    shared settings (tagwarden/settings.py: the rules file) when it loads rules."""
    path = ROOT / "functions" / "tagwarden" / "aws" / "enforcer.py"
    reachable = _reachable(path, entry)
    names = {name for fn in reachable for name in _env_names(fn)}
    if any(fn.name == "load_rules_from_env" for fn in reachable):
        names |= _env_names(ast.parse((ROOT / "functions" / "tagwarden" / "settings.py").read_text()))
    return names


LIFECYCLE_VARIABLES = {
    "TAGWARDEN_OWN_ARNS",
    "TAGWARDEN_BREAK_GLASS_ARNS",
    "TAGWARDEN_SNS_TOPIC_ARN",
    "TAGWARDEN_CHATBOT_TOPIC_ARN",
}


# Read only where no deployed store is named: the SQLite ledger of local runs and tests (a deployed
# function has TAGWARDEN_LEDGER_TABLE, and fails at cold start with neither).
LOCAL_ONLY = {"TAGWARDEN_LEDGER"}


def test_every_variable_the_code_reads_is_set() -> None:
    variables = function()["Environment"]["Variables"]
    read = _env_names_read_by_the_code() - LOCAL_ONLY
    assert read >= {
        "TAGWARDEN_RULES_PATH",
        "TAGWARDEN_RULES_SSM_PARAMETER",
        "TAGWARDEN_LEDGER_TABLE",
        "TAGWARDEN_OWN_ARNS",
        "TAGWARDEN_ACCOUNT_TAGS",
        "TAGWARDEN_NOT_FOUND_WINDOW",
        *LIFECYCLE_VARIABLES,
    }
    by_function = {"Enforcer": _env_names_read_by("build"), "Sweeper": _env_names_read_by("build_sweeper")}
    assert by_function["Enforcer"] >= {"TAGWARDEN_LEDGER_TABLE", *LIFECYCLE_VARIABLES}
    assert by_function["Sweeper"] >= {"TAGWARDEN_RULES_PATH", "TAGWARDEN_LEDGER_TABLE", *LIFECYCLE_VARIABLES}
    for name, needed in by_function.items():
        present = set(function(name)["Environment"]["Variables"])
        assert needed <= present, (name, needed - present)
        # Anything any AWS module reads is set on both (they share the configuration).
        assert read <= present, (name, read - present)
        assert "TAGWARDEN_MARKER_KEY" not in present, "no seal key: the ledger decides"
    assert variables["TAGWARDEN_SNS_TOPIC_ARN"] == {"Ref": "NotificationTopic"}
    assert variables["TAGWARDEN_CHATBOT_TOPIC_ARN"] == {"Ref": "ChatbotTopicArn"}
    assert variables["TAGWARDEN_BREAK_GLASS_ARNS"] == {"Ref": "BreakGlassArns"}
    assert variables["POWERTOOLS_SERVICE_NAME"] == "tagwarden-aws"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "tagwarden"
    assert variables["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}
    assert variables["TAGWARDEN_RULES_PATH"] == {"Ref": "RulesPath"}
    assert variables["TAGWARDEN_RULES_SSM_PARAMETER"] == {"Ref": "RulesSsmParameter"}
    assert variables["TAGWARDEN_RULES_SOURCE"] == {"Ref": "RulesSource"}
    assert variables["TAGWARDEN_RULES_MAX_AGE"] == {"Ref": "RulesMaxAgeSeconds"}
    assert variables["TAGWARDEN_LEDGER_TABLE"] == {"Ref": "LedgerTable"}
    assert variables["TAGWARDEN_ACCOUNT_TAGS"] == {"Ref": "AccountTags"}
    assert variables["TAGWARDEN_NOT_FOUND_WINDOW"] == {"Ref": "NotFoundWindowSeconds"}
    assert variables["TAGWARDEN_MODE"] == {"Ref": "Mode"}


ORG_PARAMETERS = (
    "EventBusName",
    "MemberAccounts",
    "OrgId",
    "MemberRoleName",
    "MemberExternalId",
    "EnforcerReservedConcurrency",
)


def test_parameters() -> None:
    params = template()["Parameters"]
    assert set(params) == {
        "Mode",
        "RulesPath",
        "RulesSource",
        "RulesMaxAgeSeconds",
        "RulesSsmParameter",
        "NotFoundWindowSeconds",
        "LogLevel",
        "AccountTags",
        "NotificationEmail",
        "ChatbotTopicArn",
        "TeamsWebhookUrl",
        "BreakGlassArns",
        "SweepSchedule",
        "BrakeRoleNamePattern",
        *ORG_PARAMETERS,
    }
    # Organization scale is off by default: one account, the default bus.
    assert params["EventBusName"]["Default"] == "default"
    assert params["MemberAccounts"]["Default"] == params["OrgId"]["Default"] == ""
    members = params["MemberAccounts"]["AllowedPattern"]
    assert re.fullmatch(members, "111111111111, 222222222222")
    assert not re.fullmatch(members, "1111,2222")
    reserved = params["EnforcerReservedConcurrency"]
    assert reserved["Default"] == "" and not re.fullmatch(reserved["AllowedPattern"], "0")  # 0 stops it
    assert function()["ReservedConcurrentExecutions"] == {
        "Fn::If": ["HasReservedConcurrency", {"Ref": "EnforcerReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
    }
    assert params["Mode"]["Default"] == "audit"  # a deployment acts once the operator says enforce
    assert params["Mode"]["AllowedValues"] == ["audit", "enforce"]
    for name in ("NotificationEmail", "ChatbotTopicArn", "TeamsWebhookUrl", "BreakGlassArns"):
        assert params[name]["Default"] == "", name
        assert re.fullmatch(params[name]["AllowedPattern"], ""), name
    assert re.fullmatch(params["NotificationEmail"]["AllowedPattern"], "finops@example.com")
    assert not re.fullmatch(params["NotificationEmail"]["AllowedPattern"], "finops")
    chatbot = params["ChatbotTopicArn"]["AllowedPattern"]
    assert re.fullmatch(chatbot, "arn:aws:sns:eu-west-1:123456789012:tagwarden-chat")
    assert not re.fullmatch(chatbot, "tagwarden-chat")
    teams = params["TeamsWebhookUrl"]
    assert teams["NoEcho"] is True  # the URL carries its signature
    assert re.fullmatch(teams["AllowedPattern"], "https://x.logic.azure.com/workflows/1/invoke?sig=s")
    assert not re.fullmatch(teams["AllowedPattern"], "http://plain.example/hook")
    glass = params["BreakGlassArns"]["AllowedPattern"]
    assert re.fullmatch(glass, "arn:aws:iam::123456789012:role/break-glass-*")
    assert re.fullmatch(glass, "arn:aws:iam::1:role/a, arn:aws:iam::1:role/b")
    assert not re.fullmatch(glass, "break-glass")
    assert params["RulesPath"]["Default"] == "tagwarden/examples/rules.yaml"
    # The package step (infra/aws/package.py) ships it; build/aws/ is the task root.
    assert params["RulesPath"]["Default"] in package_step().DATA
    assert (ROOT / "functions" / params["RulesPath"]["Default"]).is_file()
    assert params["RulesSsmParameter"]["Default"] == ""
    assert params["AccountTags"]["AllowedValues"] == ["none", "organizations"]
    assert "organizations" in (ROOT / "functions" / "tagwarden" / "aws" / "enforcer.py").read_text()


def _sub(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\$\{([^}]+)\}", lambda m: values[m.group(1)], text)


ROLE_VALUES = {
    "EnforcerRole.Arn": "arn:aws:iam::123456789012:role/tw-EnforcerRole-AbC123",
    "EnforcerRole": "tw-EnforcerRole-AbC123",
    "SweeperRole.Arn": "arn:aws:iam::123456789012:role/tw-SweeperRole-XyZ789",
    "SweeperRole": "tw-SweeperRole-XyZ789",
    "AWS::Partition": "aws",
    "AWS::AccountId": "123456789012",
}


def _own_arns(name: str = "Enforcer") -> tuple[str, ...]:
    raw = function(name)["Environment"]["Variables"]["TAGWARDEN_OWN_ARNS"]["Fn::Sub"]
    return tuple(a.strip() for a in _sub(raw, ROLE_VALUES).split(","))


def test_own_arns_match_the_roles_and_their_sessions() -> None:
    from tagwarden.guards import OwnIdentity

    arns = _own_arns()
    assert _own_arns("Sweeper") == arns
    own = OwnIdentity(arns=arns)
    assert own.arns == arns
    for role in ("EnforcerRole", "SweeperRole"):
        # The role ARN itself: what aws:PrincipalArn is for any of its sessions (S3 quarantine).
        assert ROLE_VALUES[f"{role}.Arn"] in arns
        session = f"arn:aws:sts::123456789012:assumed-role/{ROLE_VALUES[role]}/1700000000000"
        assert any(fnmatch.fnmatchcase(session, a) for a in arns)
    other = "arn:aws:sts::123456789012:assumed-role/tw-EnforcerRole-AbC1234/x"
    assert not any(fnmatch.fnmatchcase(other, a) for a in arns)
    assert not any(fnmatch.fnmatchcase("arn:aws:iam::123456789012:role/admin", a) for a in arns)


def test_s3_quarantine_spares_both_roles_and_break_glass() -> None:
    """The enforcer writes the deny statement with the template's values; the sweeper must still
    release and delete (aws:PrincipalArn of a role session is the role ARN)."""
    from botocore.exceptions import ClientError

    from tagwarden.aws.enforcer import quarantiner
    from tagwarden.lifecycle.ports import Status
    from tagwarden.model import Resource

    written: list[dict[str, Any]] = []

    class S3:
        def get_bucket_policy(self, **_: Any) -> dict[str, Any]:
            raise ClientError({"Error": {"Code": "NoSuchBucketPolicy"}}, "GetBucketPolicy")

        def put_bucket_policy(self, Bucket: str, Policy: str) -> None:
            written.append(json.loads(Policy))

    class Clients:
        region = "us-east-1"

        def get(self, service: str, region: str | None = None) -> S3:
            assert service == "s3"
            return S3()

    glass = "arn:aws:iam::123456789012:role/break-glass-*"
    env = {"TAGWARDEN_OWN_ARNS": ",".join(_own_arns()), "TAGWARDEN_BREAK_GLASS_ARNS": glass}
    bucket = Resource(id="arn:aws:s3:::bucket", type="AWS::S3::Bucket", native_id="bucket", tagger="s3")
    result = quarantiner(env, Clients()).quarantine(bucket, dry_run=False)  # type: ignore[arg-type]
    assert result.status is Status.DONE, result.detail
    ((statement,),) = [doc["Statement"] for doc in written]
    patterns = statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
    for principal in (
        ROLE_VALUES["EnforcerRole.Arn"],
        ROLE_VALUES["SweeperRole.Arn"],
        "arn:aws:iam::123456789012:role/break-glass-oncall",
    ):
        assert any(fnmatch.fnmatchcase(principal, p) for p in patterns), principal
    assert not any(fnmatch.fnmatchcase("arn:aws:iam::123456789012:role/dev", p) for p in patterns)


# --- the roles ------------------------------------------------------------------------------------

ROLES = ("EnforcerRole", "SweeperRole")


def _statements(node: Any, condition: str | None = None) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Statements of a policy document, with the condition an Fn::If wraps them in."""
    for item in node:
        if isinstance(item, dict) and "Fn::If" in item:
            name, then, otherwise = item["Fn::If"]
            assert otherwise == {"Ref": "AWS::NoValue"}
            yield from _statements([then], name)
        else:
            yield item, condition


def role_statements(role_id: str = "EnforcerRole") -> list[tuple[dict[str, Any], str | None]]:
    doc = expanded()
    assert set(resources("AWS::IAM::Role", doc)) == set(ROLES)
    role = doc["Resources"][role_id]["Properties"]
    assert "ManagedPolicyArns" not in role
    out: list[tuple[dict[str, Any], str | None]] = []
    for policy in role.get("Policies", []):
        out.extend(_statements(policy["PolicyDocument"]["Statement"]))
    for kind in ("AWS::IAM::RolePolicy", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for res in resources(kind, doc).values():
            props = res["Properties"]
            roles = [props["RoleName"]] if "RoleName" in props else props.get("Roles", [])
            assert roles in ([{"Ref": r}] for r in ROLES), roles
            if roles == [{"Ref": role_id}]:
                out.extend(_statements(props["PolicyDocument"]["Statement"]))
    return out


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def role_actions(role_id: str) -> set[str]:
    return {a for s, _ in role_statements(role_id) for a in _actions(s)}


# Mutating verbs the enforcer may use besides tag writes and quarantine, each for one reason.
ALLOWED_MUTATIONS = {
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "dynamodb:PutItem",  # the ledger's conditional writes (its own table only)
    "sqs:SendMessage",  # failed invocations to the dead-letter queue
    "s3:PutBucketTagging",  # S3 tags are written as a set
    "sns:Publish",  # notifications, to the stack's topic (and the chat topic) only
    "dynamodb:UpdateItem",  # runaway counters (its own table only)
    "iam:PutRolePolicy",  # runaway brake: an inline deny on agent roles (BrakeRoleNamePattern) only
    "iam:DeleteRolePolicy",  # lifting that brake
    "appconfig:StartConfigurationSession",  # reading the rules from AppConfig (RulesSource), one profile
}
DESTRUCTIVE = re.compile(
    r"^(Delete|Terminate|Remove|Untag|Detach|Disable|Stop|Start|Revoke|Put.*Policy|Put.*Concurrency"
    r"|Update(?!TagsForResource)|Create(?!Tags|OrUpdateTags))"
)
READ_OR_TAG = (
    "Tag",
    "AddTags",
    "CreateTags",
    "CreateOrUpdateTags",
    "ChangeTags",
    "List",
    "Get",
    "Describe",
    "UpdateTagsForResource",
    "PUT",
    "POST",
    "BatchGet",  # runaway counters, read on its own table
    "Query",
)


def _generator() -> Any:
    return script("aws/generate_template.py")


@cache
def untag_permissions() -> Any:
    from tagwarden.aws.patterns import tag_actions
    from tagwarden.aws.taggers import TAGGERS

    return _generator().untag_actions(tag_actions(TAGGERS))


def untag_action_names() -> set[str]:
    perms = untag_permissions()
    return {*perms.actions, *(a for acts in perms.scoped.values() for a in acts)}


@pytest.mark.parametrize("role_id", ROLES)
def test_roles_name_every_action(role_id: str) -> None:
    statements = role_statements(role_id)
    assert statements
    for statement, _ in statements:
        # The one Deny: nothing touches a resource tagged tagwarden:protect=true.
        assert statement["Effect"] == "Allow" or statement["Sid"] == "ProtectedStayUntouched"
        assert "NotAction" not in statement and "NotResource" not in statement
        for action in _actions(statement):
            assert "*" not in action and "?" not in action, action
            prefix, _, verb = action.partition(":")
            assert prefix and verb, action


def test_enforcer_role_tags_and_quarantines_and_deletes_nothing() -> None:
    from tagwarden.aws.quarantine import IAM_ACTIONS

    quarantine = set(_generator().quarantine_actions())
    assert quarantine < set(IAM_ACTIONS)
    actions = role_actions("EnforcerRole")
    assert quarantine <= actions
    for action in actions:
        verb = action.partition(":")[2]
        assert not verb.startswith(("Delete", "Terminate", "Remove", "Untag", "Start")) or action in (
            ALLOWED_MUTATIONS
        ), action
        if action in ALLOWED_MUTATIONS or action in quarantine:
            continue
        assert not DESTRUCTIVE.match(verb), action
        assert verb.startswith(READ_OR_TAG), action


def test_sweeper_role_releases_deletes_and_untags_only() -> None:
    from tagwarden.aws.quarantine import IAM_ACTIONS

    actions = role_actions("SweeperRole")
    untag = untag_action_names()
    assert set(IAM_ACTIONS) <= actions
    assert untag <= actions
    assert {"tag:GetResources", "tag:UntagResources", "sns:Publish", "sqs:GetQueueUrl"} <= actions
    marks = {a for s, _ in role_statements("SweeperRole") if s["Sid"].startswith("MarkWrites") for a in _actions(s)}
    # The sweeper writes marks ("notified", a retried quarantine's marker) with the enforcer's tag actions.
    enforcer_tags = {a for s, _ in role_statements() if s["Sid"].startswith("TagWrites") for a in _actions(s)}
    assert marks == enforcer_tags
    assert {"ec2:CreateTags", "sqs:TagQueue"} <= marks
    allowed = {*IAM_ACTIONS, *untag, *marks, "logs:CreateLogStream", "logs:PutLogEvents", "sns:Publish"}
    # the ledger: its work list and its versioned updates, on its own table and index only
    ((ledger, _),) = _by_action("dynamodb:PutItem", "SweeperRole")
    assert sorted(_actions(ledger)) == ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]
    assert ledger["Resource"][0] == {"Fn::GetAtt": ["LedgerTable", "Arn"]}
    allowed |= {"dynamodb:PutItem", "dynamodb:Query", "appconfig:StartConfigurationSession"}
    for action in actions - allowed:
        verb = action.partition(":")[2]
        assert verb.startswith(("Get", "List", "Describe")), action


def test_sweeper_untags_through_every_call_it_makes() -> None:
    """tagwarden.aws.sweeper.UNTAG (each service's own untag call), tag:UntagResources for the rest."""
    from tagwarden.aws.sweeper import UNTAG

    needed = {
        "ec2": {"ec2:DeleteTags"},
        "s3": {"s3:GetBucketTagging", "s3:PutBucketTagging"},  # DeleteBucketTagging is PutBucketTagging
        "sqs": {"sqs:GetQueueUrl", "sqs:UntagQueue"},
        "lambda": {"lambda:UntagResource"},
        "sns": {"sns:UntagResource"},
        "dynamodb": {"dynamodb:UntagResource"},
        "rds": {"rds:RemoveTagsFromResource"},
    }
    assert set(UNTAG) == set(needed), "a new untag call in the sweeper: name its IAM actions here"
    actions = role_actions("SweeperRole")
    for service, wanted in needed.items():
        assert wanted <= actions, service
    # tag:UntagResources also needs the service's own untag permission: every tag action has its
    # counterpart (a marked resource was tagged through one of them).
    assert "tag:UntagResources" in actions
    for spot in (
        "sagemaker:DeleteTags",
        "kinesis:RemoveTagsFromStream",
        "iam:UntagRole",
        "ecs:UntagResource",
    ):
        assert spot in actions, spot


@pytest.mark.parametrize("role_id", ROLES)
def test_role_actions_exist(role_id: str) -> None:
    path = Path(cfnlint.__file__).parent / "data" / "AdditionalSpecs" / "Policies.json"
    reference = json.loads(path.read_text())
    for statement, _ in role_statements(role_id):
        for action in _actions(statement):
            prefix, _, verb = action.partition(":")
            assert verb.lower() in reference[prefix]["Actions"], action


# --- the quarantine table's calls against the roles -----------------------------------------------

ACTIONS_PY = ROOT / "functions" / "tagwarden" / "aws" / "quarantine" / "actions.py"
# boto3 operations whose IAM action has another name.
OPERATION_ACTIONS = {("s3", "ListObjectVersions"): "s3:ListBucketVersions"}


def _boto3_calls(entry: str) -> set[str]:
    """The boto3 methods a row function calls: ctx.client.<method>(...) and ctx.change(_, "<method>")."""
    methods: set[str] = set()
    for fn in _reachable(ACTIONS_PY, entry):
        for node in ast.walk(fn):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            owner = node.func.value
            if isinstance(owner, ast.Attribute) and owner.attr == "client":
                methods.add(node.func.attr)
            elif node.func.attr == "change" and isinstance(owner, ast.Name) and owner.id == "ctx":
                method = node.args[1]
                assert isinstance(method, ast.Constant) and isinstance(method.value, str), ast.dump(node)
                methods.add(method.value)
    return methods


def _iam_actions_of(step: str) -> set[str]:
    """The IAM actions the rows' `step` functions (quarantine, release, delete) call, read from the code."""
    import botocore
    import botocore.session

    from tagwarden.aws.patterns import IAM_PREFIX
    from tagwarden.aws.quarantine import QUARANTINE_ROWS

    session = botocore.session.get_session()
    actions: set[str] = set()
    for row in QUARANTINE_ROWS.values():
        fn = getattr(row, step)
        if fn is None:
            continue
        model = session.get_service_model(row.service)
        operations = {botocore.xform_name(op): op for op in model.operation_names}
        prefix = IAM_PREFIX.get(row.service, row.service)
        for method in _boto3_calls(fn.__name__):
            operation = operations[method]
            actions.add(OPERATION_ACTIONS.get((prefix, operation), f"{prefix}:{operation}"))
    return actions


def test_the_enforcer_may_make_every_call_quarantining_makes() -> None:
    calls = _iam_actions_of("quarantine")
    assert {"ec2:StopInstances", "s3:PutBucketPolicy", "lambda:PutFunctionConcurrency"} <= calls
    quarantine = {
        a
        for s, _ in role_statements("EnforcerRole")
        if s.get("Sid") in ("Quarantine", "QuarantineBuckets")
        for a in _actions(s)
    }
    assert calls <= quarantine, calls - quarantine


def test_the_sweeper_may_make_every_call_release_and_delete_make() -> None:
    from tagwarden.aws.quarantine import IAM_ACTIONS

    calls = _iam_actions_of("release") | _iam_actions_of("delete")
    assert {"ec2:StartInstances", "ec2:TerminateInstances", "s3:DeleteBucket"} <= calls
    assert calls <= set(IAM_ACTIONS), calls - set(IAM_ACTIONS)
    assert calls <= role_actions("SweeperRole")


def _by_action(action: str, role_id: str = "EnforcerRole") -> list[tuple[dict[str, Any], str | None]]:
    return [(s, c) for s, c in role_statements(role_id) if action in _actions(s)]


# Statements that may name Resource "*" (the resources they act on are arbitrary), per role.
WILDCARD_SIDS = {
    "EnforcerRole": {"TagWrites", "Quarantine", "AccountTags", "LiveTags", "ProtectedStayUntouched"},
    "SweeperRole": {
        "Release",
        "DeleteMarked",
        "DeleteLeftovers",
        "MarkerRemoval",
        "MarkWrites",
        "FindMarked",
        "ReadTags",
        "ProtectedStayUntouched",
    },
}


@pytest.mark.parametrize("role_id", ROLES)
def test_wildcard_resources_only_where_resources_are_arbitrary(role_id: str) -> None:
    from tagwarden.aws.quarantine import IAM_ACTIONS

    for statement, condition in role_statements(role_id):
        if statement["Resource"] != "*":
            continue
        sid, actions = statement["Sid"], _actions(statement)
        assert sid in WILDCARD_SIDS[role_id], sid
        if sid == "AccountTags":
            assert actions == ["organizations:ListTagsForResource"] and condition == "ReadsAccountTags"
        elif sid in ("FindMarked", "LiveTags", "ReadTags"):
            assert actions == ["tag:GetResources"]
        elif sid == "DeleteMarked":
            assert condition is None
            assert statement["Condition"] == {"Null": {"aws:ResourceTag/tagwarden:quarantine": "false"}}
        elif sid == "ProtectedStayUntouched":
            assert statement["Effect"] == "Deny"
            assert statement["Condition"] == {
                "StringEqualsIgnoreCase": {"aws:ResourceTag/tagwarden:protect": "true"}
            }
        elif sid in ("TagWrites", "MarkerRemoval", "MarkWrites"):
            assert all("tag" in a.lower() or a == "sqs:GetQueueUrl" for a in actions), actions
        else:
            assert set(actions) <= set(IAM_ACTIONS), sid


def test_scoped_permissions() -> None:
    ((ledger, cond),) = [(st, c) for st, c in _by_action("dynamodb:PutItem") if st["Sid"] == "Ledger"]
    assert cond is None
    assert sorted(_actions(ledger)) == ["dynamodb:GetItem", "dynamodb:PutItem"]  # no delete, no scan
    assert ledger["Resource"] == {"Fn::GetAtt": ["LedgerTable", "Arn"]}

    for role_id in ROLES:
        ((ssm, cond),) = [(s, c) for s, c in _by_action("ssm:GetParameter", role_id) if c != "RulesFromSsm"]
        assert cond == "HasRulesSsmParameter"
        assert _actions(ssm) == ["ssm:GetParameter"]
        arns = ssm["Resource"]["Fn::If"][1:]
        assert [a["Fn::Sub"].rsplit(":", 1)[1] for a in arns] == [
            "parameter${RulesSsmParameter}",
            "parameter/${RulesSsmParameter}",
        ]

    ((_org, cond),) = _by_action("organizations:ListTagsForResource")
    assert cond == "ReadsAccountTags"
    assert not _by_action("organizations:ListTagsForResource", "SweeperRole")

    ((principals, cond),) = _by_action("iam:ListRoleTags")
    assert cond is None and sorted(_actions(principals)) == ["iam:ListRoleTags", "iam:ListUserTags"]
    assert [r["Fn::Sub"] for r in principals["Resource"]] == [
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*",
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:user/*",
    ]

    ((dlq, cond),) = _by_action("sqs:SendMessage")
    assert cond is None and dlq["Resource"] == {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}

    for role_id, fn, group in (
        ("EnforcerRole", "Enforcer", "EnforcerLogGroup"),
        ("SweeperRole", "Sweeper", "SweeperLogGroup"),
    ):
        ((logs, cond),) = _by_action("logs:PutLogEvents", role_id)
        assert logs["Resource"] == {"Fn::GetAtt": [group, "Arn"]}
        assert function(fn)["LoggingConfig"]["LogGroup"] == {"Ref": group}

        publish = _by_action("sns:Publish", role_id)
        assert sorted((s["Resource"]["Ref"], c) for s, c in publish) == [
            ("ChatbotTopicArn", "HasChatbotTopic"),
            ("NotificationTopic", None),
        ]
        assert all(_actions(s) == ["sns:Publish"] for s, _ in publish)


def test_runaway_permissions_are_scoped_to_their_table_and_the_agent_roles() -> None:
    from tagwarden.aws.brake import IamBrake

    statements = {
        st["Sid"]: st for st, _ in role_statements("EnforcerRole") if st["Sid"].startswith("Runaway")
    }
    assert set(statements) == {"RunawayCounters", "RunawayBrake"}
    assert statements["RunawayCounters"]["Resource"] == {"Fn::GetAtt": ["RunawayTable", "Arn"]}
    brake = statements["RunawayBrake"]
    assert sorted(_actions(brake)) == ["iam:DeleteRolePolicy", "iam:GetRolePolicy", "iam:PutRolePolicy"]
    scope = brake["Resource"]["Fn::Sub"]
    assert scope == "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${BrakeRoleNamePattern}"
    # The code refuses the same roles the policy does not grant (TAGWARDEN_BRAKE_ROLES).
    variables = function()["Environment"]["Variables"]
    assert variables["TAGWARDEN_BRAKE_ROLES"] == {"Fn::Sub": scope}
    assert variables["TAGWARDEN_RUNAWAY_TABLE"] == {"Ref": "RunawayTable"}
    assert not [a for a in role_actions("SweeperRole") if a.startswith("iam:Put")]
    assert {"iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:GetRolePolicy"} >= {
        f"iam:{m[0].upper()}{m[1:]}".replace("_role_policy", "RolePolicy")
        for m in ("put_role_policy", "delete_role_policy", "get_role_policy")
        if m in (ROOT / "functions" / "tagwarden" / "aws" / "brake.py").read_text()
    }
    assert IamBrake  # the adapter these permissions are for
    table = resources("AWS::DynamoDB::Table")["RunawayTable"]["Properties"]
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires", "Enabled": True}


def test_own_resources_the_lifecycle_could_act_on_are_protected() -> None:
    """A deployer the rules cannot attribute must not get tagwarden's own resources stopped or deleted."""
    from tagwarden.aws.quarantine import QUARANTINE_ROWS
    from tagwarden.rules.model import Lifecycle

    key = Lifecycle().protect_tag
    acted_on = {t for t, row in QUARANTINE_ROWS.items() if row.quarantine or row.delete}
    own = {k: r for k, r in expanded()["Resources"].items() if r["Type"] in acted_on}
    assert {"Enforcer", "Sweeper", "NotificationTopic", "LedgerTable", "DeadLetterQueue"} <= set(own)
    for logical_id, res in own.items():
        tags = res["Properties"].get("Tags")
        pairs = tags.items() if isinstance(tags, dict) else [(t["Key"], t["Value"]) for t in tags or []]
        assert (key, "true") in pairs, logical_id


# --- notifications --------------------------------------------------------------------------------


def test_notification_topic_is_encrypted_with_the_aws_managed_key() -> None:
    (topic_id,) = resources("AWS::SNS::Topic")
    assert topic_id == "NotificationTopic"
    props = resources("AWS::SNS::Topic")[topic_id]["Properties"]
    assert props["KmsMasterKeyId"] == "alias/aws/sns"
    assert template()["Outputs"]["NotificationTopicArn"]["Value"] == {"Ref": "NotificationTopic"}


def test_email_subscription_is_optional() -> None:
    (sub,) = resources("AWS::SNS::Subscription").values()
    assert sub["Condition"] == "HasNotificationEmail"
    assert sub["Properties"] == {
        "TopicArn": {"Ref": "NotificationTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "NotificationEmail"},
    }
    conditions = template()["Conditions"]
    assert conditions["HasNotificationEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "NotificationEmail"}, ""]}]
    }
    assert conditions["HasChatbotTopic"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "ChatbotTopicArn"}, ""]}]}


def test_conditions() -> None:
    conditions = template()["Conditions"]
    assert conditions["HasRulesSsmParameter"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "RulesSsmParameter"}, ""]}]
    }
    assert conditions["ReadsAccountTags"] == {"Fn::Equals": [{"Ref": "AccountTags"}, "organizations"]}

    def is_path(name: str) -> bool:  # RulesSsmParameterIsPath, evaluated as CloudFormation would
        (empty, select) = conditions["RulesSsmParameterIsPath"]["Fn::Equals"]
        index, split = select["Fn::Select"]
        sep, sub = split["Fn::Split"]
        return bool(empty == _sub(sub["Fn::Sub"], {"RulesSsmParameter": name}).split(sep)[index])

    assert is_path("/tagwarden/rules")
    assert not is_path("tagwarden-rules")
    assert not is_path("")


# --- outputs --------------------------------------------------------------------------------------


def test_outputs() -> None:
    outputs = template()["Outputs"]
    assert outputs["EnforcerFunctionArn"]["Value"] == {"Fn::GetAtt": ["Enforcer", "Arn"]}
    assert outputs["DeadLetterQueueUrl"]["Value"] == {"Ref": "DeadLetterQueue"}
    assert outputs["LedgerTableName"]["Value"] == {"Ref": "LedgerTable"}
    assert outputs["SweeperFunctionArn"]["Value"] == {"Fn::GetAtt": ["Sweeper", "Arn"]}
    rules = sorted(k for k, r in template()["Resources"].items() if r["Type"] == "AWS::Events::Rule")
    joined = outputs["CreateEventsRuleNames"]["Value"]["Fn::Join"]
    assert joined[0] == ","
    assert sorted(ref["Ref"] for ref in joined[1]) == rules


def test_tag_write_rule_matches_the_code() -> None:
    """The sweeper's TagWrites rule names exactly the tag events the code reads."""
    from tagwarden.aws.normalize.tag_events import TAG_EVENT_IDS

    sweeper = template()["Resources"]["Sweeper"]
    pattern = sweeper["Properties"]["Events"]["TagWrites"]["Properties"]["Pattern"]
    assert sorted(pattern["detail"]["eventName"]) == sorted(TAG_EVENT_IDS)
    assert pattern["detail"]["errorCode"] == [{"exists": False}]


# --- rules from a store (RulesSource) -------------------------------------------------------------


def _evaluate(node: Any, params: dict[str, str], conditions: dict[str, Any]) -> Any:
    """The intrinsic functions RulesSource's grants use, evaluated as CloudFormation would."""
    pseudo = {"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012"}
    if isinstance(node, list):
        return [_evaluate(n, params, conditions) for n in node]
    if not isinstance(node, dict):
        return node
    ((fn, arg),) = node.items()
    if fn == "Ref":
        return {**pseudo, **params}[arg]
    if fn == "Fn::Sub":
        text, names = (arg, {}) if isinstance(arg, str) else (arg[0], {k: _evaluate(v, params, conditions) for k, v in arg[1].items()})
        values = {**pseudo, **params, **names}
        return re.sub(r"\$\{([^}]+)\}", lambda m: values[m.group(1)], text)
    if fn == "Fn::Split":
        sep, text = arg[0], _evaluate(arg[1], params, conditions)
        return text.split(sep)
    if fn == "Fn::Select":
        return _evaluate(arg[1], params, conditions)[int(arg[0])]
    if fn == "Fn::Equals":
        a, b = _evaluate(arg, params, conditions)
        return a == b
    if fn == "Fn::Not":
        return not _evaluate(arg[0], params, conditions)
    if fn == "Fn::If":
        chosen = _evaluate(conditions[arg[0]], params, conditions)
        return _evaluate(arg[1] if chosen else arg[2], params, conditions)
    raise AssertionError(f"not evaluated here: {fn}")


RULES_SOURCE_GRANTS = {
    "s3://tagwarden-config/rules/tagwarden.yaml": (
        "RulesFromS3",
        ["s3:GetObject"],
        "arn:aws:s3:::tagwarden-config/rules/tagwarden.yaml",
    ),
    "ssm:/team/tagwarden/rules": (
        "RulesFromSsm",
        ["ssm:GetParameter"],
        "arn:aws:ssm:us-east-1:123456789012:parameter/team/tagwarden/rules",
    ),
    "ssm:tagwarden-rules": (
        "RulesFromSsm",
        ["ssm:GetParameter"],
        "arn:aws:ssm:us-east-1:123456789012:parameter/tagwarden-rules",
    ),
    "appconfig:abc1234/def5678/ghi9012": (
        "RulesFromAppConfig",
        ["appconfig:StartConfigurationSession", "appconfig:GetLatestConfiguration"],
        "arn:aws:appconfig:us-east-1:123456789012:application/abc1234/environment/def5678/configuration/ghi9012",
    ),
}


@pytest.mark.parametrize("role_id", ROLES)
@pytest.mark.parametrize("source", [*RULES_SOURCE_GRANTS, ""])
def test_rules_source_grants_exactly_its_read_on_its_resource(role_id: str, source: str) -> None:
    """Each function may make the reads tagwarden.aws.rules_source makes for that scheme, on that
    object, parameter or profile only; with no RulesSource, none."""
    doc = template()
    conditions = doc["Conditions"]
    assert re.fullmatch(doc["Parameters"]["RulesSource"]["AllowedPattern"], source)
    params = {"RulesSource": source, "RulesSsmParameter": ""}
    sids = {"RulesSourceObject", "RulesSourceParameter", "RulesSourceProfile"}
    granted = [
        (s, c) for s, c in role_statements(role_id) if s.get("Sid") in sids and _evaluate(conditions[c], params, conditions)
    ]
    if not source:
        assert granted == []
        return
    ((statement, condition),) = granted
    want_condition, actions, arn = RULES_SOURCE_GRANTS[source]
    assert condition == want_condition and statement["Effect"] == "Allow"
    assert _actions(statement) == actions
    assert _evaluate(statement["Resource"], params, conditions) == arn


def test_rules_source_forms_the_template_admits_are_those_the_code_reads() -> None:
    from tagwarden.aws.clients import Clients
    from tagwarden.aws.rules_source import feed

    pattern = template()["Parameters"]["RulesSource"]["AllowedPattern"]
    clients = Clients(boto3.session.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"))
    for source in RULES_SOURCE_GRANTS:
        assert feed(source, clients, 60).name == source
    for bad in ("s3://bucket-only", "https://example.com/rules.yaml", "appconfig:a/b", "ssm:"):
        assert not re.fullmatch(pattern, bad), bad
