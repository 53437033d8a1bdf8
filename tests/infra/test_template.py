"""template.yaml: valid SAM, lint-clean CloudFormation, least-privilege role, wired to the code.

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

import cfnlint
import pytest
from cfnlint.api import ManualArgs, lint
from cfnlint.decode import decode_str
from samtranslator.translator.transform import transform

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


def test_cfn_lint_finds_no_errors_in_the_template() -> None:
    matches = _lint(TEMPLATE.read_text())
    errors = [m for m in matches if m.rule.id.startswith("E")]
    assert not errors, "\n".join(str(m) for m in errors)
    # Warnings are allowed (there are none today: `.venv/bin/cfn-lint template.yaml` lists any).


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


# --- the function ---------------------------------------------------------------------------------


def function() -> dict[str, Any]:
    (fn,) = resources("AWS::Lambda::Function").values()
    props: dict[str, Any] = fn["Properties"]
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
    assert template()["Resources"]["Enforcer"]["Properties"]["CodeUri"] == "functions/"


def test_handler_exists_in_the_code_uri() -> None:
    spec = importlib.util.find_spec("tagwarden.aws.handler")
    assert spec is not None and spec.origin is not None
    origin = Path(spec.origin).resolve()
    code_root = ROOT / "functions"
    module, _, name = function()["Handler"].rpartition(".")
    assert origin == code_root / (module.replace(".", "/") + ".py")
    tree = ast.parse(origin.read_text())
    handlers = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    assert len(handlers) == 1
    assert [a.arg for a in handlers[0].args.args] == ["event", "context"]


def test_async_retries_end_in_the_dead_letter_queue() -> None:
    (config,) = resources("AWS::Lambda::EventInvokeConfig").values()
    props = config["Properties"]
    assert 0 <= props["MaximumRetryAttempts"] <= 2
    assert 60 <= props["MaximumEventAgeInSeconds"] <= 21600
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["DeadLetterQueue", "Arn"]
    }
    assert props["Qualifier"] == "$LATEST"  # what the rules' unqualified targets invoke


def test_idempotency_table_matches_dedupe() -> None:
    (table,) = resources("AWS::DynamoDB::Table").values()
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert props["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires", "Enabled": True}
    dedupe = (ROOT / "functions" / "tagwarden" / "aws" / "dedupe.py").read_text()
    assert '"pk": {"S"' in dedupe and '"expires": {"N"' in dedupe


# --- environment ----------------------------------------------------------------------------------


def _env_names_read_by_the_code() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "functions" / "tagwarden" / "aws").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                names.update(re.findall(r"^(TAGWARDEN_[A-Z_]+)$", node.value))
    return names


def test_every_variable_the_code_reads_is_set() -> None:
    variables = function()["Environment"]["Variables"]
    read = _env_names_read_by_the_code()
    assert read >= {
        "TAGWARDEN_RULES_PATH",
        "TAGWARDEN_RULES_SSM_PARAMETER",
        "TAGWARDEN_IDEMPOTENCY_TABLE",
        "TAGWARDEN_OWN_ARNS",
        "TAGWARDEN_ACCOUNT_TAGS",
        "TAGWARDEN_NOT_FOUND_WINDOW",
    }
    assert read <= set(variables), read - set(variables)
    assert variables["POWERTOOLS_SERVICE_NAME"] == "tagwarden-aws"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "tagwarden"
    assert variables["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}
    assert variables["TAGWARDEN_RULES_PATH"] == {"Ref": "RulesPath"}
    assert variables["TAGWARDEN_RULES_SSM_PARAMETER"] == {"Ref": "RulesSsmParameter"}
    assert variables["TAGWARDEN_IDEMPOTENCY_TABLE"] == {"Ref": "IdempotencyTable"}
    assert variables["TAGWARDEN_ACCOUNT_TAGS"] == {"Ref": "AccountTags"}
    assert variables["TAGWARDEN_NOT_FOUND_WINDOW"] == {"Ref": "NotFoundWindowSeconds"}


def test_parameters() -> None:
    params = template()["Parameters"]
    assert set(params) == {
        "RulesPath",
        "RulesSsmParameter",
        "NotFoundWindowSeconds",
        "LogLevel",
        "AccountTags",
    }
    assert params["RulesPath"]["Default"] == "tagwarden/examples/rules.yaml"
    assert (
        ROOT / "functions" / params["RulesPath"]["Default"]
    ).is_file()  # CodeUri functions/ is the task root
    assert params["RulesSsmParameter"]["Default"] == ""
    assert params["AccountTags"]["AllowedValues"] == ["none", "organizations"]
    assert "organizations" in (ROOT / "functions" / "tagwarden" / "aws" / "enforcer.py").read_text()


def _sub(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\$\{([^}]+)\}", lambda m: values[m.group(1)], text)


def test_own_arns_match_the_role_and_its_sessions() -> None:
    from tagwarden.guards import OwnIdentity

    values = {
        "EnforcerRole.Arn": "arn:aws:iam::123456789012:role/tw-EnforcerRole-AbC123",
        "EnforcerRole": "tw-EnforcerRole-AbC123",
        "AWS::Partition": "aws",
        "AWS::AccountId": "123456789012",
    }
    raw = function()["Environment"]["Variables"]["TAGWARDEN_OWN_ARNS"]["Fn::Sub"]
    arns = tuple(a.strip() for a in _sub(raw, values).split(","))
    own = OwnIdentity(arns=arns)
    assert own.arns == arns
    assert any(fnmatch.fnmatchcase("arn:aws:iam::123456789012:role/tw-EnforcerRole-AbC123", a) for a in arns)
    session = "arn:aws:sts::123456789012:assumed-role/tw-EnforcerRole-AbC123/1700000000000"
    assert any(fnmatch.fnmatchcase(session, a) for a in arns)
    other = "arn:aws:sts::123456789012:assumed-role/tw-EnforcerRole-AbC1234/x"
    assert not any(fnmatch.fnmatchcase(other, a) for a in arns)


# --- the role -------------------------------------------------------------------------------------


def _statements(node: Any, condition: str | None = None) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Statements of a policy document, with the condition an Fn::If wraps them in."""
    for item in node:
        if isinstance(item, dict) and "Fn::If" in item:
            name, then, otherwise = item["Fn::If"]
            assert otherwise == {"Ref": "AWS::NoValue"}
            yield from _statements([then], name)
        else:
            yield item, condition


def role_statements() -> list[tuple[dict[str, Any], str | None]]:
    doc = expanded()
    (role_id,) = resources("AWS::IAM::Role", doc)
    role = doc["Resources"][role_id]["Properties"]
    assert "ManagedPolicyArns" not in role
    out: list[tuple[dict[str, Any], str | None]] = []
    for policy in role.get("Policies", []):
        out.extend(_statements(policy["PolicyDocument"]["Statement"]))
    for kind in ("AWS::IAM::RolePolicy", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for res in resources(kind, doc).values():
            props = res["Properties"]
            roles = [props["RoleName"]] if "RoleName" in props else props.get("Roles", [])
            assert roles == [{"Ref": role_id}], roles
            out.extend(_statements(props["PolicyDocument"]["Statement"]))
    return out


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


# Mutating verbs the role may use, each for one reason.
ALLOWED_MUTATIONS = {
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "dynamodb:PutItem",  # claims
    "dynamodb:DeleteItem",  # releasing a claim of a failed invocation (its own table only)
    "sqs:SendMessage",  # failed invocations to the dead-letter queue
    "s3:PutBucketTagging",  # S3 tags are written as a set
}
DESTRUCTIVE = re.compile(
    r"^(Delete|Terminate|Remove|Untag|Detach|Disable|Stop|Revoke|Put.*Policy|Update(?!TagsForResource))"
)


def test_role_has_no_wildcard_or_destructive_action() -> None:
    statements = role_statements()
    assert statements
    for statement, _ in statements:
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement and "NotResource" not in statement
        for action in _actions(statement):
            assert "*" not in action, action
            prefix, _, verb = action.partition(":")
            assert prefix and verb, action
            if action not in ALLOWED_MUTATIONS:
                assert not DESTRUCTIVE.match(verb), action
                assert verb.startswith(
                    (
                        "Tag",
                        "AddTags",
                        "CreateTags",
                        "CreateOrUpdateTags",
                        "ChangeTags",
                        "List",
                        "Get",
                        "UpdateTagsForResource",
                        "PUT",
                        "POST",
                    )
                ), action


def test_role_actions_exist() -> None:
    path = Path(cfnlint.__file__).parent / "data" / "AdditionalSpecs" / "Policies.json"
    reference = json.loads(path.read_text())
    for statement, _ in role_statements():
        for action in _actions(statement):
            prefix, _, verb = action.partition(":")
            assert verb.lower() in reference[prefix]["Actions"], action


def _by_action(action: str) -> list[tuple[dict[str, Any], str | None]]:
    return [(s, c) for s, c in role_statements() if action in _actions(s)]


def test_wildcard_resources_only_for_tag_writes_and_account_tags() -> None:
    for statement, condition in role_statements():
        if statement["Resource"] == "*":
            actions = _actions(statement)
            if actions == ["organizations:ListTagsForResource"]:
                assert condition == "ReadsAccountTags"
            else:
                assert statement["Sid"] == "TagWrites"
                assert all(":" in a and ("Tag" in a.partition(":")[2]) for a in actions), actions


def test_scoped_permissions() -> None:
    ((claims, cond),) = _by_action("dynamodb:PutItem")
    assert cond is None
    assert sorted(_actions(claims)) == ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"]
    assert claims["Resource"] == {"Fn::GetAtt": ["IdempotencyTable", "Arn"]}

    ((ssm, cond),) = _by_action("ssm:GetParameter")
    assert cond == "HasRulesSsmParameter"
    assert _actions(ssm) == ["ssm:GetParameter"]
    arns = ssm["Resource"]["Fn::If"][1:]
    assert [a["Fn::Sub"].rsplit(":", 1)[1] for a in arns] == [
        "parameter${RulesSsmParameter}",
        "parameter/${RulesSsmParameter}",
    ]

    ((_org, cond),) = _by_action("organizations:ListTagsForResource")
    assert cond == "ReadsAccountTags"

    ((principals, cond),) = _by_action("iam:ListRoleTags")
    assert cond is None and sorted(_actions(principals)) == ["iam:ListRoleTags", "iam:ListUserTags"]
    assert [r["Fn::Sub"] for r in principals["Resource"]] == [
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*",
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:user/*",
    ]

    ((dlq, cond),) = _by_action("sqs:SendMessage")
    assert cond is None and dlq["Resource"] == {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}

    ((logs, cond),) = _by_action("logs:PutLogEvents")
    assert logs["Resource"] == {"Fn::GetAtt": ["EnforcerLogGroup", "Arn"]}
    assert function()["LoggingConfig"]["LogGroup"] == {"Ref": "EnforcerLogGroup"}


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
    assert outputs["IdempotencyTableName"]["Value"] == {"Ref": "IdempotencyTable"}
    rules = sorted(k for k, r in template()["Resources"].items() if r["Type"] == "AWS::Events::Rule")
    joined = outputs["CreateEventsRuleNames"]["Value"]["Fn::Join"]
    assert joined[0] == ","
    assert sorted(ref["Ref"] for ref in joined[1]) == rules
