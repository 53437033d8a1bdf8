"""A local Azure Resource Manager over real HTTP, for tests and the demo: the SDK talks to it as to ARM.

Only the surface tagwarden uses, with ARM's semantics (checked against azure-mgmt-resource 26, which
sends api-version 2025-04-01 and deserializes every answer here with its own models):

- Tags at scope, `{scope}/providers/Microsoft.Resources/tags/default` on a subscription, a resource
  group or a resource: GET; PUT (replace the whole set); PATCH with `{"operation": "Merge" |
  "Replace" | "Delete", "properties": {"tags": {...}}}`; DELETE. Tag names are case-insensitive (a
  Merge of `Owner` updates `owner`: one tag per name, the casing last written), values are not.
  ARM's limits answer 400 with ARM's error JSON (`{"error": {"code", "message"}}`): reserved or
  control characters in a name (InvalidTagNameCharacters), an empty name or one over 512 characters,
  128 on storage accounts (InvalidTagName), a value over 256 (InvalidTagValueLength), more than 50
  tags on the scope afterwards (InvalidTags). A scope that does not exist answers 404
  ResourceNotFound. PATCH and PUT answer as long-running operations on demand (`long_running`):
  202 with `Azure-AsyncOperation` and `Location`, a status endpoint answering InProgress a set
  number of times and then Succeeded (the change is applied then), and a Location endpoint
  answering 202 until then and the tags after.
- Resource groups: GET `/subscriptions/{s}/resourcegroups/{rg}` (names compared case-insensitively;
  404 ResourceGroupNotFound).
- Subscriptions: GET `/subscriptions/{s}` (their tags are read and written through tags at scope).
- Generic resources: GET `/{resourceId}` (the SDK's `resources.get_by_id`): id, name, type,
  location, tags, properties. DELETE `/{resourceId}` (`resources.begin_delete_by_id`): 202 with
  `Azure-AsyncOperation` and `Location`, the resource gone once the operation has completed
  (`delete_status = 200`: deleted at once); a resource that does not exist answers 204, as ARM
  does. A virtual machine takes with it the disks and network interfaces its profile names with
  `deleteOption: Delete`; the others stay, detached (their `virtualMachine` reference removed).
- Listing: GET `/subscriptions/{s}/resources` (`resources.list`) and `/subscriptions/{s}/resourcegroups`
  (`resource_groups.list`), with `$filter` `tagName eq 'x'` (optionally `and tagValue eq 'y'`;
  names compared case-insensitively) or `resourceType eq 'T'`; pages of `page_size` with a
  `nextLink` (`$skiptoken`). Listed resources carry id, name, type, location, kind and tags (ARM
  documents that a tag filter may leave the tags out: `tag_filter_hides_tags` does that).
- Virtual machines: a power state (`power`, "running" when created), read at
  `GET {vm}/instanceView` (statuses `ProvisioningState/succeeded`, `PowerState/<state>`) or
  `GET {vm}?$expand=instanceView` (properties.instanceView). `POST {vm}/deallocate | start |
  powerOff | restart` answer 202 with `Azure-AsyncOperation` and `Location`: the VM is
  deallocating / starting / stopping at once and deallocated / running / stopped when the
  operation completes, after `action_polls` InProgress answers.

- Management groups: GET `/providers/Microsoft.Management/managementGroups/{g}/descendants` (api
  2020-05-01): the groups and subscriptions under `g` at any depth (`set_management_group`), entries
  typed `Microsoft.Management/managementGroups` and `/subscriptions` as in the API's examples, pages
  of `page_size` with a `nextLink`; an unknown group answers 404.

Every request must carry `api-version` (400 MissingApiVersionParameter) and an
`Authorization: Bearer ...` header (401 AuthenticationFailed). Faults are injected with
`throttle` (429 + Retry-After) and `fail` (5xx). Every request is logged (`requests`).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tagwarden.azure.normalize.resource_id import parse_resource_id

TAGS_SUFFIX = "/providers/microsoft.resources/tags/default"
MAX_TAGS = 50
NAME_MAX = 512
NAME_MAX_STORAGE = 128
VALUE_MAX = 256
WRITES: tuple[str, ...] = ("PUT", "PATCH", "DELETE")
_RESERVED = re.compile(r"[<>%&\\?/\x00-\x1f\x7f]")
_STATUS = re.compile(r"^(?:/subscriptions/[^/]+)?/providers/microsoft\.resources/operationstatuses/([^/]+)$")
_DESCENDANTS = re.compile(r"^/providers/microsoft\.management/managementgroups/([^/]+)/descendants$")
_RESULT = re.compile(r"^(?:/subscriptions/[^/]+)?/providers/microsoft\.resources/operationresults/([^/]+)$")
VM_TYPE = "microsoft.compute/virtualmachines"
# POST {vm}/<action>: (state while it runs, state once done)
POWER_ACTIONS: Mapping[str, tuple[str, str]] = {
    "deallocate": ("deallocating", "deallocated"),
    "start": ("starting", "running"),
    "poweroff": ("stopping", "stopped"),
    "restart": ("starting", "running"),
}
_TAG_FILTER = re.compile(
    r"^\s*tagname\s+eq\s+'((?:[^']|'')*)'(?:\s+and\s+tagvalue\s+eq\s+'((?:[^']|'')*)')?\s*$", re.I
)
_TYPE_FILTER = re.compile(r"^\s*resourcetype\s+eq\s+'((?:[^']|'')*)'\s*$", re.I)
_ERROR_CODES = {
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


@dataclass(frozen=True, slots=True)
class Request:
    """One request as the fake saw it."""

    method: str
    path: str  # without the query string, as sent
    api_version: str | None
    body: Any  # parsed JSON, or None
    status: int  # what the fake answered
    query: Mapping[str, str] = field(default_factory=dict)  # query parameters (first value each)


@dataclass(slots=True)
class _Entity:
    id: str
    type: str
    name: str
    location: str | None
    tags: dict[str, str] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    kind: str | None = None
    power: str | None = None  # virtual machines: running | deallocated | stopped | ...


@dataclass(slots=True)
class _Operation:
    scope: str  # lower-cased key of the entity
    new_tags: dict[str, str]  # the set the scope gets when the operation completes
    polls_left: int
    done: bool = False
    finish: Callable[[], None] | None = None  # an action or delete: what completing does (no tags)


@dataclass(slots=True)
class _Fault:
    remaining: int
    status: int
    methods: frozenset[str] | None  # None: every method
    retry_after: int | None = None


class _Reply(Exception):
    def __init__(self, status: int, body: Any = None, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def _error(status: int, code: str, message: str) -> _Reply:
    return _Reply(status, {"error": {"code": code, "message": message}})


class ArmFake:
    """State and behaviour; `arm_fake()` serves it over HTTP."""

    def __init__(self) -> None:
        self.endpoint = ""
        self.requests: list[Request] = []
        self._entities: dict[str, _Entity] = {}
        self._faults: list[_Fault] = []
        self._lro: list[tuple[int, int, str, int | None]] = []  # [remaining, polls, style, retry_after]
        self._operations: dict[str, _Operation] = {}
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self.action_polls = 0  # InProgress answers before a VM action or a delete completes
        self.delete_status = 202  # 202: deletes are long-running operations; 200: done at once
        self.page_size = 100  # list pages
        self.tag_filter_hides_tags = False  # list with a tag filter without the tags, as ARM may
        self._groups: dict[str, tuple[str | None, list[str]]] = {}  # group -> (parent, subscriptions)

    # --- seeding ------------------------------------------------------------------------------

    def add_subscription(self, sub_id: str, tags: Mapping[str, str] | None = None) -> str:
        rid = f"/subscriptions/{sub_id}"
        with self._lock:
            entity = self._entities.get(rid.lower())
            if entity is None:
                self._entities[rid.lower()] = _Entity(
                    rid, "Microsoft.Resources/subscriptions", sub_id, None, dict(tags or {})
                )
            elif tags is not None:
                entity.tags = dict(tags)
        return rid

    def set_management_group(
        self, group: str, subscriptions: Iterable[str], parent: str | None = None
    ) -> None:
        """A management group (under `parent`) holding exactly these subscriptions directly:
        moving a subscription out is calling this again without it."""
        with self._lock:
            self._groups[group.lower()] = (parent.lower() if parent else None, list(subscriptions))

    def add_resource_group(
        self, sub: str, rg: str, tags: Mapping[str, str] | None = None, location: str = "westeurope"
    ) -> str:
        self.add_subscription(sub)
        rid = f"/subscriptions/{sub}/resourceGroups/{rg}"
        with self._lock:
            entity = self._entities.get(rid.lower())
            if entity is None:
                self._entities[rid.lower()] = _Entity(
                    rid, "Microsoft.Resources/resourceGroups", rg, location, dict(tags or {})
                )
            elif tags is not None:
                entity.tags = dict(tags)
        return rid

    def add_resource(
        self,
        resource_id: str,
        tags: Mapping[str, str] | None = None,
        location: str = "westeurope",
        properties: Mapping[str, Any] | None = None,
        kind: str | None = None,
        power: str | None = None,
    ) -> str:
        """Add a resource (its subscription and resource group too, when missing). A virtual
        machine is `power="running"` unless told otherwise."""
        rid = parse_resource_id(resource_id)
        if rid.subscription is None:
            raise ValueError(f"not a resource id: {resource_id}")
        if rid.resource_group is not None:
            self.add_resource_group(rid.subscription, rid.resource_group, location=location)
        else:
            self.add_subscription(rid.subscription)
        with self._lock:
            if power is None and rid.type.lower() == VM_TYPE:
                power = "running"
            self._entities[resource_id.lower()] = _Entity(
                resource_id,
                rid.type,
                rid.full_name,
                location,
                dict(tags or {}),
                dict(properties or {}),
                kind,
                power,
            )
        return resource_id

    def delete_resource(self, resource_id: str) -> None:
        """Remove a resource (a resource group or subscription takes what it contains with it)."""
        key = resource_id.lower().rstrip("/")
        with self._lock:
            for other in [k for k in self._entities if k == key or k.startswith(key + "/")]:
                del self._entities[other]

    def tags_of(self, scope: str) -> dict[str, str] | None:
        with self._lock:
            entity = self._entities.get(scope.lower().rstrip("/"))
            return None if entity is None else dict(entity.tags)

    def exists(self, resource_id: str) -> bool:
        with self._lock:
            return resource_id.lower().rstrip("/") in self._entities

    def power_of(self, resource_id: str) -> str | None:
        """A virtual machine's power state (None when it does not exist or has none)."""
        with self._lock:
            entity = self._entities.get(resource_id.lower().rstrip("/"))
            return None if entity is None else entity.power

    def set_power(self, resource_id: str, state: str) -> None:
        with self._lock:
            self._entities[resource_id.lower().rstrip("/")].power = state

    # --- faults and modes ---------------------------------------------------------------------

    def throttle(self, n: int, retry_after: int = 1, methods: Iterable[str] | None = WRITES) -> None:
        """The next `n` matching requests (writes by default) answer 429 with Retry-After."""
        with self._lock:
            self._faults.append(_Fault(n, 429, _methods(methods), retry_after))

    def fail(self, n: int, status: int = 500, methods: Iterable[str] | None = None) -> None:
        """The next `n` matching requests (any method by default) answer `status`."""
        with self._lock:
            self._faults.append(_Fault(n, status, _methods(methods)))

    def clear_faults(self) -> None:
        """ARM answers again: the faults still pending are dropped."""
        with self._lock:
            self._faults.clear()

    def long_running(
        self, n: int = 1, polls: int = 1, style: str = "async", retry_after: int | None = None
    ) -> None:
        """The next `n` tag writes (PATCH/PUT) answer 202 and complete after `polls` InProgress
        answers. style "async": Azure-AsyncOperation and Location headers (the SDK polls the
        first); "location": only Location."""
        if style not in ("async", "location"):
            raise ValueError(f"style must be 'async' or 'location', not {style!r}")
        with self._lock:
            self._lro.append((n, polls, style, retry_after))

    def calls(self, method: str | None = None, contains: str | None = None) -> list[Request]:
        """Logged requests, filtered by method and by a (case-insensitive) path fragment."""
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method)
                and (contains is None or contains.lower() in r.path.lower())
            ]

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    # --- dispatch -----------------------------------------------------------------------------

    def handle(
        self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        split = urlsplit(raw_path)
        path = split.path
        query = parse_qs(split.query)
        versions = query.get("api-version")
        api_version = versions[0] if versions else None
        first = {k: v[0] for k, v in query.items() if v}
        parsed: Any = None
        try:
            if body:
                try:
                    parsed = json.loads(body)
                except ValueError:
                    raise _error(
                        400, "InvalidRequestContent", "The request content is not valid JSON."
                    ) from None
            with self._lock:
                self._check(method, headers, api_version)
                self._route(method, path, parsed, first)
            raise _Reply(500, None)  # routes always raise their answer
        except _Reply as reply:
            with self._lock:
                self.requests.append(Request(method, path, api_version, parsed, reply.status, first))
            return reply.status, reply.body, reply.headers

    def _check(self, method: str, headers: Mapping[str, str], api_version: str | None) -> None:
        auth = headers.get("authorization", "")
        if not auth.lower().startswith("bearer ") or not auth[7:].strip():
            raise _error(
                401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."
            )
        for fault in self._faults:
            if fault.remaining > 0 and (fault.methods is None or method in fault.methods):
                fault.remaining -= 1
                if fault.status == 429:
                    reply = _error(
                        429,
                        "SubscriptionRequestsThrottled",
                        "Number of requests for subscription exceeded. "
                        f"Please try again after '{fault.retry_after}' seconds.",
                    )
                    reply.headers["Retry-After"] = str(fault.retry_after)
                    raise reply
                code = _ERROR_CODES.get(fault.status, "InternalServerError")
                raise _error(fault.status, code, f"Injected failure ({fault.status}).")
        self._faults = [f for f in self._faults if f.remaining > 0]
        if not api_version:
            raise _error(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )

    def _route(self, method: str, path: str, body: Any, query: Mapping[str, str]) -> None:
        lowered = path.lower().rstrip("/")
        if (m := _DESCENDANTS.match(lowered)) and method == "GET":
            self._descendants(m.group(1), query)
        if m := _STATUS.match(lowered):
            self._status(method, m.group(1))
        if m := _RESULT.match(lowered):
            self._result(method, m.group(1))
        if lowered.endswith(TAGS_SUFFIX):
            self._tags(method, lowered[: -len(TAGS_SUFFIX)], body)
        parts = [p for p in lowered.split("/") if p]
        is_resource = len(parts) >= 6 and parts[0] == "subscriptions" and "providers" in parts[2:]
        if method == "POST" and is_resource and parts[-1] in POWER_ACTIONS:
            self._power_action(lowered.rsplit("/", 1)[0], parts[-1], path)
        if method == "DELETE" and is_resource:
            self._delete(lowered)
        if method not in ("GET", "HEAD"):
            raise _error(405, "MethodNotAllowed", f"The fake does not implement {method} {path}.")
        if len(parts) == 2 and parts[0] == "subscriptions":
            self._subscription(lowered)
        if len(parts) == 3 and parts[0] == "subscriptions" and parts[2] in ("resources", "resourcegroups"):
            self._list(parts[1], parts[2] == "resourcegroups", query)
        if len(parts) == 4 and parts[0] == "subscriptions" and parts[2] == "resourcegroups":
            self._resource_group(lowered)
        if is_resource and parts[-1] == "instanceview":
            self._instance_view(lowered.rsplit("/", 1)[0], path)
        self._resource(lowered, path, query)

    # --- handlers (each raises its answer) ----------------------------------------------------

    def _subscription(self, key: str) -> None:
        entity = self._entities.get(key)
        if entity is None:
            raise _error(
                404,
                "SubscriptionNotFound",
                f"The subscription '{key.rsplit('/', 1)[-1]}' could not be found.",
            )
        out: dict[str, Any] = {
            "id": entity.id,
            "subscriptionId": entity.name,
            "displayName": entity.name,
            "state": "Enabled",
        }
        if entity.tags:
            out["tags"] = dict(entity.tags)
        raise _Reply(200, out)

    def _resource_group(self, key: str) -> None:
        entity = self._entities.get(key)
        if entity is None:
            raise _error(
                404, "ResourceGroupNotFound", f"Resource group '{key.rsplit('/', 1)[-1]}' could not be found."
            )
        out: dict[str, Any] = {
            "id": entity.id,
            "name": entity.name,
            "type": entity.type,
            "location": entity.location,
            "properties": {"provisioningState": "Succeeded"},
        }
        if entity.tags:
            out["tags"] = dict(entity.tags)
        raise _Reply(200, out)

    def _resource(self, key: str, path: str, query: Mapping[str, str] | None = None) -> None:
        entity = self._entities.get(key)
        if entity is None:
            raise _error(404, "ResourceNotFound", f"The Resource '{path}' was not found.")
        out: dict[str, Any] = {
            "id": entity.id,
            "name": entity.name,
            "type": entity.type,
            "location": entity.location,
            "properties": dict(entity.properties),
        }
        expand = (query or {}).get("$expand", "")
        if entity.power is not None and expand.lower() == "instanceview":
            out["properties"]["instanceView"] = _instance_view(entity)
        if entity.kind:
            out["kind"] = entity.kind
        if entity.tags:
            out["tags"] = dict(entity.tags)
        raise _Reply(200, out)

    def _vm(self, key: str, path: str) -> _Entity:
        entity = self._entities.get(key)
        if entity is None or entity.type.lower() != VM_TYPE:
            raise _error(404, "ResourceNotFound", f"The Resource '{path.rsplit('/', 1)[0]}' was not found.")
        return entity

    def _instance_view(self, key: str, path: str) -> None:
        raise _Reply(200, _instance_view(self._vm(key, path)))

    def _power_action(self, key: str, action: str, path: str) -> None:
        entity = self._vm(key, path)
        running, settled = POWER_ACTIONS[action]
        entity.power = running

        def finish() -> None:
            entity.power = settled

        self._operation(key, finish)

    def _delete(self, key: str) -> None:
        entity = self._entities.get(key)
        if entity is None:
            raise _Reply(204, None)  # ARM: nothing to delete
        with_it = _cascade(entity)

        def finish() -> None:
            for rid in (entity.id, *with_it):
                self.delete_resource(rid)  # its child resources (extensions, ...) too
            for nic in self._entities.values():  # the NICs it leaves are detached
                attached = (nic.properties.get("virtualMachine") or {}).get("id")
                if attached and str(attached).lower() == key:
                    nic.properties.pop("virtualMachine")

        if self.delete_status != 202:
            finish()
            raise _Reply(200, None)
        self._operation(key, finish)

    def _operation(self, key: str, finish: Callable[[], None]) -> None:
        """Answer 202: an operation that runs `finish` after `action_polls` InProgress answers."""
        op_id = f"op-{next(self._ids)}"
        self._operations[op_id] = _Operation(key, {}, self.action_polls, finish=finish)
        raise _Reply(
            202,
            None,
            {
                "Azure-AsyncOperation": self._op_url("operationStatuses", op_id, key),
                "Location": self._op_url("operationResults", op_id, key),
            },
        )

    def _list(self, sub: str, groups: bool, query: Mapping[str, str]) -> None:
        prefix = f"/subscriptions/{sub}/"
        raw = query.get("$filter", "")
        tag_name = tag_value = rtype = None
        if raw.strip():
            if m := _TAG_FILTER.match(raw):
                tag_name = m.group(1).replace("''", "'")
                tag_value = m.group(2).replace("''", "'") if m.group(2) is not None else None
            elif (m := _TYPE_FILTER.match(raw)) and not groups:
                rtype = m.group(1).replace("''", "'")
            else:
                raise _error(400, "InvalidFilterInQueryString", f"Invalid $filter '{raw}' specified.")
        if f"/subscriptions/{sub}" not in self._entities:
            raise _error(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
        matched: list[_Entity] = []
        for key, entity in self._entities.items():
            if not key.startswith(prefix):
                continue
            is_group = entity.type.lower() == "microsoft.resources/resourcegroups"
            if is_group != groups or (not groups and entity.type.count("/") != 1):
                continue  # child resources (subnets, ...) are not listed, as in ARM
            if rtype is not None and entity.type.lower() != rtype.lower():
                continue
            if tag_name is not None:
                found = [v for k, v in entity.tags.items() if k.lower() == tag_name.lower()]
                if not found or (tag_value is not None and found[0] != tag_value):
                    continue
            matched.append(entity)
        start = int(query.get("$skiptoken") or 0)
        page = matched[start : start + self.page_size]
        hide = self.tag_filter_hides_tags and tag_name is not None
        out: dict[str, Any] = {"value": [_listed(e, groups, hide) for e in page]}
        if start + self.page_size < len(matched):
            params = {"api-version": "2025-04-01", "$skiptoken": str(start + self.page_size)}
            if raw:
                params["$filter"] = raw
            kind = "resourcegroups" if groups else "resources"
            out["nextLink"] = f"{self.endpoint}/subscriptions/{sub}/{kind}?{urlencode(params)}"
        raise _Reply(200, out)

    def _descendants(self, group: str, query: Mapping[str, str]) -> None:
        """Every management group and subscription under `group`, at any depth, a page of
        `page_size` at a time (`$skiptoken`), entries shaped as the API's examples."""
        if group not in self._groups:
            raise _error(404, "NotFound", f"Management group '{group}' not found.")
        entries: list[dict[str, Any]] = []
        todo = [group]
        while todo:
            parent = todo.pop(0)
            for sub in self._groups[parent][1]:
                entries.append(_descendant(f"/subscriptions/{sub}", "/subscriptions", sub, parent))
            for child, (above, _) in self._groups.items():
                if above == parent:
                    mg = f"/providers/Microsoft.Management/managementGroups/{child}"
                    entries.append(_descendant(mg, "Microsoft.Management/managementGroups", child, parent))
                    todo.append(child)
        start = int(query.get("$skiptoken") or 0)
        out: dict[str, Any] = {"value": entries[start : start + self.page_size], "nextLink": None}
        if start + self.page_size < len(entries):
            params = {"api-version": "2020-05-01", "$skiptoken": str(start + self.page_size)}
            out["nextLink"] = (
                f"{self.endpoint}/providers/Microsoft.Management/managementGroups/{group}/descendants?"
                f"{urlencode(params)}"
            )
        raise _Reply(200, out)

    def _tags(self, method: str, key: str, body: Any) -> None:
        entity = self._entities.get(key)
        if entity is None:
            raise _error(404, "ResourceNotFound", f"The Resource '{key}' was not found.")
        if method == "GET":
            raise _Reply(200, _tags_resource(entity.id, entity.tags))
        if method == "DELETE":
            entity.tags = {}
            raise _Reply(200, None)
        if method not in ("PUT", "PATCH"):
            raise _error(405, "MethodNotAllowed", f"{method} is not allowed on tags.")
        given = _body_tags(body)
        if method == "PUT":
            new = _validated(entity, given, replace=True)
        else:
            operation = str((body or {}).get("operation") or "")
            new = _apply(entity, operation, given)
        if self._lro:
            n, polls, style, retry_after = self._lro[0]
            self._lro = [(n - 1, polls, style, retry_after), *self._lro[1:]] if n > 1 else self._lro[1:]
            op_id = f"op-{next(self._ids)}"
            self._operations[op_id] = _Operation(key, new, polls)
            headers = {"Location": self._op_url("operationResults", op_id, key)}
            if style == "async":
                headers["Azure-AsyncOperation"] = self._op_url("operationStatuses", op_id, key)
            if retry_after is not None:
                headers["Retry-After"] = str(retry_after)
            raise _Reply(202, None, headers)
        entity.tags = new
        raise _Reply(200, _tags_resource(entity.id, entity.tags))

    def _op_url(self, kind: str, op_id: str, scope: str) -> str:
        """Operations live under the scope's subscription, as ARM's do."""
        parts = scope.split("/")
        prefix = f"/subscriptions/{parts[2]}" if len(parts) > 2 and parts[1] == "subscriptions" else ""
        return f"{self.endpoint}{prefix}/providers/Microsoft.Resources/{kind}/{op_id}?api-version=2025-04-01"

    def _advance(self, op_id: str) -> _Operation:
        op = self._operations.get(op_id)
        if op is None:
            raise _error(404, "OperationNotFound", f"Operation '{op_id}' was not found.")
        if op.polls_left > 0:
            op.polls_left -= 1
        elif not op.done:
            op.done = True
            if op.finish is not None:
                op.finish()
            else:
                entity = self._entities.get(op.scope)
                if entity is not None:
                    entity.tags = op.new_tags
        return op

    def complete_operations(self) -> None:
        """Complete every operation still running (as time passing would), without a poll."""
        with self._lock:
            for op_id, op in self._operations.items():
                while not op.done:
                    self._advance(op_id)

    def _status(self, method: str, op_id: str) -> None:
        if method != "GET":
            raise _error(405, "MethodNotAllowed", "Operation status only answers GET.")
        op = self._advance(op_id)
        raise _Reply(200, {"id": op_id, "name": op_id, "status": "Succeeded" if op.done else "InProgress"})

    def _result(self, method: str, op_id: str) -> None:
        if method != "GET":
            raise _error(405, "MethodNotAllowed", "Operation results only answer GET.")
        op = self._advance(op_id)
        if not op.done:
            raise _Reply(202, None, {"Location": self._op_url("operationResults", op_id, op.scope)})
        if op.finish is not None:
            raise _Reply(200, None)  # an action or a delete: nothing to return
        entity = self._entities.get(op.scope)
        if entity is None:
            raise _error(404, "ResourceNotFound", f"The Resource '{op.scope}' was not found.")
        raise _Reply(200, _tags_resource(entity.id, entity.tags))


def _descendant(rid: str, kind: str, name: str, parent: str) -> dict[str, Any]:
    return {
        "id": rid,
        "type": kind,
        "name": name,
        "properties": {
            "displayName": name,
            "parent": {"id": f"/providers/Microsoft.Management/managementGroups/{parent}"},
        },
    }


def _instance_view(entity: _Entity) -> dict[str, Any]:
    power = entity.power or "unknown"
    return {
        "statuses": [
            {
                "code": "ProvisioningState/succeeded",
                "level": "Info",
                "displayStatus": "Provisioning succeeded",
            },
            {"code": f"PowerState/{power}", "level": "Info", "displayStatus": f"VM {power}"},
        ]
    }


def _cascade(entity: _Entity) -> list[str]:
    """What deleting a VM deletes with it: the disks and NICs its profile marks deleteOption Delete."""
    if entity.type.lower() != VM_TYPE:
        return []
    props = entity.properties
    storage = props.get("storageProfile") or {}
    disks = [storage.get("osDisk") or {}, *(storage.get("dataDisks") or [])]
    out = [
        str(d["managedDisk"]["id"])
        for d in disks
        if str(d.get("deleteOption", "")).lower() == "delete" and (d.get("managedDisk") or {}).get("id")
    ]
    for nic in (props.get("networkProfile") or {}).get("networkInterfaces") or []:
        if str((nic.get("properties") or {}).get("deleteOption", "")).lower() == "delete" and nic.get("id"):
            out.append(str(nic["id"]))
    return out


def _listed(entity: _Entity, group: bool, hide_tags: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": entity.id,
        "name": entity.name,
        "type": entity.type,
        "location": entity.location,
    }
    if group:
        out["properties"] = {"provisioningState": "Succeeded"}
    if entity.kind:
        out["kind"] = entity.kind
    if entity.tags and not hide_tags:
        out["tags"] = dict(entity.tags)
    return out


def _methods(methods: Iterable[str] | None) -> frozenset[str] | None:
    return None if methods is None else frozenset(m.upper() for m in methods)


def _tags_resource(scope_id: str, tags: Mapping[str, str]) -> dict[str, Any]:
    return {
        "id": f"{scope_id}/providers/Microsoft.Resources/tags/default",
        "name": "default",
        "type": "Microsoft.Resources/tags",
        "properties": {"tags": dict(tags)} if tags else {},
    }


def _body_tags(body: Any) -> dict[str, str]:
    props = body.get("properties") if isinstance(body, dict) else None
    tags = props.get("tags") if isinstance(props, dict) else None
    if not isinstance(tags, dict):
        raise _error(400, "InvalidRequestContent", "The request content must have properties.tags.")
    out: dict[str, str] = {}
    for k, v in tags.items():
        if not isinstance(v, str):
            raise _error(400, "InvalidRequestContent", f"The value of tag '{k}' must be a string.")
        out[str(k)] = v
    return out


def _fold_set(base: Mapping[str, str], key: str, value: str) -> dict[str, str]:
    out = {k: v for k, v in base.items() if k.lower() != key.lower()}
    out[key] = value
    return out


def _apply(entity: _Entity, operation: str, given: dict[str, str]) -> dict[str, str]:
    op = operation.lower()
    if op == "merge":
        return _validated(entity, given, replace=False)
    if op == "replace":
        return _validated(entity, given, replace=True)
    if op == "delete":
        out = dict(entity.tags)
        for k, v in given.items():
            for have in [h for h in out if h.lower() == k.lower()]:
                if not v or out[have] == v:
                    del out[have]
        return out
    raise _error(
        400,
        "InvalidRequestContent",
        f"The operation '{operation}' is not valid: expected Merge, Replace or Delete.",
    )


def _validated(entity: _Entity, given: dict[str, str], *, replace: bool) -> dict[str, str]:
    """The tag set after the write, or ARM's 400."""
    limit = NAME_MAX_STORAGE if entity.type.lower() == "microsoft.storage/storageaccounts" else NAME_MAX
    bad_chars = [k for k in given if _RESERVED.search(k)]
    if bad_chars:
        raise _error(
            400,
            "InvalidTagNameCharacters",
            f"The tag names '{', '.join(bad_chars)}' have reserved characters '<,>,%,&,\\,?,/' or "
            "control characters.",
        )
    for k, v in given.items():
        if not k.strip():
            raise _error(
                400, "InvalidTagName", "The tag name must be non-null, non-empty and non-whitespace only."
            )
        if len(k) > limit:
            raise _error(
                400,
                "InvalidTagName",
                f"Tag key too large. Following tag name '{k}' exceeded the maximum length. "
                f"Maximum allowed length for tag name - '{limit}' characters.",
            )
        if len(v) > VALUE_MAX:
            raise _error(
                400,
                "InvalidTagValueLength",
                f"Tag value too large. Following tag value '{v}' exceeded the maximum length. "
                f"Maximum allowed length for tag value - '{VALUE_MAX}' characters.",
            )
    new: dict[str, str] = {} if replace else dict(entity.tags)
    for k, v in given.items():
        new = _fold_set(new, k, v)
    if len(new) > MAX_TAGS:
        raise _error(
            400,
            "InvalidTags",
            f"Too many tags specified. Requested tag count - '{len(new)}'. "
            f"Maximum number of tags allowed - '{MAX_TAGS}'.",
        )
    return new


def _handler(fake: ArmFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects
        # Headers and body leave in separate writes; without TCP_NODELAY each response waits out
        # the peer's delayed ACK (~40 ms on Linux loopback), which ARM itself never adds.
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, payload, extra = fake.handle(self.command, self.path, headers, body)
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            if data:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", "0" if self.command == "HEAD" else str(len(data)))
            self.send_header("x-ms-request-id", f"fake-{next(fake._ids)}")
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            if data and self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_PATCH = do_DELETE = do_POST = do_HEAD = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    return Handler


@contextmanager
def arm_fake() -> Iterator[ArmFake]:
    """Serve a fresh ArmFake on a free loopback port for the duration of the block."""
    fake = ArmFake()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    host, port = server.server_address[:2]
    fake.endpoint = f"http://{host!s}:{port}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="arm-fake", daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
