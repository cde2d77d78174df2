"""The DSL's daily safeguarding digest: what needs a person today, most urgent first.

Built as plain data from the database (`build_digest`), then rendered for email or terminal
from the same template, so `digest --print` shows exactly what the DSL receives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from worker.app import App
from worker.attendance.notseen import load_thresholds
from worker.cases import states, store
from worker.cases.evaluate import data_horizon, days_not_seen, nth_school_day, stale_data
from worker.clock import local, local_date
from worker.db.models import Case, InboxMessage, OutboxMessage, Pupil, School
from worker.outbox.compose import Email, render_parts
from worker.outbox.message_ids import make_message_id
from worker.outbox.store import enqueue
from worker.people import load_staff


@dataclass
class Digest:
    day: date
    cases: list[dict[str, Any]] = field(default_factory=list)
    welfare: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    mail_problems: list[str] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.cases or self.reviews or self.mail_problems or self.gaps or self.quarantined)


def build_digest(app: App, at: datetime) -> Digest:
    from worker.db.queries_attendance import load_world
    from worker.imports.gaps import data_gaps

    today = local_date(at)
    digest = Digest(day=today)
    with app.sessions() as session:
        world = load_world(session)
        after_days = app.settings.cases.reminder_after_school_days
        thresholds = load_thresholds(app.rules_dir)
        horizon = data_horizon(world, today - timedelta(days=1))
        for case in store.all_cases(session, open_only=True):
            pupil = session.get(Pupil, case.pupil_ref)
            school = session.get(School, pupil.school_urn) if pupil else None
            events = store.events(session, case)
            last = events[-1] if events else None
            days = days_not_seen(app, world, world.pupils[case.pupil_ref], today, thresholds, horizon) \
                if case.pupil_ref in world.pupils else 0
            overdue = []
            if case.welfare_due and case.welfare_due <= today and case.state in (
                states.OPEN, states.SCHOOL_NOTIFIED, states.WELFARE_CHECK_DUE
            ):
                overdue.append("welfare check due" if case.welfare_due == today else
                               f"welfare check overdue since {case.welfare_due:%d/%m}")
            if case.email_sent_at and case.school_responded_at is None:
                answered_by = nth_school_day(world.calendar, local_date(case.email_sent_at) + timedelta(days=1),
                                             after_days)
                if answered_by is not None and answered_by <= today:
                    overdue.append(f"school has not answered since {local(case.email_sent_at):%d/%m}")
            if case.email_sent_at is None:
                # Stays on the digest until an email reaches the school, whatever the state.
                failed = [e for e in events if e.event == "email_failed"]
                why = (failed[-1].detail or {}).get("why") if failed else None
                overdue.append("not-seen email not sent" + (f": {why}" if why else ""))
            entry = {
                "ref": case.ref,
                "pupil": f"{pupil.forename} {pupil.surname}" if pupil else case.pupil_ref,
                "pupil_ref": case.pupil_ref,
                "school": school.name if school else "?",
                "risk": case.safeguarding_risk,
                "state": states.LABELS.get(case.state, case.state),
                "days": days,
                "last_action": f"{local(last.at):%d/%m %H:%M} {last.event.replace('_', ' ')}" if last else "",
                "overdue": overdue,
            }
            digest.cases.append(entry)
            if case.welfare_due and case.welfare_due <= today and case.state not in (
                states.CHECK_REPORTED, states.SEEN_BY_SCHOOL
            ):
                digest.welfare.append(entry)
            if any("not answered" in o for o in overdue):
                digest.unanswered.append(f"{case.ref} {entry['school']}")
        digest.cases.sort(key=lambda e: (not e["risk"], -e["days"], e["ref"]))
        digest.welfare.sort(key=lambda e: (not e["risk"], -e["days"], e["ref"]))
        for item in session.scalars(
            select(InboxMessage).where(InboxMessage.review_state == "pending").order_by(InboxMessage.id)
        ):
            reasons = (item.result or {}).get("review_reasons") or []
            case = session.get(Case, item.case_id) if item.case_id else None
            digest.reviews.append({
                "id": item.id,
                "case": case.ref if case else "no case",
                "kind": item.kind,
                "sender": item.sender,
                "received": local(item.received_at).strftime("%d/%m %H:%M"),
                "why": "; ".join(reasons) or "needs a person",
            })
        for row in session.scalars(
            select(OutboxMessage).where(OutboxMessage.state.in_(("failed", "bounced", "unknown")))
        ):
            digest.mail_problems.append(
                f"{row.kind} {row.subject} to {', '.join(row.to_addrs)}: {row.state}"
                + (f" ({row.last_error})" if row.last_error else "")
            )
        for item in session.scalars(select(InboxMessage).where(InboxMessage.status == "quarantined")):
            digest.quarantined.append(f"inbox item {item.id}: {item.error}")
        stale = stale_data(world, today)
        digest.gaps = ([stale] if stale else []) + [gap.message for gap in data_gaps(session)]
    return digest


def render_digest(app: App, digest: Digest) -> tuple[str, str, str | None]:
    return render_parts(app.templates_dir, "digest", {"d": digest, "service": app.settings.service})


def send_digest(app: App, at: datetime) -> bool:
    digest = build_digest(app, at)
    subject, text, html = render_digest(app, digest)
    with app.sessions.begin() as session:
        staff = load_staff(session)
        to = staff.emails("dsl")
        if not to:
            return False
        email = Email(
            kind="digest",
            from_addr=app.settings.service.mailbox,
            from_name=app.settings.service.mailbox_name,
            to=to,
            cc=[],
            subject=subject,
            text=text,
            html=html,
            message_id=make_message_id("digest", "dsl", at, app.secret, app.settings.service.domain,
                                       nonce=digest.day.isoformat()),
            date=at,
        )
        _, created = enqueue(session, email, idem_key=f"digest:{digest.day.isoformat()}",
                             loop_header=app.settings.service.loop_header, at=at)
    return created
