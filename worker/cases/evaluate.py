"""The cases job: open not-seen cases, send their emails, raise welfare checks, chase, close.

Runs on every tick. A pupil's episode is judged as things stood at the end of yesterday, with
any seen mark up to today counted (a pupil seen this morning is seen). Emails to schools go
from `schedule.cases_from` (07:00) on their due day, or at once when overdue: a child nobody has
seen is never skipped, only late.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from worker.app import App
from worker.attendance.calendar import ServiceCalendar
from worker.attendance.marks import all_session_marks, seen_days
from worker.attendance.notseen import Run, Thresholds, counting_window, load_thresholds, runs
from worker.attendance.world import PupilInfo, World
from worker.cases import states, store
from worker.cases.notify import (
    history_lines,
    not_seen_email,
    school_recipients,
    welfare_due_email,
)
from worker.clock import local, local_date
from worker.config import parse_clock_time
from worker.db.models import Case, OutboxMessage, School
from worker.errors import UnsafeRecipient
from worker.outbox.guard import check_recipients
from worker.outbox.store import enqueue
from worker.people import Staff, load_staff

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Current:
    """A pupil's run of school days not seen, as of the end of yesterday."""

    run: Run
    email_due: date
    welfare_due: date | None
    welfare_threshold: int


def nth_school_day(calendar: ServiceCalendar, start: date, n: int) -> date | None:
    """The n-th school day counting `start` (if it is one) as the first."""
    day = start - timedelta(days=1)
    for _ in range(n):
        day = calendar.next_school_day(day)
        if day is None:
            return None
    return day


def data_horizon(world: World, until: date) -> date | None:
    """The newest day on or before `until` with any attendance mark (for any pupil).

    Days after it have not been imported yet: counting them as "not seen" would email every
    Main School about every pupil when Arbor exports stop. They wait (and the digest says the
    data is stale) instead.
    """
    newest = None
    for marks in world.marks.values():
        for day in marks.dates():
            if day <= until and (newest is None or day > newest):
                newest = day
    return newest


def not_seen_run(app: App, world: World, pupil: PupilInfo, today: date, thresholds: Thresholds,
                 horizon: date | None) -> Run | None:
    """The run of school days not seen that is still going, counted up to the data horizon."""
    marks = world.marks_of(pupil.pupil_ref).until(today)
    seen = seen_days(marks, app.session_rules, app.codebook)
    if today in seen or horizon is None:
        return None
    start, end = counting_window(pupil, world.first_data_day, min(today - timedelta(days=1), horizon))
    if start is None or end is None or end < start:
        return None
    welfare_n = thresholds.welfare_check_risk if pupil.safeguarding_risk else thresholds.welfare_check_no_risk
    found = runs(world.calendar, seen, start, end, thresholds.not_seen_email, welfare_n)
    if not found or found[-1].seen_again_on is not None:
        return None
    return found[-1]


def days_not_seen(app: App, world: World, pupil: PupilInfo, today: date, thresholds: Thresholds,
                  horizon: date | None) -> int:
    """School days not seen so far in the run still going (0 when seen, or nothing to count)."""
    run = not_seen_run(app, world, pupil, today, thresholds, horizon)
    return run.school_days if run else 0


def current(app: App, world: World, pupil: PupilInfo, today: date, thresholds: Thresholds,
            horizon: date | None) -> Current | None:
    """The pupil's not-seen run if it has reached the email threshold, with its due dates.

    `horizon` is `data_horizon(world, yesterday)`, computed once per job run by the caller.
    """
    run = not_seen_run(app, world, pupil, today, thresholds, horizon)
    if run is None or run.email_threshold_on is None:
        return None
    welfare_n = thresholds.welfare_check_risk if pupil.safeguarding_risk else thresholds.welfare_check_no_risk
    email_due = world.calendar.next_school_day(run.email_threshold_on)
    welfare_day = run.welfare_threshold_on or nth_school_day(world.calendar, run.counting_from, welfare_n)
    welfare_due = world.calendar.next_school_day(welfare_day) if welfare_day else None
    return Current(run=run, email_due=email_due, welfare_due=welfare_due, welfare_threshold=welfare_n)


def stale_data(world: World, today: date) -> str | None:
    """A warning when school days before today have no attendance marks at all."""
    yesterday = today - timedelta(days=1)
    horizon = data_horizon(world, yesterday)
    if horizon is None:
        return None
    missing = world.calendar.school_days(horizon + timedelta(days=1), yesterday)
    if not missing:
        return None
    return (f"attendance data is stale: the newest mark is from {horizon:%d/%m/%Y}; no marks for "
            f"{len(missing)} school day(s) since ({', '.join(f'{d:%d/%m}' for d in missing[:5])}"
            f"{'...' if len(missing) > 5 else ''}); not-seen counting waits for the import")


def _time_for(app: App, at: datetime, due: date | None) -> bool:
    """An email due on `due` goes from cases_from that day, or at once when overdue."""
    if due is None:
        return False
    today = local_date(at)
    if due < today:
        return True
    return due == today and local(at).time() >= parse_clock_time(app.settings.schedule.cases_from)


def run(app: App, at: datetime, slot: datetime | None = None) -> bool:
    from worker.db.queries_attendance import load_world

    today = local_date(at)
    thresholds = load_thresholds(app.rules_dir)
    did = False
    with app.sessions.begin() as session:
        world = load_world(session)
        staff = load_staff(session)
        horizon = data_horizon(world, today - timedelta(days=1))
        did |= _close(app, session, world, today, at)
        did |= _retry_unsent(app, session, world, staff, today, at, thresholds, horizon)
        did |= _open(app, session, world, staff, today, at, thresholds, horizon)
        did |= _welfare(app, session, world, staff, today, at, thresholds, horizon)
        did |= _remind(app, session, world, staff, today, at, thresholds, horizon)
    return did


def _close(app: App, session: Session, world: World, today: date, at: datetime) -> bool:
    did = False
    for case in store.all_cases(session, open_only=True):
        pupil = world.pupils.get(case.pupil_ref)
        if pupil is None:
            continue
        marks = all_session_marks(world.marks_of(pupil.pupil_ref).until(today), app.session_rules, app.codebook)
        after = case.last_seen or date.min
        seen = sorted(
            (day, session_name, mark) for (day, session_name), mark in marks.items()
            if day > after and day >= case.counting_from and app.codebook.is_seen(mark.code)
        )
        if seen:
            day, session_name, mark = seen[0]
            store.apply(session, case, "seen_again", at=at, cause="import", actor="worker",
                        evidence=f"mark {mark.code} on {day.isoformat()} {session_name}",
                        detail={"seen_on": day})
            did = True
        elif pupil.end_date is not None and pupil.end_date < today:
            store.apply(session, case, "left_roll", at=at, cause="import", actor="worker",
                        evidence=f"end date {pupil.end_date.isoformat()}")
            did = True
    return did


def missed_sessions(app: App, world: World, pupil: PupilInfo, start: date, end: date) -> list[dict]:
    """Service sessions since the pupil was last seen, with marks and reasons, for the school."""
    marks = all_session_marks(world.marks_of(pupil.pupil_ref).until(end), app.session_rules, app.codebook)
    timetable = world.timetable(pupil.pupil_ref)
    rows = []
    for day in world.calendar.school_days(start, end):
        for session_name in ("AM", "PM"):
            mark = marks.get((day, session_name))
            if mark is None and timetable.place(day, session_name) != "service":
                continue
            rows.append({"date": day, "session": session_name, "mark": mark.code if mark else None,
                         "reason": (mark.note or None) if mark else None})
    return rows


def _open(app, session, world: World, staff: Staff, today, at, thresholds, horizon) -> bool:
    did = False
    existing = {(c.pupil_ref, c.counting_from) for c in store.all_cases(session)}
    for ref, pupil in sorted(world.pupils.items()):
        if pupil.end_date is not None and pupil.end_date < today:
            continue
        found = current(app, world, pupil, today, thresholds, horizon)
        if found is None or (ref, found.run.counting_from) in existing:
            continue
        if store.open_case_for(session, ref) is not None:
            continue
        if not _time_for(app, at, found.email_due):
            continue
        case = store.open_case(
            session, pupil_ref=ref, safeguarding_risk=pupil.safeguarding_risk,
            last_seen=found.run.last_seen_before, counting_from=found.run.counting_from,
            threshold_reached_on=found.run.email_threshold_on, email_due=found.email_due,
            welfare_due=found.welfare_due, at=at, number_start=app.settings.cases.number_start,
            evidence=f"{found.run.school_days} school days not seen",
        )
        try:
            with session.begin_nested():
                _send_not_seen(app, session, world, staff, case, pupil, found.run.school_days, at)
        except Exception as exc:  # noqa: BLE001 - one case's bad data must not stop the others
            log.error("case %s: the not-seen email could not be composed: %s", case.ref, type(exc).__name__)
            store.apply(session, case, "email_failed", at=at, cause="timer", actor="worker",
                        detail={"why": f"could not compose the email ({type(exc).__name__}); see the log"})
        did = True
    return did


def _send_not_seen(app, session, world, staff, case: Case, pupil: PupilInfo, days: int, at,
                   first_attempt: bool = True) -> None:
    school = session.get(School, pupil.school_urn)
    recipients = school_recipients(school) if school else []
    if school is not None and not school.dsl_list and first_attempt:
        store.apply(session, case, "data_gap", at=at, cause="timer", actor="worker",
                    detail={"gap": f"Main School {school.urn} {school.name} has no DSL address"})
    if not recipients:
        if first_attempt:
            store.apply(session, case, "email_failed", at=at, cause="timer", actor="worker",
                        detail={"why": "the Main School has no registered address: nothing was sent"})
        return
    start = case.last_seen + timedelta(days=1) if case.last_seen else case.counting_from
    missed = missed_sessions(app, world, pupil, start, local_date(at) - timedelta(days=1))
    email = not_seen_email(app, case, pupil, school, staff, days_not_seen=days, missed=missed, at=at)
    try:
        check_recipients(session, email.recipients(), school_urns=[school.urn], mailbox=app.settings.service.mailbox)
    except UnsafeRecipient as exc:
        if first_attempt:
            store.apply(session, case, "email_failed", at=at, cause="timer", actor="worker", detail={"why": str(exc)})
        return
    enqueue(session, email, idem_key=f"not_seen:case:{case.id}", loop_header=app.settings.service.loop_header,
            at=at, pupil_ref=pupil.pupil_ref, school_urn=school.urn, case_id=case.id)


def _retry_unsent(app, session, world: World, staff: Staff, today, at, thresholds, horizon) -> bool:
    """An open case whose not-seen email never went (no address then, bad data) is tried again
    every tick, so fixing the school's contacts is enough: nobody has to remember the case."""
    did = False
    queued = set(session.scalars(select(OutboxMessage.case_id).where(OutboxMessage.kind == "not_seen")))
    for case in store.all_cases(session, open_only=True):
        if case.email_sent_at is not None or case.id in queued:
            continue
        pupil = world.pupils.get(case.pupil_ref)
        school = session.get(School, pupil.school_urn) if pupil else None
        if pupil is None or school is None or not school_recipients(school):
            continue
        found = current(app, world, pupil, today, thresholds, horizon)
        try:
            with session.begin_nested():
                _send_not_seen(app, session, world, staff, case, pupil, found.run.school_days if found else 0,
                               at, first_attempt=False)
        except Exception as exc:  # noqa: BLE001 - the digest keeps showing it unsent
            log.error("case %s: the not-seen email still cannot be composed: %s", case.ref, type(exc).__name__)
            continue
        did = True
    return did


def _welfare(app, session, world: World, staff: Staff, today, at, thresholds, horizon) -> bool:
    did = False
    for case in store.all_cases(session, open_only=True):
        if case.welfare_alerted_at is not None or not _time_for(app, at, case.welfare_due):
            continue
        pupil = world.pupils.get(case.pupil_ref)
        if pupil is None:
            continue
        found = current(app, world, pupil, today, thresholds, horizon)
        days = found.run.school_days if found else 0
        if case.state in (states.OPEN, states.SCHOOL_NOTIFIED):
            store.apply(session, case, "welfare_check_due", at=at, cause="timer", actor="worker",
                        evidence=f"{days} school days not seen")
        else:
            store.apply(session, case, "welfare_threshold_reached", at=at, cause="timer", actor="worker",
                        evidence=f"{days} school days not seen", detail={"state": case.state})
            if case.state in (states.CHECK_REPORTED, states.SEEN_BY_SCHOOL):
                # The school has already checked on the child: no "check due" alert; the case stays
                # open on the digest until the Service sees the pupil.
                case.welfare_alerted_at = at
                did = True
                continue
        school = session.get(School, pupil.school_urn)
        gaps = []
        if school is not None and not school.dsl_list:
            gaps.append(f"Main School {school.urn} {school.name} has no DSL address")
        if school is not None and not school.attendance_list:
            gaps.append(f"Main School {school.urn} {school.name} has no attendance address")
        email = welfare_due_email(
            app, case, pupil, school, staff, days_not_seen=days,
            threshold=found.welfare_threshold if found else 0,
            history=history_lines(store.events(session, case)), gaps=gaps, at=at,
        )
        if not email.to:
            log.warning("no DSL in staff: welfare alert for %s not sent", case.ref)
            continue
        enqueue(session, email, idem_key=f"welfare_due:case:{case.id}", loop_header=app.settings.service.loop_header,
                at=at, pupil_ref=pupil.pupil_ref, school_urn=pupil.school_urn, case_id=case.id)
        case.welfare_alerted_at = at
        store.apply(session, case, "welfare_alert_sent", at=at, cause="timer", actor="worker",
                    evidence=email.message_id)
        did = True
    return did


def _remind(app, session, world: World, staff: Staff, today, at, thresholds, horizon) -> bool:
    """One reminder after N school days without a reply from the school; at most one a day."""
    settings = app.settings.cases
    did = False
    if not world.calendar.is_school_day(today):
        return False
    for case in store.all_cases(session, open_only=True):
        if case.state not in (states.SCHOOL_NOTIFIED, states.WELFARE_CHECK_DUE):
            continue
        if case.email_sent_at is None or case.school_responded_at is not None:
            continue
        if case.reminders_sent >= settings.max_reminders or case.last_reminder_on == today:
            continue
        sent_on = local_date(case.email_sent_at)
        due = nth_school_day(world.calendar, sent_on + timedelta(days=1),
                             settings.reminder_after_school_days * (case.reminders_sent + 1))
        if due is None or not _time_for(app, at, due):
            continue
        pupil = world.pupils.get(case.pupil_ref)
        school = session.get(School, pupil.school_urn) if pupil else None
        if pupil is None or school is None or not school_recipients(school):
            continue
        found = current(app, world, pupil, today, thresholds, horizon)
        email = not_seen_email(app, case, pupil, school, staff, days_not_seen=found.run.school_days if found else 0,
                               missed=[], at=at, reminder=True, email_sent_on=sent_on)
        try:
            check_recipients(session, email.recipients(), school_urns=[school.urn],
                             mailbox=app.settings.service.mailbox)
        except UnsafeRecipient as exc:
            # Recorded once (not every tick) and shown to a person; the other cases go on.
            case.reminders_sent += 1
            case.last_reminder_on = today
            store.apply(session, case, "email_failed", at=at, cause="timer", actor="worker",
                        detail={"why": str(exc), "email": "reminder"})
            did = True
            continue
        enqueue(session, email, idem_key=f"reminder:case:{case.id}:{case.reminders_sent + 1}",
                loop_header=app.settings.service.loop_header, at=at, pupil_ref=pupil.pupil_ref,
                school_urn=school.urn, case_id=case.id)
        case.reminders_sent += 1
        case.last_reminder_on = today
        store.apply(session, case, "reminder_sent", at=at, cause="timer", actor="worker", evidence=email.message_id)
        did = True
    return did


def on_sent(session: Session, row, at: datetime) -> None:
    """Dispatch hook: the not-seen email left us, so the school has been notified."""
    if row.case_id is None or row.kind != "not_seen":
        return
    case = session.get(Case, row.case_id)
    if case is None:
        return
    case.email_sent_at = at
    event = "email_sent" if (("email_sent", case.state) in states.TRANSITIONS) else "note"
    store.apply(session, case, event, at=at, cause="timer", actor="worker", evidence=row.message_id,
                detail={"to": row.to_addrs, "cc": row.cc_addrs})


def on_failed(session: Session, row, at: datetime) -> None:
    """Dispatch hook: an email about a case could not be delivered; the chronology says so."""
    if row.case_id is None:
        return
    case = session.get(Case, row.case_id)
    if case is not None:
        store.apply(session, case, "email_failed", at=at, cause="timer", actor="worker", evidence=row.message_id,
                    detail={"email": row.kind, "why": row.last_error})
