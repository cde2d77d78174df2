"""Reads pupils, schools, timetables, the calendar and marks, and builds the pure World.

The only place that reads these tables for the attendance rules: certificates, the not-seen
procedure and the JSON views all start from `load_world`. A few set-based queries, never one
per pupil.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, time

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from worker.attendance.calendar import DateRange, ServiceCalendar
from worker.attendance.world import (
    LessonRecord,
    Mark,
    PupilInfo,
    PupilMarks,
    SchoolInfo,
    Slot,
    Timetable,
    World,
    group_lessons,
)
from worker.db.models import CalendarPeriod, LessonMark, Pupil, School, SessionMark, TimetableSlot


def _hhmm(text: str) -> time:
    return datetime.strptime(text.strip(), "%H:%M").time()


def load_calendar(session: Session) -> ServiceCalendar:
    """Terms, half terms and closure days from calendar_periods, with England bank holidays."""
    ranges: dict[str, list[DateRange]] = {"term": [], "half_term": [], "closure": []}
    for period in session.scalars(select(CalendarPeriod)):
        ranges.setdefault(period.kind, []).append(
            DateRange(period.start, period.end, period.name or "")
        )
    return ServiceCalendar.build(ranges["term"], ranges["half_term"], ranges["closure"])


def first_data_day(session: Session) -> date | None:
    """The earliest date of any attendance mark: counting 'not seen' starts no earlier."""
    days = [
        session.scalar(select(func.min(SessionMark.date))),
        session.scalar(select(func.min(LessonMark.date))),
    ]
    present = [d for d in days if d is not None]
    return min(present) if present else None


def pupil_info(row: Pupil) -> PupilInfo:
    return PupilInfo(
        pupil_ref=row.pupil_ref,
        forename=row.forename,
        surname=row.surname,
        school_urn=row.school_urn,
        upn=row.upn or None,
        date_of_birth=row.date_of_birth,
        registration=row.registration or "K",
        safeguarding_risk=bool(row.safeguarding_risk),
        start_date=row.start_date,
        end_date=row.end_date,
        key_tutor_email=row.key_tutor_email or "",
    )


def load_world(
    session: Session,
    pupil_refs: Collection[str] | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    *,
    roll_calls: bool = True,
    lessons: bool = True,
) -> World:
    """Everything for the chosen pupils (all when None), marks limited to [date_from, date_to].

    `roll_calls` / `lessons` = False leave that kind of mark out (to show what one source says).
    """
    pupil_query = select(Pupil)
    if pupil_refs is not None:
        pupil_query = pupil_query.where(Pupil.pupil_ref.in_(list(pupil_refs)))
    pupils = {row.pupil_ref: pupil_info(row) for row in session.scalars(pupil_query)}
    refs = list(pupils)

    def chosen(column):
        """No IN list when loading everyone (keeps the query small on a big roster)."""
        return column.in_(refs) if pupil_refs is not None else column.is_not(None)

    def marks_query(model: type[SessionMark] | type[LessonMark]) -> Select:
        """The chosen pupils' marks of one kind, limited to [date_from, date_to]."""
        query = select(model).where(chosen(model.pupil_ref))
        if date_from is not None:
            query = query.where(model.date >= date_from)
        if date_to is not None:
            query = query.where(model.date <= date_to)
        return query

    schools = {
        row.urn: SchoolInfo(row.urn, row.name, row.certificate_day, row.delivery)
        for row in session.scalars(select(School))
    }

    slots: dict[str, list[Slot]] = {ref: [] for ref in refs}
    for row in session.scalars(select(TimetableSlot).where(chosen(TimetableSlot.pupil_ref))):
        slots.setdefault(row.pupil_ref, []).append(
            Slot(row.weekday, row.session, row.place, row.valid_from, row.valid_to)
        )

    roll: dict[str, dict] = {ref: {} for ref in refs}
    if roll_calls:
        for row in session.scalars(marks_query(SessionMark)):
            roll.setdefault(row.pupil_ref, {})[(row.date, row.session)] = Mark(
                row.mark, row.minutes_late, row.note, "roll_call"
            )

    lesson_rows: dict[str, list[tuple[date, LessonRecord]]] = {ref: [] for ref in refs}
    if lessons:
        for row in session.scalars(marks_query(LessonMark)):
            lesson_rows.setdefault(row.pupil_ref, []).append(
                (
                    row.date,
                    LessonRecord(
                        start=_hhmm(row.start),
                        end=_hhmm(row.end),
                        register=row.register,
                        mark=Mark(row.mark, row.minutes_late, row.note, "lesson"),
                    ),
                )
            )

    return World(
        calendar=load_calendar(session),
        pupils=pupils,
        schools=schools,
        timetables={ref: Timetable(tuple(items)) for ref, items in slots.items()},
        marks={
            ref: PupilMarks(roll_calls=roll[ref], lessons=group_lessons(lesson_rows[ref]))
            for ref in refs
        },
        first_data_day=first_data_day(session),
    )
