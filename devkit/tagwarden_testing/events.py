"""Builders of events in the real CloudTrail / EventBridge / Event Grid shapes.

The one place event shapes are written: the tests (through tests/builders.py) and the local demo
build every event here. Field names and
nesting follow real records (see ../shared/corpus): userIdentity with sessionContext.sessionIssuer
for assumed roles, responseElements as the service returns them, Event Grid `data` with claims and
authorization.evidence.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
SUBSCRIPTION = "00000000-1111-2222-3333-444444444444"
TENANT = "99999999-8888-7777-6666-555555555555"
USER_OBJECT_ID = "bbbbbbbb-0000-0000-0000-000000000002"


def assumed_role(
    role: str = "agent-fleet-support", session: str = "agent-42", account: str = ACCOUNT
) -> dict[str, Any]:
    role_id = "AROA" + uuid.uuid5(uuid.NAMESPACE_DNS, role).hex[:17].upper()
    return {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
        "accountId": account,
        "accessKeyId": "ASIAEXAMPLEEXAMPLE00",
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": role_id,
                "arn": f"arn:aws:iam::{account}:role/{role}",
                "accountId": account,
                "userName": role,
            },
            "attributes": {"creationDate": "2026-11-29T09:59:00Z", "mfaAuthenticated": "false"},
        },
    }


def iam_user(name: str = "alice", account: str = ACCOUNT) -> dict[str, Any]:
    return {
        "type": "IAMUser",
        "principalId": "AIDAEXAMPLEEXAMPLE000",
        "arn": f"arn:aws:iam::{account}:user/{name}",
        "accountId": account,
        "accessKeyId": "AKIAEXAMPLEEXAMPLE00",
        "userName": name,
    }


def cloudtrail(
    event_name: str,
    event_source: str,
    request: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
    identity: dict[str, Any] | None = None,
    region: str = REGION,
    account: str = ACCOUNT,
    error_code: str | None = None,
    event_id: str | None = None,
    event_time: str = "2026-11-29T10:00:00Z",
) -> dict[str, Any]:
    """A bare CloudTrail record (what EventBridge delivers under `detail`); `event_time` is
    CloudTrail's clock (`at(epoch)` for one of the test's)."""
    record: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": identity if identity is not None else assumed_role(account=account),
        "eventTime": event_time,
        "eventSource": event_source,
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": "203.0.113.10",
        "userAgent": "Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 os/linux",
        "requestParameters": request,
        "responseElements": response,
        "requestID": str(uuid.uuid4()),
        "eventID": event_id or str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }
    if error_code:
        record["errorCode"] = error_code
        record["errorMessage"] = f"{error_code}: simulated"
        record["responseElements"] = None
    return record


def service_event(
    event_name: str,
    event_source: str,
    details: dict[str, Any] | str,
    region: str = REGION,
    account: str = ACCOUNT,
) -> dict[str, Any]:
    """A CloudTrail service event (eventType AwsServiceEvent): no request or response, what the
    service did in `serviceEventDetails` (an object, or JSON text as some log stores keep it)."""
    record = cloudtrail(event_name, event_source, None, None, region=region, account=account)
    record["userIdentity"] = {"accountId": account, "invokedBy": "AWS Internal"}
    record["eventType"] = "AwsServiceEvent"
    record["serviceEventDetails"] = details
    del record["requestParameters"], record["responseElements"]
    return record


def eventbridge(record: dict[str, Any]) -> dict[str, Any]:
    """Wrap a record as EventBridge delivers it ("AWS API Call via CloudTrail", or "AWS Service Event
    via CloudTrail" for a service event)."""
    service = record.get("eventType") == "AwsServiceEvent"
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "AWS Service Event via CloudTrail" if service else "AWS API Call via CloudTrail",
        "source": "aws." + record["eventSource"].split(".")[0],
        "account": record["recipientAccountId"],
        "time": record["eventTime"],
        "region": record["awsRegion"],
        "resources": [],
        "detail": copy.deepcopy(record),
    }


def create_tags(
    resource_ids: list[str], tags: dict[str, str], identity: dict[str, Any] | None = None, **kw: Any
) -> dict[str, Any]:
    """EC2 CreateTags: someone (or tagwarden itself) wrote tags on existing resources."""
    request = {
        "resourcesSet": {"items": [{"resourceId": r} for r in resource_ids]},
        "tagSet": {"items": [{"key": k, "value": v} for k, v in tags.items()]},
    }
    return cloudtrail("CreateTags", "ec2.amazonaws.com", request, {"_return": True}, identity, **kw)


def ec2_tag_spec(resource_type: str, tags: dict[str, str]) -> dict[str, Any]:
    return {"resourceType": resource_type, "tags": [{"key": k, "value": v} for k, v in tags.items()]}


def run_instances(
    count: int = 1,
    tags: dict[str, str] | None = None,
    identity: dict[str, Any] | None = None,
    instances: list[tuple[str, list[str]]] | None = None,
    **kw: Any,
) -> dict[str, Any]:
    """RunInstances as CloudTrail logs it; `instances` gives real (instance id, ENI ids) pairs."""
    if instances is None:
        instances = [(f"i-{i:017x}", [f"eni-{i:017x}"]) for i in range(1, count + 1)]
    request: dict[str, Any] = {
        "instancesSet": {
            "items": [
                {"imageId": "ami-0abcdef1234567890", "minCount": len(instances), "maxCount": len(instances)}
            ]
        },
        "instanceType": "t3.micro",
        "blockDeviceMapping": {},
        "monitoring": {"enabled": False},
        "disableApiTermination": False,
    }
    if tags:
        request["tagSpecificationSet"] = {"items": [ec2_tag_spec("instance", tags)]}
    items = [
        {
            "instanceId": instance_id,
            "imageId": "ami-0abcdef1234567890",
            "instanceState": {"code": 0, "name": "pending"},
            "instanceType": "t3.micro",
            "networkInterfaceSet": {
                "items": [{"networkInterfaceId": eni, "subnetId": "subnet-0123456789abcdef0"} for eni in enis]
            },
        }
        for instance_id, enis in instances
    ]
    response = {"reservationId": "r-0123456789abcdef0", "ownerId": ACCOUNT, "instancesSet": {"items": items}}
    return cloudtrail("RunInstances", "ec2.amazonaws.com", request, response, identity, **kw)


def lower_first(data: Any) -> Any:
    """boto3's request/response shapes as CloudTrail logs them for JSON-protocol services: the
    same members with a lower-case first letter (`TableDescription` -> `tableDescription`)."""
    if isinstance(data, dict):
        return {(k[:1].lower() + k[1:] if isinstance(k, str) else k): lower_first(v) for k, v in data.items()}
    if isinstance(data, list):
        return [lower_first(v) for v in data]
    if hasattr(data, "isoformat"):
        return data.isoformat()
    return data


def create_bucket(
    name: str = "agent-scratch-0001", identity: dict[str, Any] | None = None, **kw: Any
) -> dict[str, Any]:
    request = {"bucketName": name, "Host": f"{name}.s3.amazonaws.com"}
    return cloudtrail("CreateBucket", "s3.amazonaws.com", request, None, identity, **kw)


def create_function(
    name: str = "format-data",
    tags: dict[str, str] | None = None,
    identity: dict[str, Any] | None = None,
    **kw: Any,
) -> dict[str, Any]:
    region = kw.get("region", REGION)
    arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"
    request: dict[str, Any] = {"functionName": name, "runtime": "python3.13", "handler": "app.handler"}
    if tags:
        request["tags"] = tags
    response = {"functionName": name, "functionArn": arn, "runtime": "python3.13", "state": "Pending"}
    return cloudtrail("CreateFunction20150331", "lambda.amazonaws.com", request, response, identity, **kw)


def create_cluster(
    name: str = "agent-cluster",
    token: str | None = None,
    identity: dict[str, Any] | None = None,
    role: str = f"arn:aws:iam::{ACCOUNT}:role/eks-cluster",
    **kw: Any,
) -> dict[str, Any]:
    """EKS CreateCluster: a name-keyed create whose SDKs fill in `clientRequestToken` (a new token
    per call, the same on the call's retries); `token=None` logs a request without one."""
    region = kw.get("region", REGION)
    request: dict[str, Any] = {
        "name": name,
        "roleArn": role,
        "resourcesVpcConfig": {"subnetIds": ["subnet-0123456789abcdef0"]},
    }
    if token is not None:
        request["clientRequestToken"] = token
    cluster = {
        "name": name,
        "arn": f"arn:aws:eks:{region}:{ACCOUNT}:cluster/{name}",
        "roleArn": role,
        "status": "CREATING",
    }
    return cloudtrail("CreateCluster", "eks.amazonaws.com", request, {"cluster": cluster}, identity, **kw)


def resent(record: dict[str, Any], event_time: str) -> dict[str, Any]:
    """The same request sent again by the SDK (a timeout, a throttle): CloudTrail logs a new event
    (new eventID and requestID, stamped `event_time`) with the same parameters and token."""
    again = copy.deepcopy(record)
    again.update(eventID=str(uuid.uuid4()), requestID=str(uuid.uuid4()), eventTime=event_time)
    return again


# --- Azure ------------------------------------------------------------------------------------


def resource_id(rg: str, provider_type: str, name: str, subscription: str = SUBSCRIPTION) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{rg}/providers/{provider_type}/{name}"


def app_claims(app_id: str, object_id: str = "aaaaaaaa-0000-0000-0000-000000000001") -> dict[str, Any]:
    return {
        "aud": "https://management.azure.com/",
        "iss": f"https://sts.windows.net/{TENANT}/",
        "appid": app_id,
        "appidacr": "2",
        "idtyp": "app",
        "http://schemas.microsoft.com/identity/claims/objectidentifier": object_id,
        "http://schemas.microsoft.com/identity/claims/tenantid": TENANT,
        "ver": "1.0",
    }


def user_claims(upn: str = "alice@contoso.com", name: str = "Alice") -> dict[str, Any]:
    return {
        "aud": "https://management.azure.com/",
        "iss": f"https://sts.windows.net/{TENANT}/",
        "name": name,
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": upn,
        "http://schemas.microsoft.com/identity/claims/objectidentifier": USER_OBJECT_ID,
        "appid": "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
        "ver": "1.0",
    }


def eventgrid_write(
    rid: str,
    claims: dict[str, Any] | None = None,
    operation: str | None = None,
    event_type: str = "Microsoft.Resources.ResourceWriteSuccess",
    status: str = "Succeeded",
    principal_type: str = "ServicePrincipal",
    event_time: str = "2026-11-29T10:00:00.1234567Z",
) -> dict[str, Any]:
    """An Event Grid schema resource event, as the subscription's system topic delivers it;
    `event_time` is ARM's clock (`at(epoch, fraction=True)` for one of the test's)."""
    subscription = rid.split("/")[2]
    if operation is None:
        provider_type = rid.rsplit("/providers/", maxsplit=1)[-1].split("/")
        verb = "delete" if event_type == DELETE_SUCCESS else "write"
        operation = "/".join([provider_type[0], *provider_type[1::2]]) + "/" + verb
    claims = claims if claims is not None else app_claims("11111111-2222-3333-4444-555555555555")
    oid = claims.get("http://schemas.microsoft.com/identity/claims/objectidentifier", "")
    return {
        "subject": rid,
        "eventType": event_type,
        "eventTime": event_time,
        "id": str(uuid.uuid4()),
        "data": {
            "authorization": {
                "scope": rid,
                "action": operation,
                "evidence": {
                    "role": "Contributor",
                    "principalId": oid.replace("-", ""),
                    "principalType": principal_type,
                },
            },
            "claims": claims,
            "correlationId": str(uuid.uuid4()),
            "resourceProvider": operation.split("/")[0],
            "resourceUri": rid,
            "operationName": operation,
            "status": status,
            "subscriptionId": subscription,
            "tenantId": TENANT,
        },
        "dataVersion": "2",
        "metadataVersion": "1",
        "topic": f"/subscriptions/{subscription}",
    }


DELETE_SUCCESS = "Microsoft.Resources.ResourceDeleteSuccess"


def eventgrid_delete(rid: str, claims: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    """A successful delete (ResourceDeleteSuccess, operation `<type>/delete`) of `rid`."""
    return eventgrid_write(rid, claims, event_type=DELETE_SUCCESS, **kw)


def at(epoch: float, fraction: bool = False) -> str:
    """An event time the way the cloud stamps it: CloudTrail to the second, ARM to 100 ns."""
    import time

    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch))
    return text + (f".{int(epoch % 1 * 10**7):07d}Z" if fraction else "Z")


def as_cloudevent(event: dict[str, Any]) -> dict[str, Any]:
    """The same event in the CloudEvents 1.0 schema."""
    return {
        "specversion": "1.0",
        "type": event["eventType"],
        "source": event["topic"],
        "subject": event["subject"],
        "id": event["id"],
        "time": event["eventTime"],
        "data": copy.deepcopy(event["data"]),
    }
