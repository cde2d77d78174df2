"""Key tutor prompts: pupils nearing the not-seen threshold, and absences without a reason.

Each school day at 08:30, each key tutor gets (a) their pupils not seen for the prompt threshold
(3 school days) or more who have no case yet, before the one-week email goes, and (b) on the
school day before a Main School's certificates are due, their pupils' absences that week that
still have no reason (or no mark), so the reason can go on the certificate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from worker.app import App
from worker.attendance.calendar import monday_of
from worker.attendance.marks import all_session_marks
from worker.attendance.notseen import load_thresholds
from worker.cases import store
from worker.cases.evaluate import data_horizon, days_not_seen
from worker.clock import local_date
from worker.outbox.compose import Email, render_parts
from worker.outbox.message_ids import make_message_id
from worker.outbox.store import enqueue
from worker.people import load_staff


@dataclass
class TutorPrompt:
    tutor_email: str
    tutor_name: str
    not_seen: list[dict[str, Any]] = field(default_factory=list)
    no_reason: list[dict[str, Any]] = field(default_factory=list)


def build_prompts(app: App, at: datetime) -> list[TutorPrompt]:
    from worker.db.queries_attendance import load_world

    today = local_date(at)
    thresholds = load_thresholds(app.rules_dir)
    prompts: dict[str, TutorPrompt] = {}
    with app.sessions() as session:
        world = load_world(session)
        staff = load_staff(session)
        open_refs = {case.pupil_ref for case in store.all_cases(session, open_only=True)}
        horizon = data_horizon(world, today - timedelta(days=1))

        def prompt_for(email: str) -> TutorPrompt:
            key = email.lower()
            if key not in prompts:
                prompts[key] = TutorPrompt(tutor_email=email, tutor_name=staff.name(email, email))
            return prompts[key]

        for ref, pupil in sorted(world.pupils.items()):
            if not pupil.key_tutor_email or not pupil.on_roll(today):
                continue
            days = days_not_seen(app, world, pupil, today, thresholds, horizon)
            if thresholds.tutor_prompt <= days < thresholds.not_seen_email and ref not in open_refs:
                prompt_for(pupil.key_tutor_email).not_seen.append(
                    {"pupil_ref": ref, "name": f"{pupil.forename} {pupil.surname}", "days": days,
                     "school": world.schools[pupil.school_urn].name if pupil.school_urn in world.schools else ""}
                )
            school = world.schools.get(pupil.school_urn)
            if school is None:
                continue
            due = world.calendar.certificate_due(monday_of(today), school.certificate_day)
            if due is None or due <= today:
                continue
            if world.calendar.next_school_day(today) != due:
                continue
            for item in _unexplained(app, world, pupil, monday_of(today), today):
                prompt_for(pupil.key_tutor_email).no_reason.append(
                    {"pupil_ref": ref, "name": f"{pupil.forename} {pupil.surname}", **item}
                )
    return [p for p in prompts.values() if p.not_seen or p.no_reason]


def _unexplained(app: App, world, pupil, monday: date, today: date) -> list[dict[str, Any]]:
    """Service sessions this week (up to today) that are absent with no reason, N, or unmarked."""
    marks = all_session_marks(world.marks_of(pupil.pupil_ref).until(today), app.session_rules, app.codebook)
    timetable = world.timetable(pupil.pupil_ref)
    rows = []
    for day in world.calendar.school_days(monday, today):
        if not pupil.on_roll(day):
            continue
        for session_name in ("AM", "PM"):
            if timetable.place(day, session_name) != "service":
                continue
            mark = marks.get((day, session_name))
            if mark is None:
                if day < today:
                    rows.append({"date": day, "session": session_name, "what": "no mark"})
                continue
            code = app.codebook.get(mark.code)
            if code.pending or (code.category in ("authorised", "unauthorised") and not (mark.note or "").strip()):
                rows.append({"date": day, "session": session_name, "what": f"{mark.code} with no reason"})
    return rows


def send_prompts(app: App, at: datetime) -> bool:
    prompts = build_prompts(app, at)
    today = local_date(at)
    did = False
    with app.sessions.begin() as session:
        for prompt in prompts:
            subject, text, html = render_parts(app.templates_dir, "tutor_prompt", {
                "p": prompt, "day": today, "service": app.settings.service,
            })
            email = Email(
                kind="tutor_prompt", from_addr=app.settings.service.mailbox,
                from_name=app.settings.service.mailbox_name, to=[prompt.tutor_email], subject=subject,
                text=text, html=html,
                message_id=make_message_id("prompt", prompt.tutor_email.split("@")[0], at, app.secret,
                                           app.settings.service.domain, nonce=today.isoformat()),
                date=at,
            )
            _, created = enqueue(session, email, idem_key=f"tutor_prompt:{today.isoformat()}:{prompt.tutor_email.lower()}",
                                 loop_header=app.settings.service.loop_header, at=at)
            did |= created
    return did
