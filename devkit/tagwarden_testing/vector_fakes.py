"""Loopback stand-ins for Pinecone, OpenSearch and Azure AI Search, for tests and the benchmark.

Each answers, over real HTTP, the documented endpoints tagwarden.vector uses, in the documented
JSON shapes, so the real SDKs (pinecone, opensearch-py, azure-search-documents) talk to them as to
the service:

- Pinecone data plane (`Api-Key` header, else 401): `POST /vectors/upsert` (`vectors`,
  `namespace`; dimension checked, 400 otherwise) -> `upsertedCount`; `POST /query` (`vector`,
  `topK`, `namespace`, `filter` with `$eq`, `includeMetadata`) -> `matches`, `namespace`,
  `usage.readUnits` (1 per started `read_unit_bytes` of the namespace, at least 1: Pinecone
  serverless charges a query by the namespace size it scans); `POST /describe_index_stats` ->
  `namespaces` (`vectorCount`; the default namespace as `__default__`), `dimension`,
  `indexFullness`, `totalVectorCount`.
- OpenSearch: `HEAD|PUT /{index}` (mappings kept), `POST /_bulk` (`index` actions, NDJSON) ->
  `items`, `errors`; `POST /{index}/_search` with `size`, `query` (`match_all`, `term`, `bool.filter`,
  `knn` with its `filter`) and `aggs` (`terms` with `size`, `missing`) -> `hits`, `aggregations`
  (buckets by doc_count desc, `sum_other_doc_count`); a terms aggregation on a `text` field is
  refused (400 illegal_argument_exception) as OpenSearch does; `GET|POST /{index}/_count`.
- Azure AI Search (`api-key` header, else 403; `api-version` required): `PUT /indexes('{name}')`
  and `GET` of it; `POST /indexes('{name}')/docs/search.index` (`upload`, `merge`, `mergeOrUpload`;
  unknown fields and bad keys refused per document); `POST .../docs/search.post.search` with
  `filter` (`f eq 'v'`, `f eq null`, joined by `and`; the field must be filterable), `facets`
  (`field,count:N`; the field must be facetable), `count`, `top`, `vectorQueries` (k-NN over the
  `fields` vector field) -> `value` (`@search.score` + fields), `@odata.count`, `@search.facets`.

Similarity is cosine, computed by brute force. `requests` records every call (method, path).
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

Answer = tuple[int, Any]


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


@dataclass
class _Fake:
    endpoint: str = ""
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        raise NotImplementedError


# --- Pinecone ---------------------------------------------------------------------------------------


@dataclass
class PineconeFake(_Fake):
    dimension: int = 4
    read_unit_bytes: int = 1 << 30  # Pinecone: 1 read unit per GB of namespace scanned
    namespaces: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        if not headers.get("api-key"):
            return 401, {"code": 16, "message": "Invalid API Key", "details": []}
        data = json.loads(body or b"{}")
        route = urlsplit(path).path
        with self.lock:
            if (method, route) == ("POST", "/vectors/upsert"):
                return self._upsert(data)
            if (method, route) == ("POST", "/query"):
                return self._query(data)
            if (method, route) == ("POST", "/describe_index_stats"):
                return self._stats()
        return 404, {"code": 5, "message": f"Not Found: {method} {route}", "details": []}

    def _upsert(self, data: Mapping[str, Any]) -> Answer:
        vectors = data.get("vectors") or []
        for v in vectors:
            if len(v.get("values") or []) != self.dimension:
                return 400, {
                    "code": 3,
                    "message": f"Vector dimension {len(v.get('values') or [])} does not match the dimension "
                    f"of the index {self.dimension}",
                    "details": [],
                }
        space = self.namespaces.setdefault(data.get("namespace") or "", {})
        for v in vectors:
            space[str(v["id"])] = {"values": list(v["values"]), "metadata": dict(v.get("metadata") or {})}
        return 200, {"upsertedCount": len(vectors)}

    def _query(self, data: Mapping[str, Any]) -> Answer:
        name = data.get("namespace") or ""
        space = self.namespaces.get(name, {})
        wanted = data.get("filter") or {}

        def keep(metadata: Mapping[str, Any]) -> bool:
            for key, cond in wanted.items():
                value = cond.get("$eq") if isinstance(cond, dict) else cond
                if metadata.get(key) != value:
                    return False
            return True

        query = list(data.get("vector") or [])
        scored = sorted(
            ((_cosine(query, v["values"]), i, v) for i, v in space.items() if keep(v["metadata"])),
            key=lambda t: (-t[0], t[1]),
        )[: int(data.get("topK", 10))]
        matches = [
            {
                "id": i,
                "score": s,
                "values": [],
                **({"metadata": v["metadata"]} if data.get("includeMetadata") else {}),
            }
            for s, i, v in scored
        ]
        size = sum(4 * len(v["values"]) + len(json.dumps(v["metadata"])) for v in space.values())
        units = max(1, math.ceil(size / self.read_unit_bytes))
        return 200, {"matches": matches, "namespace": name, "usage": {"readUnits": units}}

    def _stats(self) -> Answer:
        spaces = {(n or "__default__"): {"vectorCount": len(v)} for n, v in self.namespaces.items() if v}
        return 200, {
            "namespaces": spaces,
            "dimension": self.dimension,
            "indexFullness": 0.0,
            "totalVectorCount": sum(s["vectorCount"] for s in spaces.values()),
            "metric": "cosine",
            "vectorType": "dense",
        }


# --- OpenSearch -------------------------------------------------------------------------------------


def _error(status: int, kind: str, reason: str) -> Answer:
    return status, {
        "error": {"root_cause": [{"type": kind, "reason": reason}], "type": kind, "reason": reason},
        "status": status,
    }


@dataclass
class OpenSearchFake(_Fake):
    indices: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {"mappings", "docs"}

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        route = urlsplit(path).path.strip("/")
        parts = route.split("/") if route else []
        with self.lock:
            if parts and parts[-1] == "_bulk":
                return self._bulk(body, parts[0] if len(parts) == 2 else None)
            if len(parts) == 1 and method == "HEAD":
                return (200 if parts[0] in self.indices else 404), None
            if len(parts) == 1 and method == "PUT":
                if parts[0] in self.indices:
                    return _error(
                        400, "resource_already_exists_exception", f"index [{parts[0]}] already exists"
                    )
                spec = json.loads(body or b"{}")
                self.indices[parts[0]] = {"mappings": spec.get("mappings") or {"properties": {}}, "docs": {}}
                return 200, {"acknowledged": True, "shards_acknowledged": True, "index": parts[0]}
            if len(parts) == 2 and parts[0] not in self.indices:
                return _error(404, "index_not_found_exception", f"no such index [{parts[0]}]")
            if len(parts) == 2 and parts[1] == "_search":
                return self._search(parts[0], json.loads(body or b"{}"))
            if len(parts) == 2 and parts[1] == "_count":
                query = json.loads(body or b"{}").get("query")
                docs = self.indices[parts[0]]["docs"]
                return 200, {"count": sum(1 for d in docs.values() if _matches(query, d))}
        return _error(400, "illegal_argument_exception", f"unsupported: {method} /{route}")

    def _bulk(self, body: bytes, default_index: str | None) -> Answer:
        lines = [json.loads(x) for x in body.decode().splitlines() if x.strip()]
        items = []
        errors = False
        for action, source in _pairs(lines):
            ((verb, meta),) = action.items()
            index = meta.get("_index") or default_index
            if verb != "index" or index not in self.indices:
                errors = True
                items.append(
                    {verb: {"_index": index, "status": 404, "error": {"type": "index_not_found_exception"}}}
                )
                continue
            docs = self.indices[index]["docs"]
            created = meta["_id"] not in docs
            docs[meta["_id"]] = source
            items.append(
                {
                    verb: {
                        "_index": index,
                        "_id": meta["_id"],
                        "result": "created" if created else "updated",
                        "status": 201 if created else 200,
                    }
                }
            )
        return 200, {"took": 1, "errors": errors, "items": items}

    def _search(self, index: str, spec: Mapping[str, Any]) -> Answer:
        docs = self.indices[index]["docs"]
        properties = self.indices[index]["mappings"].get("properties", {})
        query = spec.get("query") or {"match_all": {}}
        knn = query.get("knn")
        if knn:
            ((vector_field, params),) = knn.items()
            pool = [(i, d) for i, d in docs.items() if _matches(params.get("filter"), d)]
            ranked = (((1 + _cosine(params["vector"], d[vector_field])) / 2, i, d) for i, d in pool)
            scored = sorted(ranked, key=lambda t: (-t[0], t[1]))[: int(params.get("k", 10))]
        else:
            scored = [(1.0, i, d) for i, d in sorted(docs.items()) if _matches(query, d)]
        total = len(scored)
        hits = [
            {"_index": index, "_id": i, "_score": s, "_source": d}
            for s, i, d in scored[: int(spec.get("size", 10))]
        ]
        out: dict[str, Any] = {
            "took": 1,
            "timed_out": False,
            "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
            "hits": {
                "total": {"value": total, "relation": "eq"},
                "max_score": hits[0]["_score"] if hits else None,
                "hits": hits,
            },
        }
        matched = [d for _, _, d in scored]
        aggs = spec.get("aggs") or spec.get("aggregations") or {}
        if aggs:
            out["aggregations"] = {}
            for name, agg in aggs.items():
                if "terms" in agg:
                    name_field = agg["terms"]["field"]
                    if properties.get(name_field, {}).get("type") == "text":
                        return _error(
                            400,
                            "illegal_argument_exception",
                            f"Text fields are not optimised for operations that require per-document field "
                            f"data like aggregations and sorting, so these operations are disabled by "
                            f"default. Please use a keyword field instead. [{name_field}]",
                        )
                    counts: dict[Any, int] = {}
                    for d in matched:
                        if d.get(name_field) is not None:
                            counts[d[name_field]] = counts.get(d[name_field], 0) + 1
                    buckets = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
                    size = int(agg["terms"].get("size", 10))
                    out["aggregations"][name] = {
                        "doc_count_error_upper_bound": 0,
                        "sum_other_doc_count": sum(n for _, n in buckets[size:]),
                        "buckets": [{"key": k, "doc_count": n} for k, n in buckets[:size]],
                    }
                elif "missing" in agg:
                    name_field = agg["missing"]["field"]
                    out["aggregations"][name] = {
                        "doc_count": sum(1 for d in matched if d.get(name_field) is None)
                    }
        return 200, out


def _pairs(lines: list[Any]) -> Iterator[tuple[Any, Any]]:
    it = iter(lines)
    return zip(it, it, strict=True)


def _matches(query: Mapping[str, Any] | None, doc: Mapping[str, Any]) -> bool:
    if not query or "match_all" in query:
        return True
    if "term" in query:
        ((name, value),) = query["term"].items()
        value = value.get("value") if isinstance(value, dict) else value
        return doc.get(name) == value
    if "bool" in query:
        clauses = query["bool"].get("filter") or []
        clauses = clauses if isinstance(clauses, list) else [clauses]
        nots = query["bool"].get("must_not") or []
        nots = nots if isinstance(nots, list) else [nots]
        return all(_matches(c, doc) for c in clauses) and not any(_matches(c, doc) for c in nots)
    if "exists" in query:
        return doc.get(query["exists"]["field"]) is not None
    raise ValueError(f"unsupported query {query}")


# --- Azure AI Search --------------------------------------------------------------------------------

_INDEX_PATH = re.compile(r"^/indexes\('([^']+)'\)(/docs/(search\.index|search\.post\.search))?$")
_KEY = re.compile(r"[A-Za-z0-9_\-=]{1,1024}")
_EQ = re.compile(r"^\s*(\w+)\s+eq\s+(?:'((?:[^']|'')*)'|(null))\s*$")


def _azure_error(status: int, message: str) -> Answer:
    return status, {"error": {"code": "", "message": message}}


@dataclass
class AzureSearchFake(_Fake):
    indexes: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {"spec", "docs"}

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        if not headers.get("api-key"):
            return _azure_error(403, "Authorization failed: no api-key")
        split = urlsplit(path)
        if "api-version" not in parse_qs(split.query):
            return _azure_error(400, "The api-version query parameter (?api-version=) is required")
        found = _INDEX_PATH.match(unquote(split.path))
        if not found:
            return _azure_error(404, f"No HTTP resource was found that matches {split.path}")
        name, action = found.group(1), found.group(3)
        with self.lock:
            if action is None and method == "PUT":
                spec = json.loads(body)
                created = name not in self.indexes
                self.indexes[name] = {"spec": spec, "docs": self.indexes.get(name, {}).get("docs", {})}
                return (201 if created else 200), spec
            if name not in self.indexes:
                return _azure_error(404, f"The index '{name}' was not found")
            index = self.indexes[name]
            if action is None and method == "GET":
                return 200, index["spec"]
            if action == "search.index":
                return self._index(index, json.loads(body))
            if action == "search.post.search":
                return self._search(index, json.loads(body))
        return _azure_error(405, f"{method} not allowed")

    @staticmethod
    def _fields(index: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        return {f["name"]: f for f in index["spec"].get("fields", [])}

    def _index(self, index: dict[str, Any], data: Mapping[str, Any]) -> Answer:
        fields = self._fields(index)
        key = next(n for n, f in fields.items() if f.get("key"))
        results = []
        for doc in data.get("value", []):
            action = doc.get("@search.action", "upload")
            body = {k: v for k, v in doc.items() if not k.startswith("@")}
            unknown = sorted(set(body) - set(fields))
            doc_key = str(body.get(key, ""))
            if unknown:
                results.append(
                    {
                        "key": doc_key,
                        "status": False,
                        "statusCode": 400,
                        "errorMessage": f"The property '{unknown[0]}' does not exist on type "
                        f"'search.documentFields'. Make sure to only use property names "
                        f"that are defined by the type.",
                    }
                )
                continue
            if not _KEY.fullmatch(doc_key):
                results.append(
                    {
                        "key": doc_key,
                        "status": False,
                        "statusCode": 400,
                        "errorMessage": "Invalid document key: keys can only contain letters, digits, "
                        "underscore (_), dash (-), or equal sign (=).",
                    }
                )
                continue
            existed = doc_key in index["docs"]
            if action == "merge" and not existed:
                results.append(
                    {
                        "key": doc_key,
                        "status": False,
                        "statusCode": 404,
                        "errorMessage": "Document not found.",
                    }
                )
                continue
            merged = (
                {**index["docs"].get(doc_key, {}), **body} if action in ("merge", "mergeOrUpload") else body
            )
            index["docs"][doc_key] = merged
            results.append(
                {"key": doc_key, "status": True, "statusCode": 200 if existed else 201, "errorMessage": None}
            )
        status = 200 if all(r["status"] for r in results) else 207
        return status, {"value": results}

    def _search(self, index: dict[str, Any], spec: Mapping[str, Any]) -> Answer:
        fields = self._fields(index)
        predicates = []
        text = spec.get("filter")
        if text:
            for part in re.split(r"\s+and\s+", text):
                found = _EQ.match(part)
                if not found:
                    return _azure_error(400, f"Invalid expression: unsupported filter '{part}'")
                name = found.group(1)
                if not fields.get(name, {}).get("filterable"):
                    return _azure_error(400, f"Invalid expression: The field '{name}' is not filterable.")
                value = None if found.group(3) else found.group(2).replace("''", "'")
                predicates.append((name, value))
        pool = [(k, d) for k, d in sorted(index["docs"].items()) if all(d.get(n) == v for n, v in predicates)]
        scored: list[tuple[float, str, dict[str, Any]]] = [(1.0, k, d) for k, d in pool]
        for vq in spec.get("vectorQueries") or []:
            name = vq["fields"]
            scored = sorted(
                ((_cosine(vq["vector"], d.get(name) or []), k, d) for k, d in pool),
                key=lambda t: (-t[0], t[1]),
            )[: int(vq.get("k", 50))]
        out: dict[str, Any] = {}
        if spec.get("count"):
            out["@odata.count"] = len(scored)
        facets = {}
        for facet in spec.get("facets") or []:
            name, *options = facet.split(",")
            if not fields.get(name, {}).get("facetable"):
                return _azure_error(400, f"Invalid expression: The field '{name}' is not facetable.")
            limit = next((int(o.split(":")[1]) for o in options if o.startswith("count:")), 10)
            counts: dict[Any, int] = {}
            for _, _, d in scored:
                if d.get(name) is not None:
                    counts[d[name]] = counts.get(d[name], 0) + 1
            ranked = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[:limit]
            facets[name] = [{"value": v, "count": n} for v, n in ranked]
        if facets:
            out["@search.facets"] = facets
        top = int(spec.get("top", 50))
        out["value"] = [{"@search.score": s, **d} for s, _, d in scored[:top]]
        return 200, out


# --- serving ----------------------------------------------------------------------------------------

F = TypeVar("F", bound=_Fake)


def _handler(fake: _Fake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # see arm_fake: no delayed-ACK waits on loopback

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            fake.requests.append((self.command, self.path))
            try:
                status, payload = fake.handle(self.command, self.path, headers, body)
            except (ValueError, KeyError, TypeError) as error:
                status, payload = 400, {"error": {"message": f"bad request: {error}"}}
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", "0" if self.command == "HEAD" else str(len(data)))
            self.end_headers()
            if data and self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    return Handler


@contextmanager
def serve(fake: F) -> Iterator[F]:
    """Serve `fake` on a free loopback port for the duration of the block (`fake.endpoint`)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    host, port = server.server_address[:2]
    fake.endpoint = f"http://{host!s}:{port}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="vector-fake", daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
