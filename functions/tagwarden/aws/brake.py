"""The AWS brake: an inline deny policy on the agent's IAM role, so further creates fail at the API.

Why an inline policy and not a permissions boundary: a deny in an inline policy is added beside
the role's own policies and removed exactly (DeleteRolePolicy on our one name), whatever else the
role carries; a permissions boundary would replace the role's boundary (or add one where there was
none, capping every permission to what the boundary allows) and its undo would have to restore
someone else's document. IAM evaluates a role's policies on every request, so the deny also
stops sessions that are already running, within seconds (IAM is eventually consistent).

The policy denies the IAM actions of the catalogue's create events (tagwarden.normalize.aws
catalogue): what tagwarden can see being created, an agent can no longer create. It is about 6.6 kB
of the role's 10,240-character inline-policy quota; a role whose own inline policies leave no room
is reported (brake FAILED in the alert) and left alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from tagwarden.aws.clients import Clients
from tagwarden.runaway.ports import BrakeRecord, BrakeResult

POLICY_NAME = "tagwarden-brake"
SID = "TagwardenRunawayBrake"
# CloudTrail event source -> IAM service prefix, where they differ (None: no create action to deny).
IAM_PREFIX: dict[str, str | None] = {
    "monitoring": "cloudwatch",
    "amazonmq": "mq",
    "servicecatalog-appregistry": "servicecatalog",
    "pinpoint": "mobiletargeting",
    "apigateway": None,  # API Gateway authorises by HTTP verb (apigateway:POST), not by operation
}
_API_VERSION = re.compile(r"\d{8}$")  # CreateFunction20150331 -> CreateFunction
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/(?:.*/)?(?P<name>[\w+=,.@-]+)$")


@cache
def create_actions() -> tuple[str, ...]:
    from tagwarden.aws.catalogue import ENTRIES

    out: set[str] = set()
    for entry in ENTRIES:
        if entry.service_event:
            continue  # reported by the service (CreateAccountResult): no API call to deny
        service = entry.service
        prefix = IAM_PREFIX.get(service, service)
        if prefix is not None:
            out.add(f"{prefix}:{_API_VERSION.sub('', entry.event)}")
    return tuple(sorted(out))


def brake_policy(actions: Sequence[str] | None = None) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": SID, "Effect": "Deny", "Action": list(actions or create_actions()), "Resource": "*"}
        ],
    }


def role_name(principal: str) -> str | None:
    m = _ROLE_ARN.match(principal)
    return m.group("name") if m else None


class IamBrake:
    def __init__(self, clients: Clients, policy_name: str = POLICY_NAME) -> None:
        self.clients = clients
        self.policy_name = policy_name

    def apply(self, principal: str, scope: str, limit: str) -> BrakeResult:
        from botocore.exceptions import ClientError

        name = role_name(principal)
        if name is None:
            return BrakeResult(False, detail=f"{principal} is not an IAM role")
        iam = self.clients.get("iam")
        try:
            previous = self._current(iam, name)
            iam.put_role_policy(
                RoleName=name,
                PolicyName=self.policy_name,
                PolicyDocument=json.dumps(brake_policy(), separators=(",", ":")),
            )
        except ClientError as exc:
            return BrakeResult(False, detail=f"{type(exc).__name__}: {exc}")
        return BrakeResult(
            True,
            undo=json.dumps({"role": name, "policy": self.policy_name, "previous": previous}),
            detail=f"inline deny policy {self.policy_name} on role {name} "
            f"({len(create_actions())} create actions)",
        )

    def release(self, record: BrakeRecord) -> BrakeResult:
        from botocore.exceptions import ClientError

        undo = json.loads(record.undo) if record.undo else {}
        name = undo.get("role") or role_name(record.principal)
        if name is None:
            return BrakeResult(False, detail=f"{record.principal} is not an IAM role")
        iam = self.clients.get("iam")
        try:
            if undo.get("previous"):  # a policy of that name was there before: put it back exactly
                iam.put_role_policy(
                    RoleName=name, PolicyName=self.policy_name, PolicyDocument=json.dumps(undo["previous"])
                )
                return BrakeResult(True, detail=f"restored the earlier {self.policy_name} policy on {name}")
            iam.delete_role_policy(RoleName=name, PolicyName=self.policy_name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NoSuchEntity":
                return BrakeResult(False, detail=f"{type(exc).__name__}: {exc}")
        return BrakeResult(True, detail=f"removed {self.policy_name} from role {name}")

    def _current(self, iam: Any, name: str) -> Any:
        """The policy of our name already on the role (not one of our brakes), for the undo."""
        from urllib.parse import unquote

        try:
            doc = iam.get_role_policy(RoleName=name, PolicyName=self.policy_name)["PolicyDocument"]
        except iam.exceptions.NoSuchEntityException:
            return None
        if isinstance(doc, str):
            doc = json.loads(unquote(doc))
        sids = {s.get("Sid") for s in doc.get("Statement", []) if isinstance(s, dict)}
        return None if SID in sids else doc
