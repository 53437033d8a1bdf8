"""Render one `Notification` for every channel: the versioned JSON, an email subject and body, SNS
message attributes, the Amazon Q Developer (AWS Chatbot) custom notification, a Teams Adaptive Card.

Pure: no SDK, no clock, no randomness. The same notification always renders to the same bytes
(tests/lifecycle/golden holds them), and every renderer says the same things: what happened, to
which resource, who created it, which tags are missing or invalid, the deadline, and the exact CLI
command that adds the tags.

Wire format (`to_json`): {"schema": "tagwarden.notification", "version": "1", ...}. Adding a key is
compatible; renaming, removing or changing the meaning of one needs a new `version`.

Channel formats followed:
- SNS Publish: Subject must be ASCII (7-bit) text without line breaks or control characters and
  under 100 characters; message attribute values must not be empty.
- Amazon Q Developer in chat applications custom notifications: version "1.0", source "custom",
  content.textType "client-markdown", title / description / nextSteps / keywords, and metadata
  threadId / summary / eventType / relatedResources / additionalContext (string values).
- Teams Workflows webhook ("When a Teams webhook request is received"): a message activity,
  {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
  "contentUrl": null, "content": <AdaptiveCard>}]}; Workflows posts Adaptive Cards only (no
  MessageCard), and Action.Submit does nothing there, so the card carries no actions.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from tagwarden.lifecycle.ports import Notification

SCHEMA = "tagwarden.notification"
SUBJECT_MAX = 99  # SNS: "less than 100 characters"
ADAPTIVE_CARD_VERSION = "1.4"
ADAPTIVE_CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"


# --- kinds ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Kind:
    title: str  # short headline (subject, card title)
    done: str  # what happened, in one sentence ({action}: the notification's action)
    dry: str  # the same in a dry run: what would have happened
    style: str  # Adaptive Card container style: good | warning | attention | accent
    wants_fix: bool = True  # whether the message asks the reader to add tags


KINDS: dict[str, Kind] = {
    "tagged-as-unallocated": Kind(
        "Tagged as unallocated",
        "tagwarden could not tell who this resource belongs to, so it tagged the missing keys "
        "as unallocated.",
        "tagwarden could not tell who this resource belongs to and would have tagged the missing "
        "keys as unallocated.",
        "warning",
    ),
    "quarantined": Kind(
        "Quarantined",
        "tagwarden quarantined this resource because required tags are missing or invalid.",
        "tagwarden would have quarantined this resource because required tags are missing or invalid.",
        "attention",
    ),
    "released": Kind(
        "Released from quarantine",
        "tagwarden released this resource from quarantine.",
        "tagwarden would have released this resource from quarantine.",
        "good",
        wants_fix=False,
    ),
    "deleted": Kind(
        "Deleted",
        "tagwarden deleted this resource: its grace period ended and required tags were still "
        "missing or invalid.",
        "tagwarden would have deleted this resource: its grace period ended and required tags were "
        "still missing or invalid.",
        "attention",
        wants_fix=False,
    ),
    "failed": Kind(
        "Action failed",
        "tagwarden tried to {action} this resource and failed; a person needs to look at it.",
        "tagwarden could not plan to {action} this resource (dry run); a person needs to look at it.",
        "attention",
    ),
    # Runaway agents (tagwarden.runaway.messages): the detail carries the facts and the release command.
    "runaway": Kind(
        "Runaway agent",
        "An agent crossed a limit on what it creates, spends or uses.",
        "An agent crossed a limit on what it creates, spends or uses (dry run: no brake applied).",
        "attention",
        wants_fix=False,
    ),
    "brake-released": Kind(
        "Brake released",
        "A brake on an agent was lifted.",
        "A brake on an agent would have been lifted.",
        "good",
        wants_fix=False,
    ),
    "notify": Kind(
        "Missing tags",
        "This resource is missing required tags or has invalid ones. Nothing was changed.",
        "This resource is missing required tags or has invalid ones. Nothing was changed.",
        "warning",
    ),
}


def kind_of(n: Notification) -> Kind:
    known = KINDS.get(n.kind)
    if known is not None:
        return known
    title = n.kind.replace("-", " ").strip().capitalize() or "Notification"
    return Kind(title, f"tagwarden: {title.lower()}.", f"tagwarden (dry run): {title.lower()}.", "accent")


def headline(n: Notification) -> str:
    """The one sentence saying what happened (or, in a dry run, what would have)."""
    k = kind_of(n)
    return (k.dry if n.dry_run else k.done).format(action=n.action or "act on")


# --- the fix command ------------------------------------------------------------------------------


def fix_for(n: Notification) -> str:
    """The notification's fix command: built by the adapter that sent it (its CloudText)."""
    return n.fix


# --- recipients -----------------------------------------------------------------------------------

_EMAIL = re.compile(r"[A-Za-z0-9.!$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def recipients(n: Notification) -> tuple[str, ...]:
    """Who gets a personal copy: the creator's email / UPN, lower-cased, when there is one.

    Taken from `creator_address`, else from `creator` when that is itself an address (an Entra ID
    UPN) or an AWS session whose name is one (IAM Identity Center: assumed-role/<role>/<email>).
    Guest UPNs (`...#EXT#@tenant.onmicrosoft.com`) receive no mail and are left out.
    """
    for candidate in (n.creator_address, n.creator, _session_name(n.creator)):
        if candidate and _EMAIL.fullmatch(candidate.strip()):
            return (candidate.strip().lower(),)
    return ()


def _session_name(creator: str | None) -> str | None:
    if creator and creator.startswith("arn:") and ":assumed-role/" in creator:
        return creator.rsplit("/", 1)[-1]
    return None


# --- the wire format ------------------------------------------------------------------------------


def to_json(n: Notification) -> dict[str, Any]:
    """The versioned, structured message: every field, plus the fix command and the recipients."""
    body: dict[str, Any] = {
        "kind": n.kind,
        "provider": str(n.provider),
        "resource_id": n.resource_id,
        "resource_type": n.resource_type,
        "resource_name": short_name(n),
        "account": n.account,
        "region": n.region,
        "creator": n.creator,
        "creator_address": n.creator_address,
        "recipients": list(recipients(n)),
        "rule": n.rule,
        "missing": list(n.missing),
        "invalid": list(n.invalid),
        "action": n.action,
        "deadline": n.deadline,
        "dry_run": n.dry_run,
        "detail": n.detail,
        "fix": fix_for(n),
        "extra": _jsonable(n.extra),
    }
    return {"schema": SCHEMA, "version": Notification.VERSION, "id": _digest(body, 32), **body}


def notification_id(n: Notification) -> str:
    """Stable id: the same notification always gets the same one (a hash of its content)."""
    return str(to_json(n)["id"])


def thread_id(n: Notification) -> str:
    """One thread per resource, so quarantined -> released / deleted read as one conversation."""
    return "tagwarden-" + hashlib.sha256(n.resource_id.encode()).hexdigest()[:16]


def _digest(value: Any, size: int) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:size]


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, sort_keys=True))


# --- facts shared by the renderers ------------------------------------------------------------------


def short_name(n: Notification) -> str:
    """The resource's own name: an ARN's or resource id's last segment."""
    rid = n.resource_id[:-2] if n.resource_id.endswith(":*") else n.resource_id
    rid = rid.rstrip("/")
    tail = rid.rsplit("/", 1)[-1]
    if rid.startswith("arn:") and "/" not in rid:
        tail = rid.rsplit(":", 1)[-1]
    return tail or n.resource_id


def facts(n: Notification) -> list[tuple[str, str]]:
    """(label, value) pairs, in reading order, for every field that has a value."""
    rows: list[tuple[str, str | None]] = [
        ("Resource", n.resource_id),
        ("Type", n.resource_type),
        (n.account_label, n.account),
        (n.region_label, n.region),
        ("Created by", n.creator),
        ("Missing tags", ", ".join(n.missing)),
        ("Invalid tags", ", ".join(n.invalid)),
        ("Rule", n.rule),
        ("Action", n.action + (" (dry run)" if n.dry_run and n.action else "")),
        ("Deadline", n.deadline),
    ]
    return [(label, value) for label, value in rows if value]


def deadline_sentence(n: Notification) -> str:
    """The call to act by the deadline (kinds that ask for tags; the facts list it for the rest)."""
    if not n.deadline or not kind_of(n).wants_fix:
        return ""
    return f"Add the tags before {n.deadline}."


DRY_RUN_BANNER = "DRY RUN: nothing was changed. This is what tagwarden would have done."


# --- email: subject and body ------------------------------------------------------------------------


def subject(n: Notification) -> str:
    """A one-line subject: ASCII, no control characters, at most 99 characters (SNS rules)."""
    prefix = "[tagwarden] " + ("[dry run] " if n.dry_run else "")
    title = kind_of(n).title
    name = _ascii(short_name(n))
    account = _ascii(n.account)
    rtype = _ascii(n.resource_type)
    candidates = [
        f"{prefix}{title}: {name} ({rtype}) in {account}",
        f"{prefix}{title}: {name} in {account}",
        f"{prefix}{title}: {name}",
    ]
    for text in candidates:
        if len(text) <= SUBJECT_MAX:
            return text
    return candidates[-1][: SUBJECT_MAX - 3].rstrip() + "..."


def _ascii(text: str) -> str:
    """Printable ASCII only: accents folded, anything else '?', whitespace runs as one space."""
    folded = unicodedata.normalize("NFKD", text)
    out = []
    for ch in folded:
        if unicodedata.combining(ch):
            continue
        if ch.isspace():
            out.append(" ")
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.append("?")
    return " ".join("".join(out).split())


def body(n: Notification) -> str:
    """The human-readable text (email): what happened, the facts, the deadline, the fix."""
    lines: list[str] = []
    if n.dry_run:
        lines += [DRY_RUN_BANNER, ""]
    lines += [headline(n), ""]
    width = max((len(label) for label, _ in facts(n)), default=0) + 2
    lines += [f"{label + ':':<{width}}{value}" for label, value in facts(n)]
    if n.detail:
        lines += ["", n.detail]
    sentence = deadline_sentence(n)
    if sentence:
        lines += ["", sentence]
    fix = fix_for(n)
    if fix:
        lines += ["", "How to fix it: add the tags with real values, for example with", "", "    " + fix]
    lines += ["", "--", f"tagwarden notification v{Notification.VERSION} ({n.kind}) {notification_id(n)}"]
    return "\n".join(lines) + "\n"


# --- SNS ------------------------------------------------------------------------------------------


def sns_attributes(n: Notification) -> dict[str, dict[str, str]]:
    """MessageAttributes for subscription filter policies (String values; empty ones left out)."""
    values = {
        "kind": n.kind,
        "provider": str(n.provider),
        "account": n.account,
        "rule": n.rule,
        "action": n.action,
        "resource_type": n.resource_type,
        "dry_run": "true" if n.dry_run else "false",
    }
    return {k: {"DataType": "String", "StringValue": v} for k, v in values.items() if v}


# --- Amazon Q Developer in chat applications (AWS Chatbot) ----------------------------------------


def chatbot(n: Notification) -> dict[str, Any]:
    """The custom-notification event Amazon Q Developer renders in Slack / Teams / Chime."""
    description = [headline(n), ""]
    if n.dry_run:
        description.insert(0, "*" + DRY_RUN_BANNER + "*")
    description += [f"*{label}:* {_md_value(label, value)}" for label, value in facts(n)]
    if n.detail:
        description += ["", n.detail]
    steps: list[str] = []
    fix = fix_for(n)
    if fix:
        steps.append(f"Add the tags with real values: `{fix}`")
    sentence = deadline_sentence(n)
    if sentence:
        steps.append(sentence)
    content: dict[str, Any] = {
        "textType": "client-markdown",
        "title": ("[dry run] " if n.dry_run else "") + f"{kind_of(n).title}: {short_name(n)}",
        "description": "\n".join(description),
    }
    if steps:
        content["nextSteps"] = steps
    content["keywords"] = [k for k in (n.kind, str(n.provider), n.rule, "dry-run" if n.dry_run else "") if k]
    context = {
        "schema": SCHEMA,
        "version": Notification.VERSION,
        "kind": n.kind,
        "account": n.account,
        "region": n.region,
        "resourceType": n.resource_type,
        "rule": n.rule,
        "action": n.action,
        "creator": n.creator,
        "deadline": n.deadline,
        "dryRun": "true" if n.dry_run else "false",
    }
    return {
        "version": "1.0",
        "source": "custom",
        "id": notification_id(n),
        "content": content,
        "metadata": {
            "threadId": thread_id(n),
            "summary": subject(n),
            "eventType": n.kind,
            "relatedResources": [n.resource_id],
            "additionalContext": {k: v for k, v in context.items() if v},
        },
    }


def _md_value(label: str, value: str) -> str:
    return f"`{value}`" if label in ("Resource", "Created by") else value


# --- Teams (Workflows webhook): Adaptive Card -----------------------------------------------------


def adaptive_card(n: Notification) -> dict[str, Any]:
    """The Teams Workflows webhook payload: a message with one Adaptive Card attachment."""
    k = kind_of(n)
    card_body: list[dict[str, Any]] = []
    if n.dry_run:
        card_body.append(
            {
                "type": "Container",
                "style": "warning",
                "items": [_text(DRY_RUN_BANNER, weight="Bolder")],
            }
        )
    card_body.append(
        {
            "type": "Container",
            "style": k.style,
            "bleed": True,
            "items": [
                _text(f"{k.title}: {short_name(n)}", size="Large", weight="Bolder"),
                _text(headline(n)),
            ],
        }
    )
    card_body.append({"type": "FactSet", "facts": [{"title": t, "value": v} for t, v in facts(n)]})
    if n.detail:
        card_body.append(_text(n.detail, isSubtle=True))
    sentence = deadline_sentence(n)
    if sentence:
        card_body.append(_text(sentence, weight="Bolder"))
    fix = fix_for(n)
    if fix:
        card_body.append(
            _text("How to fix it: add the tags with real values", weight="Bolder", spacing="Medium")
        )
        card_body.append(_text(fix, fontType="Monospace"))
    card_body.append(
        _text(
            f"tagwarden notification v{Notification.VERSION} ({n.kind}) {notification_id(n)}",
            size="Small",
            isSubtle=True,
            spacing="Medium",
        )
    )
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": ADAPTIVE_CARD_VERSION,
        "msteams": {"width": "Full"},
        "body": card_body,
    }
    return {
        "type": "message",
        "attachments": [{"contentType": ADAPTIVE_CARD_CONTENT_TYPE, "contentUrl": None, "content": card}],
    }


def _text(text: str, **props: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **props}


def render_all(n: Notification) -> dict[str, Any]:
    """Every rendering at once (golden tests, the CLI, debugging)."""
    return {
        "subject": subject(n),
        "json": to_json(n),
        "sns_attributes": sns_attributes(n),
        "chatbot": chatbot(n),
        "adaptive_card": adaptive_card(n),
    }
