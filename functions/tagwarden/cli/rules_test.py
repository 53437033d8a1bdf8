"""`tagwarden rules test DIR`: recorded events with the decisions they must get, for CI.

A case is a YAML file (any name ending .yaml/.yml under DIR):

    event: events/run-instances.json   # a path (relative to the case file) or the event inline
    lookups: {principals: {...}}       # optional, the --lookups schema, inline
    expect:                            # one entry per resource; `resource` is a glob on its id
      - resource: "*:instance/*"        # (optional: every resource of the event)
        action: quarantine
        rule: agents
        tags: {Agent-ID: "42"}          # these tags, with these values, are written
        missing: [CostCenter]           # exactly these required tags are missing

Exit 1 when any case fails, with a diff per field; --junit writes JUnit XML for CI systems.
"""

from __future__ import annotations

import argparse
import fnmatch
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from xml.etree import ElementTree as ET

from tagwarden.cli.common import EXIT_OK, EXIT_RULES, InputError, dump_json

EXPECT_KEYS = ("resource", "action", "rule", "tags", "missing")
CASE_KEYS = ("event", "lookups", "expect", "description")


@dataclass
class CaseResult:
    name: str
    failures: list[str] = field(default_factory=list)
    error: str | None = None  # the case itself could not be run
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures and self.error is None


def register(commands: Any) -> None:
    test = commands.add_parser(
        "test",
        help="run rule test cases (event + expected decision); exit 1 on any mismatch",
        description=(__doc__ or "").split("\n\n")[1] if __doc__ else None,
    )
    test.add_argument("dir", metavar="DIR", help="a folder of case files (.yaml), read recursively")
    test.add_argument("--rules", required=True, metavar="FILE", help="the rules file under test")
    test.add_argument("--junit", metavar="FILE", help="also write JUnit XML here")
    test.add_argument("--format", choices=("text", "json"), default="text", help="default: text")
    test.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from tagwarden.rules import load_rules

    rules = load_rules(args.rules)
    folder = Path(args.dir)
    if not folder.is_dir():
        raise InputError(f"{args.dir}: not a folder")
    files = sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    if not files:
        raise InputError(f"{args.dir}: no case files (.yaml)")
    results = [run_case(path, folder, rules) for path in files]
    failed = [r for r in results if not r.ok]
    if args.format == "json":
        dump_json(
            {
                "passed": len(results) - len(failed),
                "failed": len(failed),
                "cases": [
                    {"name": r.name, "ok": r.ok, "failures": r.failures, "error": r.error} for r in results
                ],
            },
            out,
        )
    else:
        for r in results:
            out.write(f"{'ok  ' if r.ok else 'FAIL'} {r.name}\n")
            for line in [*([r.error] if r.error else []), *r.failures]:
                out.write(f"       {line}\n")
        out.write(f"{len(results) - len(failed)} passed, {len(failed)} failed\n")
    if args.junit:
        write_junit(results, Path(args.junit))
    return EXIT_RULES if failed else EXIT_OK


def run_case(path: Path, root: Path, rules: Any) -> CaseResult:
    from tagwarden.cli.explain import explain_events

    result = CaseResult(str(path.relative_to(root)))
    started = time.perf_counter()
    try:
        case = _load_case(path, rules)
        reports = explain_events(case["event"], rules, case["lookups"])
        decisions = [d for rep in reports for d in rep["decisions"]]
        result.failures = compare(case["expect"], decisions)
    except (InputError, ValueError) as exc:
        result.error = str(exc)
    except Exception as exc:  # a rules error, a malformed event: the case fails, the run goes on
        result.error = f"{type(exc).__name__}: {exc}"
    result.seconds = time.perf_counter() - started
    return result


def _load_case(path: Path, rules: Any) -> dict[str, Any]:
    import json

    import yaml

    from tagwarden.cli.lookups import FileLookups, parse

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: cannot read the case: {exc}") from exc
    if not isinstance(data, dict) or "event" not in data or "expect" not in data:
        raise InputError(f"{path}: a case needs `event` and `expect`")
    unknown = sorted(set(data) - set(CASE_KEYS))
    if unknown:
        raise InputError(f"{path}: unknown key(s) {', '.join(unknown)}; a case has {', '.join(CASE_KEYS)}")
    event = data["event"]
    if isinstance(event, str):
        try:
            event = json.loads((path.parent / event).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"{path}: event {data['event']}: {exc}") from exc
    lookups = FileLookups()
    if data.get("lookups") is not None:
        lookups = parse(yaml.safe_dump(data["lookups"]), f"{path} (lookups)", rules.tags.keys())
    expect = data["expect"]
    if not isinstance(expect, list) or not all(isinstance(e, dict) for e in expect):
        raise InputError(f"{path}: `expect` is a list of mappings ({', '.join(EXPECT_KEYS)})")
    for entry in expect:
        bad = sorted(set(entry) - set(EXPECT_KEYS))
        if bad:
            raise InputError(
                f"{path}: unknown expect key(s) {', '.join(bad)}; known: {', '.join(EXPECT_KEYS)}"
            )
    return {"event": event, "lookups": lookups, "expect": expect}


def compare(expect: list[dict[str, Any]], decisions: list[dict[str, Any]]) -> list[str]:
    """Readable differences between what a case expects and what the rules decided."""
    failures: list[str] = []
    if not decisions:
        return ["expected a decision, got none (the event was skipped or names no resource)"]
    for entry in expect:
        pattern = str(entry.get("resource", "*"))
        matched = [d for d in decisions if fnmatch.fnmatchcase(d["resource"]["id"], pattern)]
        if not matched:
            ids = ", ".join(d["resource"]["id"] for d in decisions)
            failures.append(f"resource {pattern!r}: no resource matches (the event created: {ids})")
        for d in matched:
            failures += [f"{d['resource']['id']}: {line}" for line in _diff(entry, d)]
    return failures


def _diff(entry: dict[str, Any], d: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for key in ("action", "rule"):
        if key in entry and str(entry[key]) != str(d[key]):
            lines.append(f"{key}: expected {entry[key]!r}, got {d[key]!r}")
    for tag, value in (entry.get("tags") or {}).items():
        got = d["tags"].get(tag)
        if got != str(value):
            lines.append(
                f"tags.{tag}: expected {str(value)!r}, got {got!r}" + ("" if got else " (not written)")
            )
    if "missing" in entry:
        want = sorted(map(str, entry["missing"] or []))
        got_missing = sorted(p["key"] for p in d["missing"])
        if want != got_missing:
            lines.append(f"missing: expected {want}, got {got_missing}")
    return lines


def write_junit(results: list[CaseResult], path: Path) -> None:
    """JUnit XML, the report format CI systems (GitHub, GitLab, Jenkins) display per test."""
    suite = ET.Element(
        "testsuite",
        name="tagwarden rules",
        tests=str(len(results)),
        failures=str(sum(1 for r in results if r.failures and not r.error)),
        errors=str(sum(1 for r in results if r.error)),
        time=f"{sum(r.seconds for r in results):.3f}",
    )
    for r in results:
        case = ET.SubElement(suite, "testcase", classname="rules", name=r.name, time=f"{r.seconds:.3f}")
        if r.error:
            ET.SubElement(case, "error", message=r.error).text = r.error
        elif r.failures:
            ET.SubElement(case, "failure", message=r.failures[0]).text = "\n".join(r.failures)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree = ET.ElementTree(suite)
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
