"""The quarantine, release and delete functions the table in `registry` names, one group per type.

Conventions every function keeps:
- reads are made directly; every state change goes through `ctx.change` (skipped in a dry run);
- release undoes only what the quarantine left in place: when the resource was changed since
  (restarted, rescaled by its owner), it is left as it is and the detail says so;
- transitional states settle through `ctx.wait_until` (bounded by `wait_seconds`) when they last
  seconds (EC2 pending/stopping, SageMaker Stopping, RDS stopping); states that last minutes
  (RDS creating, notebook Pending) are FAILED with a `NotReady:` detail, for the caller to retry;
- a missing resource surfaces as the service's "not found" ClientError, which the engine turns into
  VANISHED; a read that shows the resource is going away returns VANISHED directly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from tagwarden.aws.catalogue.tagger_spec import arn_parts, target_id
from tagwarden.aws.catalogue.taggers import TAGGERS
from tagwarden.aws.quarantine.base import (
    BadUndo,
    Ctx,
    Refused,
    Step,
    arn_or_native,
    name,
    native,
    need,
    partition,
    undo_token,
)
from tagwarden.lifecycle.ports import Status

DONE, VANISHED, FAILED = Status.DONE, Status.VANISHED, Status.FAILED
MARKED_ONLY, UNSUPPORTED = Status.MARKED_ONLY, Status.UNSUPPORTED

STOP_REASON = "tagwarden: quarantined, no owner could be attributed"


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code") or "")


def _not_ready(ctx: Ctx, what: str) -> Step:
    ctx.note(f"NotReady: {what}; retry once it settles")
    return Step(FAILED)


def _count(value: str) -> int:
    if not value.isdigit():
        raise BadUndo(f"{value!r} is not a count")
    return int(value)


# --- EC2 instances -------------------------------------------------------------------------------


def _instance(ctx: Ctx) -> dict[str, Any] | None:
    response = ctx.client.describe_instances(InstanceIds=[native(ctx.resource)])
    for reservation in response.get("Reservations", []):
        for instance in reservation.get("Instances", []):
            return dict(instance)
    return None


def _instance_state(ctx: Ctx) -> str | None:
    instance = _instance(ctx)
    return str(instance["State"]["Name"]) if instance else None


def _settle_instance(ctx: Ctx, state: str | None, transitional: str, settled: str) -> str | None:
    """Wait (bounded) for an instance to leave `transitional`; a dry run assumes `settled`."""
    if state != transitional:
        return state
    iid = native(ctx.resource)
    if not ctx.wait_until(f"instance {iid} to leave {transitional}", lambda: _instance_state(ctx) != state):
        return state
    return settled if ctx.dry_run else _instance_state(ctx)


def ec2_instance_quarantine(ctx: Ctx) -> Step:
    iid = native(ctx.resource)
    state = _settle_instance(ctx, _instance_state(ctx), "pending", "running")
    if state in (None, "shutting-down", "terminated"):
        ctx.note(f"instance {iid} is {state or 'gone'}")
        return Step(VANISHED)
    if state in ("stopped", "stopping"):
        ctx.note(f"instance {iid} already {state}: nothing to stop")
        return Step(DONE, undo_token(state="stopped"))
    if state == "running":
        ctx.change(f"stop instance {iid}", "stop_instances", InstanceIds=[iid])
        return Step(DONE, undo_token(state="running"))
    return _not_ready(ctx, f"instance {iid} is {state}")


def ec2_instance_release(ctx: Ctx, undo: Mapping[str, str]) -> Step:
    iid = native(ctx.resource)
    if need(undo, "state", ("running", "stopped")) == "stopped":
        ctx.note(f"instance {iid} was stopped before the quarantine: left as it is")
        return Step(DONE)
    state = _settle_instance(ctx, _instance_state(ctx), "stopping", "stopped")
    if state in (None, "shutting-down", "terminated"):
        ctx.note(f"instance {iid} is {state or 'gone'}")
        return Step(VANISHED)
    if state in ("running", "pending"):
        ctx.note(f"instance {iid} already {state}")
        return Step(DONE)
    if state == "stopped":
        ctx.change(f"start instance {iid}", "start_instances", InstanceIds=[iid])
        return Step(DONE)
    return _not_ready(ctx, f"instance {iid} is {state}")


def _volume_states(ctx: Ctx, ids: list[str]) -> dict[str, str]:
    """State of each volume that still exists (a filter, so missing ids do not raise)."""
    response = ctx.client.describe_volumes(Filters=[{"Name": "volume-id", "Values": ids}])
    return {str(v["VolumeId"]): str(v["State"]) for v in response.get("Volumes", [])}


def ec2_instance_delete(ctx: Ctx) -> Step:
    """Terminate; then delete the EBS volumes that would have outlived it (DeleteOnTermination off).

    Those volumes detach only as the instance shuts down: polled every `poll_seconds` for at most
    `wait_seconds` (defaults 5 s / 120 s). Still attached then: FAILED, naming them (the instance is
    terminated; the volumes are left for a retry or a person).
    """
    iid = native(ctx.resource)
    instance = _instance(ctx)
    state = str(instance["State"]["Name"]) if instance else None
    if instance is None or state == "terminated":
        ctx.note(f"instance {iid} is {state or 'gone'}")
        return Step(VANISHED)
    volumes = [
        str(m["Ebs"]["VolumeId"])
        for m in instance.get("BlockDeviceMappings", [])
        if "Ebs" in m and not m["Ebs"].get("DeleteOnTermination", False)
    ]
    if state != "shutting-down":
        ctx.change(f"terminate instance {iid}", "terminate_instances", InstanceIds=[iid])
    if not volumes:
        return Step(DONE)

    def detached() -> bool:
        return all(s != "in-use" for s in _volume_states(ctx, volumes).values())

    if not ctx.wait_until(f"volumes {', '.join(volumes)} to detach", detached):
        attached = [v for v, s in _volume_states(ctx, volumes).items() if s == "in-use"]
        ctx.note(f"volumes {', '.join(attached)} still attached: not deleted")
        return Step(FAILED)
    states = dict.fromkeys(volumes, "available") if ctx.dry_run else _volume_states(ctx, volumes)
    for vid in volumes:
        if states.get(vid) != "available":
            ctx.note(f"volume {vid} is {states.get(vid, 'gone')}: skipped")
            continue
        try:
            ctx.change(f"delete volume {vid}", "delete_volume", VolumeId=vid)
        except ClientError as exc:
            if not _code(exc).endswith(".NotFound"):
                raise
            ctx.note(f"volume {vid} is gone")
    return Step(DONE)


# --- EBS volumes (marked only) -------------------------------------------------------------------


def ec2_volume_delete(ctx: Ctx) -> Step:
    vid = native(ctx.resource)
    [volume] = ctx.client.describe_volumes(VolumeIds=[vid])["Volumes"]
    state = str(volume["State"])
    if state in ("deleting", "deleted"):
        ctx.note(f"volume {vid} is {state}")
        return Step(VANISHED)
    if state == "in-use":
        owners = ", ".join(str(a["InstanceId"]) for a in volume.get("Attachments", []))
        ctx.note(f"volume {vid} is attached to {owners}: left (it goes with its instance, or a person)")
        return Step(UNSUPPORTED)
    if state != "available":
        return _not_ready(ctx, f"volume {vid} is {state}")
    ctx.change(f"delete volume {vid}", "delete_volume", VolumeId=vid)
    return Step(DONE)


# --- Lambda functions ----------------------------------------------------------------------------


def lambda_quarantine(ctx: Ctx) -> Step:
    fn = arn_or_native(ctx.resource)
    current = ctx.client.get_function_concurrency(FunctionName=fn).get("ReservedConcurrentExecutions")
    undo = undo_token(concurrency="none" if current is None else int(current))
    if current == 0:
        ctx.note(f"function {fn} already has reserved concurrency 0")
        return Step(DONE, undo)
    ctx.change(
        f"set reserved concurrency of {fn} to 0 (was {current if current is not None else 'unreserved'})",
        "put_function_concurrency",
        FunctionName=fn,
        ReservedConcurrentExecutions=0,
    )
    return Step(DONE, undo)


def lambda_release(ctx: Ctx, undo: Mapping[str, str]) -> Step:
    fn = arn_or_native(ctx.resource)
    want = need(undo, "concurrency")
    previous = None if want == "none" else _count(want)
    current = ctx.client.get_function_concurrency(FunctionName=fn).get("ReservedConcurrentExecutions")
    if current != 0:
        ctx.note(f"reserved concurrency of {fn} changed since the quarantine (now {current}): left")
        return Step(DONE)
    if previous is None:
        ctx.change(f"remove reserved concurrency of {fn}", "delete_function_concurrency", FunctionName=fn)
    elif previous != 0:
        ctx.change(
            f"restore reserved concurrency of {fn} to {previous}",
            "put_function_concurrency",
            FunctionName=fn,
            ReservedConcurrentExecutions=previous,
        )
    else:
        ctx.note(f"function {fn} had reserved concurrency 0 before the quarantine: left")
    return Step(DONE)


def lambda_delete(ctx: Ctx) -> Step:
    fn = arn_or_native(ctx.resource)
    ctx.client.get_function_concurrency(FunctionName=fn)  # a read that says "not found" in a dry run too
    ctx.change(f"delete function {fn}", "delete_function", FunctionName=fn)
    return Step(DONE)


# --- S3 buckets ----------------------------------------------------------------------------------

SID = "TagwardenQuarantine"
# What the deny statement leaves to everyone: reading and fixing the tags (the way out of the
# quarantine), and reading the policy (to see why).
SPARED_ACTIONS = ("s3:GetBucketTagging", "s3:PutBucketTagging", "s3:GetBucketPolicy")


def quarantine_statement(bucket: str, part: str, spared: tuple[str, ...]) -> dict[str, Any]:
    """Deny everything but the tag actions to everyone but the enforcer and break-glass roles."""
    return {
        "Sid": SID,
        "Effect": "Deny",
        "Principal": "*",
        "NotAction": list(SPARED_ACTIONS),
        "Resource": [f"arn:{part}:s3:::{bucket}", f"arn:{part}:s3:::{bucket}/*"],
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": list(spared)}},
    }


def _bucket_policy(ctx: Ctx, bucket: str) -> dict[str, Any] | None:
    try:
        raw = ctx.client.get_bucket_policy(Bucket=bucket)["Policy"]
    except ClientError as exc:
        if _code(exc) == "NoSuchBucketPolicy":
            return None
        raise
    doc = json.loads(raw)
    if not isinstance(doc, dict):
        raise Refused(f"bucket {bucket} has a policy that is not a JSON object")
    return doc


def _statements(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    statements = doc.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def s3_quarantine(ctx: Ctx) -> Step:
    bucket = native(ctx.resource)
    if not ctx.enforcer_principals:
        ctx.note(
            "NoEnforcerPrincipal: no enforcer principal configured; a deny statement would lock the "
            "enforcer out of release and delete"
        )
        return Step(FAILED)
    spared = tuple(dict.fromkeys((*ctx.enforcer_principals, *ctx.break_glass)))
    doc = _bucket_policy(ctx, bucket)
    existed = doc is not None
    if doc is None:
        doc = {"Version": "2012-10-17", "Statement": []}
    single = isinstance(doc.get("Statement"), dict)
    statements = _statements(doc)
    owners = [s for s in statements if s.get("Sid") != SID]
    ours = quarantine_statement(bucket, partition(ctx.resource), spared)
    if owners:
        undo = undo_token(policy="added", shape="object") if single else undo_token(policy="added")
    else:
        undo = undo_token(policy="created")
    if ours in statements:
        ctx.note(f"bucket {bucket} already carries the {SID} statement")
        return Step(DONE, undo)
    doc["Statement"] = [*owners, ours]
    verb = "add the" if existed else "create a bucket policy with the"
    ctx.change(
        f"{verb} {SID} deny statement on bucket {bucket} (sparing {', '.join(spared)})",
        "put_bucket_policy",
        Bucket=bucket,
        Policy=json.dumps(doc),
    )
    return Step(DONE, undo)


def s3_release(ctx: Ctx, undo: Mapping[str, str]) -> Step:
    """Remove exactly the quarantine statement; delete the policy when nothing else is left."""
    bucket = native(ctx.resource)
    need(undo, "policy", ("added", "created"))
    shape = undo.get("shape")
    if shape not in (None, "object"):
        raise BadUndo(f"undo shape={shape} is not understood")
    doc = _bucket_policy(ctx, bucket)
    statements = _statements(doc) if doc is not None else []
    rest = [s for s in statements if s.get("Sid") != SID]
    if doc is None or len(rest) == len(statements):
        ctx.note(f"bucket {bucket} has no {SID} statement: nothing to remove")
        return Step(DONE)
    if not rest:
        ctx.change(
            f"delete the bucket policy of {bucket} (only {SID} was in it)",
            "delete_bucket_policy",
            Bucket=bucket,
        )
        return Step(DONE)
    doc["Statement"] = rest[0] if shape == "object" and len(rest) == 1 else rest
    ctx.change(
        f"remove the {SID} statement from the policy of bucket {bucket}",
        "put_bucket_policy",
        Bucket=bucket,
        Policy=json.dumps(doc),
    )
    return Step(DONE)


def s3_delete(ctx: Ctx) -> Step:
    """Only an empty bucket (no object, version or delete marker) is deleted."""
    bucket = native(ctx.resource)
    listing = ctx.client.list_object_versions(Bucket=bucket, MaxKeys=1)
    if listing.get("Versions") or listing.get("DeleteMarkers"):
        ctx.note(f"bucket {bucket} not empty: left for a person")
        return Step(UNSUPPORTED)
    try:
        ctx.change(f"delete empty bucket {bucket}", "delete_bucket", Bucket=bucket)
    except ClientError as exc:
        if _code(exc) != "BucketNotEmpty":
            raise
        ctx.note(f"bucket {bucket} not empty: left for a person")
        return Step(UNSUPPORTED)
    return Step(DONE)


# --- SageMaker -----------------------------------------------------------------------------------


def _notebook_status(ctx: Ctx) -> str:
    response = ctx.client.describe_notebook_instance(NotebookInstanceName=name(ctx.resource))
    return str(response["NotebookInstanceStatus"])


def _settle_notebook(ctx: Ctx, status: str) -> str:
    if status != "Stopping":
        return status
    nb = name(ctx.resource)
    if not ctx.wait_until(f"notebook {nb} to stop", lambda: _notebook_status(ctx) != "Stopping"):
        return status
    return "Stopped" if ctx.dry_run else _notebook_status(ctx)


def notebook_quarantine(ctx: Ctx) -> Step:
    nb = name(ctx.resource)
    status = _notebook_status(ctx)
    if status == "Deleting":
        ctx.note(f"notebook {nb} is being deleted")
        return Step(VANISHED)
    if status in ("Stopped", "Stopping", "Failed"):
        ctx.note(f"notebook {nb} is {status}: nothing to stop")
        return Step(DONE, undo_token(state="Failed" if status == "Failed" else "Stopped"))
    if status == "InService":
        ctx.change(f"stop notebook {nb}", "stop_notebook_instance", NotebookInstanceName=nb)
        return Step(DONE, undo_token(state="InService"))
    return _not_ready(ctx, f"notebook {nb} is {status}")


def notebook_release(ctx: Ctx, undo: Mapping[str, str]) -> Step:
    nb = name(ctx.resource)
    if need(undo, "state", ("InService", "Stopped", "Failed")) != "InService":
        ctx.note(f"notebook {nb} was not in service before the quarantine: left as it is")
        return Step(DONE)
    status = _settle_notebook(ctx, _notebook_status(ctx))
    if status == "Deleting":
        return Step(VANISHED)
    if status in ("InService", "Pending"):
        ctx.note(f"notebook {nb} already {status}")
        return Step(DONE)
    if status == "Stopped":
        ctx.change(f"start notebook {nb}", "start_notebook_instance", NotebookInstanceName=nb)
        return Step(DONE)
    return _not_ready(ctx, f"notebook {nb} is {status}")


def notebook_delete(ctx: Ctx) -> Step:
    """Stop it when in service (bounded wait for Stopped), then delete it."""
    nb = name(ctx.resource)
    status = _notebook_status(ctx)
    if status == "Deleting":
        return Step(VANISHED)
    if status == "InService":
        ctx.change(f"stop notebook {nb}", "stop_notebook_instance", NotebookInstanceName=nb)
        status = "Stopped" if ctx.dry_run else _notebook_status(ctx)
    status = _settle_notebook(ctx, status)
    if status not in ("Stopped", "Failed"):
        return _not_ready(ctx, f"notebook {nb} is {status}")
    ctx.change(f"delete notebook {nb}", "delete_notebook_instance", NotebookInstanceName=nb)
    return Step(DONE)


def endpoint_delete(ctx: Ctx) -> Step:
    ep = name(ctx.resource)
    ctx.change(
        f"delete endpoint {ep} (its endpoint config and model are left)", "delete_endpoint", EndpointName=ep
    )
    return Step(DONE)


# --- ECS -----------------------------------------------------------------------------------------


def _ecs_target(ctx: Ctx) -> dict[str, str]:
    """{cluster, id}: the cluster from a new-format ARN (`service/<cluster>/<name>`), else the default."""
    ident = arn_or_native(ctx.resource)
    parts = arn_parts(ident)
    path = parts[5].split("/") if parts else []
    return {"cluster": path[1], "id": ident} if len(path) == 3 else {"id": ident}


def _service(ctx: Ctx) -> dict[str, Any] | None:
    target = _ecs_target(ctx)
    cluster = {"cluster": target["cluster"]} if "cluster" in target else {}
    response = ctx.client.describe_services(**cluster, services=[target["id"]])
    for service in response.get("services", []):
        if service.get("status") == "ACTIVE":
            return dict(service)
    return None


def _service_params(ctx: Ctx) -> dict[str, str]:
    target = _ecs_target(ctx)
    return {**({"cluster": target["cluster"]} if "cluster" in target else {}), "service": target["id"]}


def ecs_service_quarantine(ctx: Ctx) -> Step:
    service = _service(ctx)
    if service is None:
        return Step(VANISHED)
    svc, desired = str(service["serviceName"]), int(service["desiredCount"])
    undo = undo_token(desired=desired)
    if desired == 0:
        ctx.note(f"service {svc} already has desired count 0")
        return Step(DONE, undo)
    ctx.change(
        f"scale service {svc} from {desired} to 0", "update_service", **_service_params(ctx), desiredCount=0
    )
    return Step(DONE, undo)


def ecs_service_release(ctx: Ctx, undo: Mapping[str, str]) -> Step:
    previous = _count(need(undo, "desired"))
    service = _service(ctx)
    if service is None:
        return Step(VANISHED)
    svc, desired = str(service["serviceName"]), int(service["desiredCount"])
    if desired != 0:
        ctx.note(f"service {svc} was rescaled since the quarantine (desired {desired}): left")
    elif previous:
        ctx.change(
            f"scale service {svc} back to {previous}",
            "update_service",
            **_service_params(ctx),
            desiredCount=previous,
        )
    else:
        ctx.note(f"service {svc} had desired count 0 before the quarantine: left")
    return Step(DONE)


def ecs_service_delete(ctx: Ctx) -> Step:
    service = _service(ctx)
    if service is None:
        return Step(VANISHED)
    svc = str(service["serviceName"])
    if int(service["desiredCount"]):
        ctx.change(f"scale service {svc} to 0", "update_service", **_service_params(ctx), desiredCount=0)
    ctx.change(f"delete service {svc}", "delete_service", **_service_params(ctx))
    return Step(DONE)


def ecs_task_stop(ctx: Ctx) -> Step:
    """Stop a task (quarantine and delete alike: a stopped task cannot be restarted, undo is empty)."""
    target = _ecs_target(ctx)
    cluster = {"cluster": target["cluster"]} if "cluster" in target else {}
    tasks = ctx.client.describe_tasks(**cluster, tasks=[target["id"]]).get("tasks", [])
    if not tasks:
        return Step(VANISHED)
    if tasks[0].get("lastStatus") == "STOPPED":
        ctx.note("task already stopped")
        return Step(DONE)
    ctx.change(
        "stop task (not reversible: release does nothing)",
        "stop_task",
        **cluster,
        task=target["id"],
        reason=STOP_REASON,
    )
    return Step(DONE)


# --- RDS -----------------------------------------------------------------------------------------


def _db(ctx: Ctx) -> dict[str, Any]:
    response = ctx.client.describe_db_instances(DBInstanceIdentifier=native(ctx.resource))
    return dict(response["DBInstances"][0])


def final_snapshot_id(db_id: str) -> str:
    return f"tagwarden-final-{db_id}"


def rds_instance_quarantine(ctx: Ctx) -> Step:
    db = _db(ctx)
    dbid, status = str(db["DBInstanceIdentifier"]), str(db["DBInstanceStatus"])
    if db.get("DBClusterIdentifier"):
        ctx.note(f"{dbid} is a member of cluster {db['DBClusterIdentifier']}: it stops only with its cluster")
        return Step(MARKED_ONLY)
    if db.get("ReadReplicaSourceDBInstanceIdentifier"):
        ctx.note(f"{dbid} is a read replica, which cannot be stopped")
        return Step(MARKED_ONLY)
    if status == "deleting":
        return Step(VANISHED)
    if status in ("stopped", "stopping"):
        ctx.note(f"DB instance {dbid} already {status}: nothing to stop")
        return Step(DONE, undo_token(state="stopped"))
    if status == "available":
        ctx.change(
            f"stop DB instance {dbid} (RDS starts it again by itself after 7 days)",
            "stop_db_instance",
            DBInstanceIdentifier=dbid,
        )
        return Step(DONE, undo_token(state="available"))
    return _not_ready(ctx, f"DB instance {dbid} is {status}")


def rds_instance_release(ctx: Ctx, undo: Mapping[str, str]) -> Step:
    if need(undo, "state", ("available", "stopped")) == "stopped":
        ctx.note("DB instance was stopped before the quarantine: left as it is")
        return Step(DONE)
    db = _db(ctx)
    dbid, status = str(db["DBInstanceIdentifier"]), str(db["DBInstanceStatus"])
    if status == "stopping":
        if not ctx.wait_until(
            f"DB instance {dbid} to stop", lambda: _db(ctx)["DBInstanceStatus"] != "stopping"
        ):
            return _not_ready(ctx, f"DB instance {dbid} is stopping")
        status = "stopped" if ctx.dry_run else str(_db(ctx)["DBInstanceStatus"])
    if status == "deleting":
        return Step(VANISHED)
    if status == "stopped":
        ctx.change(f"start DB instance {dbid}", "start_db_instance", DBInstanceIdentifier=dbid)
        return Step(DONE)
    if status in ("available", "starting"):
        ctx.note(f"DB instance {dbid} already {status}")
        return Step(DONE)
    return _not_ready(ctx, f"DB instance {dbid} is {status}")


def rds_instance_delete(ctx: Ctx) -> Step:
    """Delete with a final snapshot `tagwarden-final-<id>` (read replicas: none, the source has the data)."""
    db = _db(ctx)
    dbid, status = str(db["DBInstanceIdentifier"]), str(db["DBInstanceStatus"])
    if status == "deleting":
        return Step(VANISHED)
    if db.get("DBClusterIdentifier"):
        ctx.note(f"{dbid} is a member of cluster {db['DBClusterIdentifier']}: left for a person")
        return Step(UNSUPPORTED)
    if db.get("ReadReplicaSourceDBInstanceIdentifier"):
        ctx.change(
            f"delete read replica {dbid} (no final snapshot: its source holds the data)",
            "delete_db_instance",
            DBInstanceIdentifier=dbid,
            SkipFinalSnapshot=True,
        )
        return Step(DONE)
    snapshot = final_snapshot_id(dbid)
    ctx.change(
        f"delete DB instance {dbid} with final snapshot {snapshot}",
        "delete_db_instance",
        DBInstanceIdentifier=dbid,
        SkipFinalSnapshot=False,
        FinalDBSnapshotIdentifier=snapshot,
    )
    return Step(DONE)


# --- single-call deletes of marked-only types ------------------------------------------------------


def sqs_delete(ctx: Ctx) -> Step:
    url = target_id(TAGGERS["sqs"], ctx.resource)
    if not url:
        ctx.note(f"NoId: cannot derive a queue URL from {ctx.resource.id!r}")
        return Step(FAILED)
    ctx.change(f"delete queue {url}", "delete_queue", QueueUrl=url)
    return Step(DONE)


def sns_delete(ctx: Ctx) -> Step:
    arn = ctx.resource.id
    ctx.client.get_topic_attributes(TopicArn=arn)  # DeleteTopic succeeds on a missing topic: look first
    ctx.change(f"delete topic {arn}", "delete_topic", TopicArn=arn)
    return Step(DONE)


def dynamodb_delete(ctx: Ctx) -> Step:
    table = name(ctx.resource)
    ctx.change(f"delete table {table}", "delete_table", TableName=table)
    return Step(DONE)


def _log_group(ctx: Ctx) -> str:
    if ctx.resource.name:
        return ctx.resource.name
    parts = arn_parts(ctx.resource.id)
    if parts and parts[5].startswith("log-group:"):
        return parts[5].removeprefix("log-group:").removesuffix(":*")
    return ctx.resource.native_id or ctx.resource.id


def logs_delete(ctx: Ctx) -> Step:
    group = _log_group(ctx)
    ctx.change(f"delete log group {group}", "delete_log_group", logGroupName=group)
    return Step(DONE)


def kinesis_delete(ctx: Ctx) -> Step:
    stream = name(ctx.resource)
    ctx.change(f"delete stream {stream}", "delete_stream", StreamName=stream)
    return Step(DONE)


def aoss_delete(ctx: Ctx) -> Step:
    cid = native(ctx.resource)
    ctx.change(f"delete collection {cid}", "delete_collection", id=cid)
    return Step(DONE)


# --- many instances at once (one RunInstances may create 1,000) -----------------------------------

DESCRIBE_CHUNK = 200  # values per DescribeInstances filter
STOP_CHUNK = 500  # instance ids per StopInstances call


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _instance_states(ctx: Ctx, ids: list[str]) -> dict[str, str]:
    """State of each instance that still exists (a filter, so missing ids do not raise)."""
    states: dict[str, str] = {}
    for chunk in _chunks(ids, DESCRIBE_CHUNK):
        try:  # by id: what EC2 answers fastest
            pages: Any = [ctx.client.describe_instances(InstanceIds=chunk)]
        except ClientError as exc:
            if not _code(exc).startswith("InvalidInstanceID"):
                raise
            # one of them is gone: a filter lists the others without failing
            pages = ctx.client.get_paginator("describe_instances").paginate(
                Filters=[{"Name": "instance-id", "Values": chunk}]
            )
        for page in pages:
            for reservation in page.get("Reservations", []):
                for instance in reservation.get("Instances", []):
                    states[str(instance["InstanceId"])] = str(instance["State"]["Name"])
    return states


def ec2_instances_quarantine(ctx: Ctx, ids: list[str]) -> dict[str, Step]:
    """`ec2_instance_quarantine` for many instances of one region. First one StopInstances per 500
    ids: its answer says each instance's previous state, which is the undo token. A chunk EC2
    refuses (an instance still pending, or gone) is read instead, its pending instances waited for
    together, and the running ones stopped (see `_read_then_stop`)."""
    steps: dict[str, Step] = {}
    rest: list[str] = []
    for chunk in _chunks(ids, STOP_CHUNK):
        if ctx.dry_run:
            rest.extend(chunk)
            continue
        try:
            response = ctx.client.stop_instances(InstanceIds=chunk)
        except ClientError:
            rest.extend(chunk)
            continue
        ctx.note(f"stop {len(chunk)} instances")
        for change in response.get("StoppingInstances", []):
            before = str(change["PreviousState"]["Name"])
            undo = undo_token(state="stopped" if before in ("stopped", "stopping") else "running")
            steps[str(change["InstanceId"])] = Step(DONE, undo)
        rest.extend(i for i in chunk if i not in steps)
    if rest:
        steps.update(_read_then_stop(ctx, rest))
    return steps


def _read_then_stop(ctx: Ctx, ids: list[str]) -> dict[str, Step]:
    """One read per 200 ids, pending instances waited for together, one StopInstances per 500 of
    the running ones; a stop call that fails is retried one instance at a time."""
    states = _instance_states(ctx, ids)
    pending = [i for i in ids if states.get(i) == "pending"]
    if pending:

        def settled() -> bool:
            states.update(_instance_states(ctx, pending))
            return all(states.get(i) != "pending" for i in pending)

        if ctx.wait_until(f"{len(pending)} instances to leave pending", settled) and ctx.dry_run:
            states.update(dict.fromkeys(pending, "running"))
    steps: dict[str, Step] = {}
    running: list[str] = []
    for iid in ids:
        state = states.get(iid)
        if state in (None, "shutting-down", "terminated"):
            steps[iid] = Step(VANISHED)
        elif state in ("stopped", "stopping"):
            steps[iid] = Step(DONE, undo_token(state="stopped"))
        elif state == "running":
            running.append(iid)
            steps[iid] = Step(DONE, undo_token(state="running"))
        else:
            steps[iid] = Step(FAILED)  # still pending after the wait: retried by the sweeper
    for chunk in _chunks(running, STOP_CHUNK):
        try:
            ctx.change(f"stop {len(chunk)} instances", "stop_instances", InstanceIds=chunk)
        except ClientError:
            for iid in chunk:
                try:
                    ctx.change(f"stop instance {iid}", "stop_instances", InstanceIds=[iid])
                except ClientError as exc:
                    ctx.note(f"instance {iid}: {_code(exc)}")
                    steps[iid] = Step(FAILED)
    return steps
