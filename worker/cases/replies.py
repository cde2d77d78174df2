"""What a classified reply does to its case. Used by ingest (cause=reply) and by a person's
review decision (cause=person), so both paths change cases the same way.

Only a verified human reply from the school moves a case. Machine mail (auto-replies, bounces)
is recorded and never counts as the school's response; mail from the Service's own staff is
recorded only. Anything needing review waits for a person.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from worker.app import App
from worker.cases import store
from worker.clock import local
from worker.db.models import Case, InboxMessage, OutboxMessage, Pupil, School
from worker.errors import IllegalTransition
from worker.outbox.compose import Email, address_of, render_parts
from worker.outbox.message_ids import make_message_id
from worker.outbox.store import enqueue
from worker.people import load_staff

log = logging.getLogger(__name__)

MOVES = {
    "check_requested": "check_requested",
    "check_done": "check_reported",
    "pupil_seen": "school_saw_pupil",
}


def _detail(result: dict[str, Any], item: InboxMessage) -> dict[str, Any]:
    return {
        "inbox_id": item.id,
        "kind": result.get("kind"),
        "sender": item.sender,
        "check_date": result.get("check_date"),
        "outcome": result.get("outcome"),
        "next_steps": result.get("next_steps"),
        "review_reasons": result.get("review_reasons") or None,
    }


def apply_reply(
    app: App, session: Session, item: InboxMessage, result: dict[str, Any], at: datetime,
    *, cause: str = "reply", actor: str = "worker",
) -> str:
    """Record `result` on its case; returns what happened (for logs and tests)."""
    kind = result.get("kind")
    case = session.get(Case, item.case_id) if item.case_id else None
    if kind == "bounce":
        _bounce(app, session, item, result, case, at)
        if result.get("needs_review"):
            item.review_state = "pending"
        return "bounce recorded"
    if case is None:
        if result.get("needs_review") or kind not in ("auto_reply", "loop"):
            item.review_state = "pending"
        return "no case"
    detail = _detail(result, item)
    if kind == "auto_reply":
        store.apply(session, case, "auto_reply_recorded", at=at, cause=cause, actor=actor,
                    evidence=item.message_id, detail=detail)
        return "auto-reply recorded"
    if result.get("needs_review") and cause == "reply":
        item.review_state = "pending"
        store.apply(session, case, "review_pending", at=at, cause=cause, actor=actor,
                    evidence=item.message_id, detail=detail)
        spoofed = "dmarc=fail" in (result.get("review_reasons") or [])
        if result.get("sender_verified") and not result.get("from_service") and not spoofed:
            # The school did answer (a person must read it): no "we have not had a reply" chaser.
            # Not when DMARC failed: a forged "reply" must not silence the chaser.
            _responded(case, at)
        return "waiting for review"
    if result.get("from_service"):
        store.apply(session, case, "reply_recorded", at=at, cause=cause, actor=actor,
                    evidence=item.message_id, detail={**detail, "from_service": True})
        return "Service staff mail recorded"
    event = MOVES.get(kind)
    if event is None:
        store.apply(session, case, "reply_recorded", at=at, cause=cause, actor=actor,
                    evidence=item.message_id, detail=detail)
        _responded(case, at)
        return "reply recorded"
    try:
        store.apply(session, case, event, at=at, cause=cause, actor=actor, evidence=item.message_id, detail=detail)
    except IllegalTransition as exc:
        store.apply(session, case, "reply_recorded", at=at, cause=cause, actor=actor,
                    evidence=item.message_id, detail={**detail, "not_applied": str(exc)})
        if cause == "reply":
            item.review_state = "pending"
            store.apply(session, case, "review_pending", at=at, cause=cause, actor=actor,
                        evidence=item.message_id, detail={"why": str(exc)})
        _responded(case, at)
        return f"recorded; {exc}"
    _responded(case, at)
    if event == "check_reported":
        check_date = result.get("check_date")
        case.check_date = date.fromisoformat(check_date) if isinstance(check_date, str) else check_date
        case.check_outcome = result.get("outcome")
        case.next_steps = result.get("next_steps")
    if event == "check_requested":
        _alert_dsl(app, session, case, item, result, at)
    return event


def _responded(case: Case, at: datetime) -> None:
    if case.school_responded_at is None:
        case.school_responded_at = at


def _alert_dsl(app: App, session: Session, case: Case, item: InboxMessage, result: dict, at: datetime) -> None:
    staff = load_staff(session)
    to = staff.emails("dsl")
    if not to:
        return
    pupil = session.get(Pupil, case.pupil_ref)
    school = session.get(School, pupil.school_urn) if pupil else None
    subject, text, html = render_parts(app.templates_dir, "check_requested", {
        "service": app.settings.service, "case_ref": case.ref, "pupil": pupil, "school": school,
        "sender": item.sender, "received": local(item.received_at).strftime("%d/%m/%Y %H:%M"),
        "reply_text": (result.get("reply_text") or "").strip()[:4000],
    })
    email = Email(
        kind="check_requested_alert", from_addr=app.settings.service.mailbox,
        from_name=app.settings.service.mailbox_name, to=to, cc=staff.emails("deputy_dsl"),
        subject=subject, text=text, html=html,
        message_id=make_message_id("wcr", str(case.id), at, app.secret, app.settings.service.domain,
                                   nonce=str(item.id)),
        date=at, headers={"X-MNHES-Case": case.ref},
    )
    enqueue(session, email, idem_key=f"check_requested_alert:case:{case.id}:{item.id}",
            loop_header=app.settings.service.loop_header, at=at, case_id=case.id)


def _bounce(app: App, session: Session, item: InboxMessage, result: dict, case: Case | None, at: datetime) -> None:
    """Tie the bounce to our email and the contact that failed; tell the Attendance Lead."""
    failed = result.get("failed_recipient") or ""
    original = result.get("original_message_id")
    row = None
    if original:
        row = session.scalar(select(OutboxMessage).where(OutboxMessage.message_id == original))
    if row is None and case is not None:
        row = session.scalar(select(OutboxMessage).where(OutboxMessage.case_id == case.id,
                                                         OutboxMessage.kind == "not_seen"))
    if row is not None and failed and failed.lower() not in {
        address_of(a) for a in [*(row.to_addrs or []), *(row.cc_addrs or [])]
    }:
        # It names an address this email never went to: not a bounce of ours (forged, or
        # backscatter). Recorded on the case for a person; our email and the lead are left alone.
        row = None
        if case is not None:
            store.apply(session, case, "bounce_recorded", at=at, cause="reply", actor="worker",
                        evidence=item.message_id,
                        detail={"failed_recipient": failed, "not_ours": True, "inbox_id": item.id})
        item.review_state = "pending"
        return
    if row is not None and result.get("permanent", True):
        row.state = "bounced"
        row.detail = {**(row.detail or {}), "bounced": {"recipient": failed, "status": result.get("status"),
                                                        "inbox_id": item.id}}
    school = None
    if case is not None:
        pupil = session.get(Pupil, case.pupil_ref)
        school = session.get(School, pupil.school_urn) if pupil else None
        store.apply(session, case, "bounce_recorded", at=at, cause="reply", actor="worker",
                    evidence=item.message_id, detail={"failed_recipient": failed, "status": result.get("status"),
                                                      "role": result.get("role"), "inbox_id": item.id})
    if row is None and case is None:
        # Not a bounce of anything we sent (backscatter from forged mail): the review queue
        # shows it; telling the Attendance Lead "our email failed" would be false.
        return
    role = result.get("role") or _role(school, failed)
    staff = load_staff(session)
    to = staff.emails("attendance_lead")
    if not to:
        return
    what = row.kind.replace("_", " ") + " email" if row is not None else "an email"
    subject, text, html = render_parts(app.templates_dir, "delivery_failed", {
        "what": what, "case_ref": case.ref if case else None, "failed_recipient": failed or "unknown",
        "role": role, "school": school, "status": result.get("status"),
        "permanent": result.get("permanent", True), "detail": result.get("diagnostic"),
    })
    email = Email(
        kind="delivery_failed", from_addr=app.settings.service.mailbox,
        from_name=app.settings.service.mailbox_name, to=to, subject=subject, text=text, html=html,
        message_id=make_message_id("bounce", str(item.id), at, app.secret, app.settings.service.domain),
        date=at,
    )
    enqueue(session, email, idem_key=f"delivery_failed:inbox:{item.id}",
            loop_header=app.settings.service.loop_header, at=at, case_id=case.id if case else None)


def _role(school: School | None, address: str) -> str | None:
    if school is None or not address:
        return None
    bare = address.lower()
    if bare in (a.lower() for a in school.dsl_list):
        return "Main School DSL"
    if bare in (a.lower() for a in school.attendance_list):
        return "Main School attendance contact"
    return None
