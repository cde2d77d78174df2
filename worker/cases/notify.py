"""Composing the case emails: not-seen (to the school), reminder, welfare-check-due (to the DSL).

Subjects carry the case token and never a name; bodies name the pupil for the people who need it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from worker.app import App
from worker.attendance.world import PupilInfo
from worker.clock import local, local_date
from worker.db.models import Case, School
from worker.outbox.compose import Email, render_parts
from worker.outbox.message_ids import make_message_id
from worker.people import Staff

# One-click answers: the subject keeps the token; the body is a ready form the classifier reads.
DONE_BODY = (
    "We have carried out a home welfare check.\n"
    "Date of the check: \nCarried out by: \nOutcome (seen and safe / not seen / concerns / referred): \n"
    "Next steps: \n"
)
REQUEST_BODY = "Please can {short} carry out the home welfare check for this pupil.\nReason: \n"


def service_context(app: App) -> dict[str, str]:
    s = app.settings.service
    return {"name": s.name, "short_name": s.short_name, "mailbox": s.mailbox, "phone": s.phone}


def mailto(app: App, case_ref: str, intent: str, body: str) -> str:
    subject = f"Re: Pupil not seen for one week [{case_ref}] - {intent}"
    return f"mailto:{app.settings.service.mailbox}?subject={quote(subject)}&body={quote(body)}"


def pupil_context(pupil: PupilInfo) -> dict[str, Any]:
    return {
        "pupil_ref": pupil.pupil_ref,
        "forename": pupil.forename,
        "surname": pupil.surname,
        "date_of_birth": pupil.date_of_birth,
        "upn": pupil.upn,
    }


def school_recipients(school: School) -> list[str]:
    """The school's DSL and attendance contacts: registered addresses only, never a guess."""
    return list(dict.fromkeys([*school.dsl_list, *school.attendance_list]))


def not_seen_email(
    app: App, case: Case, pupil: PupilInfo, school: School, staff: Staff, *,
    days_not_seen: int, missed: list[dict[str, Any]], at: datetime, reminder: bool = False,
    email_sent_on: date | None = None,
) -> Email:
    service = app.settings.service
    tutor = staff.name(pupil.key_tutor_email, "") or f"{service.short_name} Attendance Team"
    context = {
        "service": service_context(app),
        "case_ref": case.ref,
        "pupil": pupil_context(pupil),
        "school": school,
        "tutor_name": tutor,
        "last_seen": case.last_seen,
        "days_not_seen": days_not_seen,
        "missed": missed,
        "risk": case.safeguarding_risk,
        "welfare_due": case.welfare_due,
        "today": local_date(at),
        "email_sent_on": email_sent_on,
        "mailto_done": mailto(app, case.ref, "welfare check done", DONE_BODY),
        "mailto_request": mailto(app, case.ref, "please do the welfare check",
                                 REQUEST_BODY.format(short=service.short_name)),
    }
    name = "reminder" if reminder else "not_seen"
    subject, text, html = render_parts(app.templates_dir, name, context)
    kind = "reminder" if reminder else "not_seen"
    return Email(
        kind=kind,
        from_addr=service.mailbox,
        from_name=f"{tutor} via {service.mailbox_name}",
        to=school_recipients(school),
        cc=[*staff.emails("dsl"), *staff.emails("attendance_lead")],
        reply_to=f"{service.mailbox_name} <{service.mailbox}>",
        subject=subject,
        text=text,
        html=html,
        message_id=make_message_id("ns" if not reminder else "reminder", str(case.id), at, app.secret,
                                   service.domain, nonce=str(case.reminders_sent + 1) if reminder else ""),
        date=at,
        headers={"X-MNHES-Case": case.ref},
    )


def welfare_due_email(
    app: App, case: Case, pupil: PupilInfo, school: School, staff: Staff, *,
    days_not_seen: int, threshold: int, history: list[dict[str, str]], gaps: list[str], at: datetime,
) -> Email:
    service = app.settings.service
    context = {
        "service": service_context(app),
        "case_ref": case.ref,
        "pupil": pupil_context(pupil),
        "school": school,
        "tutor_name": staff.name(pupil.key_tutor_email, pupil.key_tutor_email or "not recorded"),
        "risk": case.safeguarding_risk,
        "last_seen": case.last_seen,
        "days_not_seen": days_not_seen,
        "threshold": threshold,
        "history": history,
        "gaps": gaps,
    }
    subject, text, html = render_parts(app.templates_dir, "welfare_due", context)
    return Email(
        kind="welfare_due",
        from_addr=service.mailbox,
        from_name=service.mailbox_name,
        to=staff.emails("dsl"),
        cc=staff.emails("deputy_dsl"),
        subject=subject,
        text=text,
        html=html,
        message_id=make_message_id("welfare", str(case.id), at, app.secret, service.domain),
        date=at,
        headers={"X-MNHES-Case": case.ref},
    )


def history_lines(events) -> list[dict[str, str]]:
    return [
        {"when": local(e.at).strftime("%d/%m/%Y %H:%M"), "what": e.event.replace("_", " "), "by": e.actor}
        for e in events
    ]
