"""Ingest: every message in the Service mailbox is read once, stored whole, classified, recorded.

Exactly once: a message is recorded by (mailbox, UIDVALIDITY, UID) and by Message-ID (synthesised
from the content when missing) in one transaction, and only after that commit is it moved to the
processed folder. A crash between the two leaves it in the inbox; the next poll sees its key is
recorded and just moves it. A new UIDVALIDITY means every message looks new: the Message-ID then
says which ones were already processed (with the same content, less the trace headers each
delivery adds; a Message-ID reused for other content is kept too, for a person to look at).
Nothing is lost: what cannot be parsed or classified is kept whole in quarantine with its
error, and a person is told; a failure half-way through a case change leaves none of it behind.
"""

from __future__ import annotations

import email
import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from worker.app import App
from worker.cases.replies import apply_reply
from worker.clock import describe_local, local_date
from worker.db.models import Case, InboxMessage
from worker.errors import NotFound, SourceError
from worker.inbox.classify import classify_message
from worker.inbox.directory import DbCaseDirectory, case_number
from worker.inbox.parse import ParsedMessage, UnparseableMessage, parse_message
from worker.inbox.reply_rules import load_reply_rules
from worker.inbox.source import RawMessage
from worker.outbox.compose import Email, address_of, render_parts
from worker.outbox.message_ids import make_message_id
from worker.outbox.store import enqueue
from worker.people import load_staff

log = logging.getLogger(__name__)


@dataclass
class IngestResult:
    processed: int = 0
    duplicates: int = 0
    quarantined: int = 0
    dropped: int = 0
    moved_late: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def did_work(self) -> bool:
        return bool(self.processed or self.quarantined or self.dropped or self.duplicates or self.moved_late)


def synthetic_id(raw: bytes) -> str:
    """The id of a message that has none (or cannot be read): a hash of its content, less the
    trace headers, so a second delivery of the same message gets the same id."""
    return f"<sha256-{content_sha(raw)}@synthesised.invalid>"


def message_id_of(parsed: ParsedMessage | None, raw: bytes) -> str:
    """The id a message is recorded under (the column holds 998: room for a "#<hash>" suffix)."""
    if parsed is None or parsed.message_id_synthesised:
        return synthetic_id(raw)
    return parsed.message_id[:980]


# Headers each delivery adds on top of the message (RFC 5321 trace, and what MDAs add).
TRACE_HEADERS = frozenset({b"received", b"return-path", b"delivered-to", b"x-original-to", b"x-delivered-to"})


def content_sha(raw: bytes) -> str:
    """sha256 of the message less the trace headers on top of it.

    The same message delivered twice (to two of our addresses, or again after a mailbox was
    rebuilt from another copy) differs only in those headers: it is a duplicate, not a
    Message-ID reused for different content.
    """
    rest = raw
    while True:
        line_end = rest.find(b"\n")
        if line_end < 0:
            break
        name = rest[:line_end].split(b":", 1)[0].strip().lower()
        if name not in TRACE_HEADERS or b":" not in rest[:line_end]:
            break
        # The header and its continuation lines (starting with a space or a tab).
        end = line_end + 1
        while end < len(rest) and rest[end:end + 1] in (b" ", b"\t"):
            next_end = rest.find(b"\n", end)
            end = len(rest) if next_end < 0 else next_end + 1
        rest = rest[end:]
    return hashlib.sha256(rest).hexdigest()


def ingest(app: App, at: datetime) -> IngestResult:
    """Poll the source once and process what is new.

    The source lists everything still in the inbox (no `already_done`): a message recorded
    before a crash but not moved out must come back, to be moved now (`moved_late`), or it
    would sit in the inbox for ever. One message that cannot be moved does not hold up the
    others; the poll then ends with a SourceError naming it, after the rest were processed.
    """
    result = IngestResult()
    source = app.source
    if source is None:
        return result
    with app.sessions() as session:
        done = {(m, v, u) for m, v, u in session.execute(
            select(InboxMessage.mailbox, InboxMessage.uidvalidity, InboxMessage.uid))}
    unmoved: list[str] = []
    try:
        for raw in source.fetch():
            key = (raw.mailbox, raw.uidvalidity, raw.uid)
            if key not in done:
                outcome = process(app, raw, at)
                setattr(result, outcome, getattr(result, outcome) + 1)
                done.add(key)
            else:
                result.moved_late += 1
            try:
                source.mark_processed(raw)  # only after the commit above
            except SourceError as exc:
                log.warning("inbox: message %s is recorded but could not be moved: %s", raw.uid, exc)
                unmoved.append(f"{raw.mailbox} UID {raw.uid}: {exc}")
    finally:
        source.close()
    if unmoved:
        result.errors += unmoved
        raise SourceError(f"{len(unmoved)} recorded message(s) could not be moved out of the inbox "
                          f"(they are not processed again): {unmoved[0]}", unmoved=unmoved)
    return result


def process(app: App, raw: RawMessage, at: datetime) -> str:
    """Store and classify one message in one transaction. Returns the IngestResult counter to bump."""
    sha = content_sha(raw.raw)
    parsed: ParsedMessage | None = None
    error: str | None = None
    try:
        parsed = parse_message(raw.raw)
    except UnparseableMessage as exc:
        error = f"unparseable: {exc}"
    except Exception as exc:  # noqa: BLE001 - a parser bug must not lose the message
        error = f"parser failure {type(exc).__name__}: {exc}"
    message_id = message_id_of(parsed, raw.raw)
    if _duplicate_of(app, message_id, sha) is not None:
        return "duplicates"  # before any import: a report seen again is not imported twice
    imported: list[str] = []
    if parsed is not None and _is_arbor_report(app, parsed):
        # Its own transactions: a crash before the commit below imports the same bytes again on
        # the next poll, which the importer treats as a repeat (it only fills in missing rows).
        imported = _import_attachments(app, raw.raw, at)
    for attempt in (1, 2):
        try:
            with app.sessions.begin() as session:
                return _store(app, session, raw, parsed, error, message_id, sha, imported, at)
        except IntegrityError:
            # Another worker recorded the same message (same UID or Message-ID) a moment ago:
            # look again, now that its row is there.
            if attempt == 2:
                raise
            log.info("inbox: %s was recorded by another worker meanwhile", _safe(message_id))
    raise AssertionError("unreachable")  # pragma: no cover


def _store(app: App, session: Session, raw: RawMessage, parsed: ParsedMessage | None, error: str | None,
           message_id: str, sha: str, imported: list[str], at: datetime) -> str:
    existing = session.scalar(select(InboxMessage).where(InboxMessage.message_id == message_id))
    reused = False
    if existing is not None:
        if existing.sha256 in (sha, None):
            log.info("inbox: %s already processed as item %s (duplicate)", _safe(message_id), existing.id)
            return "duplicates"
        reused, message_id = True, _reused_id(message_id, sha)
        if session.scalar(select(InboxMessage.id).where(InboxMessage.message_id == message_id)) is not None:
            log.info("inbox: %s already kept under a reused Message-ID (duplicate)", _safe(message_id))
            return "duplicates"
    if session.scalar(select(InboxMessage.id).where(
        InboxMessage.mailbox == raw.mailbox, InboxMessage.uidvalidity == raw.uidvalidity, InboxMessage.uid == raw.uid,
    )) is not None:
        log.info("inbox: %s UID %s was recorded by another worker (duplicate)", raw.mailbox, raw.uid)
        return "duplicates"
    item = InboxMessage(
        mailbox=raw.mailbox, uidvalidity=raw.uidvalidity, uid=raw.uid, message_id=message_id,
        sha256=sha, raw=raw.raw, received_at=at, status="processed",
        sender=parsed.from_addr if parsed else None, subject=parsed.subject[:1000] if parsed else None,
    )
    session.add(item)
    session.flush()  # a clash with another worker's row shows here, before any case changes
    if parsed is None:
        return _quarantine(app, session, item, error or "unparseable", at)
    if imported:
        item.kind = "arbor_report"
        item.result = {"kind": "arbor_report", "imported": imported, "needs_review": False}
        return "processed"
    try:
        # A savepoint: a failure half-way must not leave half of a case change behind.
        with session.begin_nested():
            return _classify_and_apply(app, session, item, parsed, at, reused)
    except Exception as exc:  # noqa: BLE001 - keep the message whole for a person
        log.exception("inbox item could not be classified")
        return _quarantine(app, session, item, f"classification failed {type(exc).__name__}: {exc}", at)


def _reused_id(message_id: str, sha: str) -> str:
    """Where a message is kept whose Message-ID another, different message already has."""
    return f"{message_id}#{sha[:12]}"


def _duplicate_of(app: App, message_id: str, sha: str) -> int | None:
    """The item that already holds this message (same Message-ID, same content), if any."""
    with app.sessions() as session:
        row = session.execute(
            select(InboxMessage.id, InboxMessage.sha256).where(InboxMessage.message_id == message_id)
        ).first()
        if row is not None and row.sha256 not in (sha, None):
            row = session.execute(
                select(InboxMessage.id, InboxMessage.sha256).where(InboxMessage.message_id == _reused_id(message_id, sha))
            ).first()
    if row is None:
        return None
    log.info("inbox: %s already processed as item %s (duplicate)", _safe(message_id), row.id)
    return row.id


def _classify_and_apply(app: App, session: Session, item: InboxMessage, parsed: ParsedMessage,
                        at: datetime, reused: bool) -> str:
    directory = DbCaseDirectory(session, app.settings)
    rules = load_reply_rules(str(app.rules_dir))
    verdict = classify_message(parsed, directory, rules, secret=app.secret,
                               loop_header=app.settings.service.loop_header, received_at=at)
    if verdict.kind == "loop":
        item.status, item.kind = "dropped", "loop"
        item.result = verdict.to_json()
        log.warning("inbox: dropped %s: it carries our own loop header", _safe(item.message_id))
        return "dropped"
    result: dict[str, Any] = verdict.to_json()
    sender = address_of(parsed.from_addr or "")
    result["from_service"] = sender in directory.service_addresses() or parsed.sender_domain.lower() in directory.service_domains()
    if verdict.kind == "bounce":
        result["original_message_id"] = parsed.returned_header("Message-ID")
        result["permanent"] = bool(verdict.bounce_permanent) if verdict.bounce_permanent is not None else True
        result["status"] = verdict.bounce_status
        result["role"] = verdict.failed_role
    if reused:
        result["needs_review"] = True
        result["review_reasons"] = [*result.get("review_reasons", []), "Message-ID reused with different content"]
    number = case_number(verdict.case_ref) if verdict.case_ref else None
    item.case_id = number if number is not None and session.get(Case, number) is not None else None
    item.kind = verdict.kind
    item.needs_review = bool(result.get("needs_review"))
    item.result = result
    session.flush()
    what = apply_reply(app, session, item, result, at)
    log.info("inbox item %s: %s%s: %s", item.id, verdict.kind, f" {verdict.case_ref}" if verdict.case_ref else "", what)
    return "processed"


def _quarantine(app: App, session: Session, item: InboxMessage, error: str, at: datetime) -> str:
    item.status = "quarantined"
    item.error = error[:2000]
    item.review_state = None
    session.flush()
    log.warning("inbox item %s quarantined: %s", item.id, error[:200])
    staff = load_staff(session)
    to = staff.emails("attendance_lead") or staff.emails("dsl")
    if to:
        subject, text, html = render_parts(app.templates_dir, "quarantine", {
            "item_id": item.id, "received": describe_local(at), "error": error[:500]})
        email_ = Email(kind="quarantine_alert", from_addr=app.settings.service.mailbox,
                       from_name=app.settings.service.mailbox_name, to=to, subject=subject, text=text,
                       html=html, date=at,
                       message_id=make_message_id("quarantine", str(item.id), at, app.secret,
                                                  app.settings.service.domain))
        # One alert a day at most (a flood of junk must not flood the lead); the digest lists them all.
        enqueue(session, email_, idem_key=f"quarantine_alert:{local_date(at).isoformat()}",
                loop_header=app.settings.service.loop_header, at=at)
    return "quarantined"


def replay(app: App, item_id: int, at: datetime) -> str:
    """Process a quarantined (or any) stored message again, after a fix."""
    with app.sessions.begin() as session:
        item = session.get(InboxMessage, item_id)
        if item is None:
            raise NotFound(f"no inbox item {item_id}")
        if item.status == "processed" and item.kind not in (None,):
            return f"item {item_id} was already processed as {item.kind}; nothing to do"
        try:
            parsed = parse_message(item.raw or b"")
        except Exception as exc:  # noqa: BLE001
            item.error = f"still unparseable: {exc}"[:2000]
            return f"item {item_id} still cannot be parsed: {exc}"
        message_id = message_id_of(parsed, item.raw or b"")
        if message_id != item.message_id and session.scalar(
            select(InboxMessage.id).where(InboxMessage.message_id == message_id)
        ) is None:
            # The item was filed under a made-up id when it could not be read; under its own id
            # the same message fetched again later (a new UIDVALIDITY) is known as done.
            item.message_id = message_id
        item.status, item.error = "processed", None
        item.sender, item.subject = parsed.from_addr, parsed.subject[:1000]
        try:
            with session.begin_nested():
                _classify_and_apply(app, session, item, parsed, at, reused=False)
        except Exception as exc:  # noqa: BLE001
            item.status, item.error = "quarantined", f"classification failed {type(exc).__name__}: {exc}"[:2000]
            return f"item {item_id} still fails: {exc}"
        return f"item {item_id} processed: {item.kind}" + (" (waiting for review)" if item.review_state == "pending" else "")


def _is_arbor_report(app: App, parsed: ParsedMessage) -> bool:
    """From a configured Arbor sender, with one unambiguous From, and (by default) DMARC passed
    according to our own mail server: a forged report must not change a single mark."""
    imports = app.settings.imports
    senders = {address_of(s) for s in imports.arbor_report_senders}
    if not senders or parsed.sender_problem or address_of(parsed.from_addr or "") not in senders:
        return False
    return not imports.arbor_report_require_dmarc or dmarc_passed(parsed, imports.trusted_authserv_id)


def dmarc_passed(parsed: ParsedMessage, authserv_id: str = "") -> bool:
    """DMARC pass in the Authentication-Results our server added (the topmost, or the one with
    our authserv-id): headers lower down may have been written by anyone."""
    values = parsed.header_all("Authentication-Results")
    if authserv_id:
        values = [v for v in values if v.split(";", 1)[0].strip().lower() == authserv_id.lower()]
    return bool(values) and re.search(r"\bdmarc\s*=\s*pass\b", values[0], re.IGNORECASE) is not None


def _import_attachments(app: App, raw: bytes, at: datetime) -> list[str]:
    from worker.imports.runner import import_bytes

    message = email.message_from_bytes(raw, policy=policy.default)
    done = []
    for part in message.iter_attachments():
        name = part.get_filename() or ""
        if not name.lower().endswith(".csv") and part.get_content_type() not in ("text/csv", "application/csv"):
            continue
        data = part.get_payload(decode=True) or b""
        outcome = import_bytes(name or "attachment.csv", data, app.sessions, app.codebook, app.rules_dir, at, source="email")
        done.append(f"{outcome.label}: {outcome.imported} imported, {outcome.rejected} rejected"
                    + (f" ({outcome.error})" if outcome.error else ""))
    return done


def _safe(message_id: str) -> str:
    """Message-IDs are safe to log (no names); trim them."""
    return message_id[:120]
