"""Machine mail: automatic replies (RFC 3834 and vendor headers) and bounces (RFC 3464, NDRs).

Pure: a ParsedMessage and the rules table in, a verdict out. `X-Auto-Response-Suppress`
alone is not evidence: Outlook puts it on ordinary human replies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from worker.inbox.parse import DeliveryStatus, ParsedMessage
from worker.inbox.reply_rules import MachineRules

STATUS_RE = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
SMTP_CODE_RE = re.compile(r"\b([45])\d\d\b")


@dataclass(frozen=True)
class MachineVerdict:
    kind: str | None  # auto_reply | bounce | None (a person wrote it)
    reasons: tuple[str, ...] = ()
    failed_recipient: str | None = None
    status: str | None = None
    permanent: bool | None = None  # None: a bounce whose status could not be read
    diagnostic: str = ""


def _first_word(value: str) -> str:
    return re.split(r"[\s;,(]", value.strip(), maxsplit=1)[0].strip().lower() if value.strip() else ""


def auto_reply_reasons(msg: ParsedMessage, rules: MachineRules) -> list[str]:
    """Which automatic-reply headers (or subject) this message carries."""
    reasons: list[str] = []
    for entry in rules.headers:
        name = str(entry["header"])
        if name.lower() in rules.not_evidence:
            continue
        for value in msg.header_all(name):
            token = _first_word(value)
            if not token:
                continue
            if entry.get("any"):
                hit = True
            elif "values" in entry:
                hit = token in {str(v).lower() for v in entry["values"]} or value.strip().lower() in {str(v).lower() for v in entry["values"]}
            elif "not" in entry:
                hit = token not in {str(v).lower() for v in entry["not"]}
            else:
                hit = False
            if hit:
                reasons.append(f"{name}: {value.strip()[:60]}")
                break
    if not reasons and rules.auto_subjects.search(msg.subject or ""):
        reasons.append(f"subject: {msg.subject[:60]}")
    return reasons


def _bounce_from_report(entries: list[DeliveryStatus]) -> tuple[DeliveryStatus | None, bool]:
    """(the entry that matters, whether any recipient failed or was delayed)."""
    failed = [e for e in entries if e.action == "failed" or e.status.startswith("5")]
    delayed = [e for e in entries if e.action == "delayed" or e.status.startswith("4")]
    if failed:
        return failed[0], True
    if delayed:
        return delayed[0], True
    return (entries[0] if entries else None), False


def _ndr_recipient(text: str, rules: MachineRules) -> str | None:
    for pattern in rules.ndr_recipient_lines:
        match = pattern.search(text)
        if match:
            addr = match.group("addr").strip("<>.,;:'\"()[]").lower()
            if "@" in addr:
                return addr
    return None


def detect_machine(msg: ParsedMessage, rules: MachineRules) -> MachineVerdict:
    """Is this a bounce, an automatic reply, or mail a person wrote?"""
    report = (msg.report_type or "").lower()
    if report in rules.notice_report_types:
        return MachineVerdict("auto_reply", (f"report-type={report}",))
    is_report = msg.content_type == "multipart/report" and report == "delivery-status"
    looks_ndr = bool(rules.bounce_senders.search(msg.from_addr or "")) and bool(
        rules.bounce_subjects.search(msg.subject or "")
    )
    empty_return = (msg.header("Return-Path") or "").strip() in ("<>", "")
    if not looks_ndr and empty_return and msg.header("Return-Path") is not None:
        looks_ndr = bool(rules.bounce_subjects.search(msg.subject or ""))
    if is_report or looks_ndr or (msg.delivery_status and rules.bounce_subjects.search(msg.subject or "")):
        return _bounce(msg, rules, "multipart/report" if is_report else "NDR")
    reasons = auto_reply_reasons(msg, rules)
    if reasons:
        return MachineVerdict("auto_reply", tuple(reasons))
    return MachineVerdict(None)


def _bounce(msg: ParsedMessage, rules: MachineRules, how: str) -> MachineVerdict:
    entry, failing = _bounce_from_report(msg.delivery_status)
    if msg.delivery_status and not failing:
        # A success report ("delivered", "relayed"): a notice, not a failure.
        return MachineVerdict("auto_reply", (f"{how}: delivery notice ({entry.action if entry else '?'})",))
    recipient = entry.recipient if entry else _ndr_recipient(msg.text, rules)
    status = entry.status if entry and entry.status else None
    if not status:
        found = STATUS_RE.search((entry.diagnostic if entry else "") + "\n" + msg.text)
        status = ".".join(found.groups()) if found else None
    permanent: bool | None
    if entry and entry.action == "failed":
        permanent = True
    elif entry and entry.action == "delayed":
        permanent = False
    elif status:
        permanent = status.startswith("5")
    else:
        code = SMTP_CODE_RE.search(msg.text)
        delayed_subject = re.search(r"\bdelay", msg.subject or "", re.I)
        permanent = False if delayed_subject else (code.group(1) == "5" if code else None)
    return MachineVerdict(
        "bounce",
        (how,),
        failed_recipient=recipient,
        status=status,
        permanent=permanent,
        diagnostic=(entry.diagnostic if entry else "")[:300],
    )
