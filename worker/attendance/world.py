"""Plain data the pure attendance rules take: pupils, schools, timetables, marks.

Built from the database by worker/db/queries_attendance.py, or by hand in tests, so the
rules never see SQLAlchemy objects or a session.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, time

from worker.attendance.calendar import ServiceCalendar

SESSIONS = ("AM", "PM")
PLACES = ("service", "main_school", "none")


@dataclass(frozen=True)
class PupilInfo:
    pupil_ref: str
    forename: str
    surname: str
    school_urn: str
    upn: str | None = None
    date_of_birth: date | None = None
    registration: str = "K"  # K, or D for a dual-registered pupil
    safeguarding_risk: bool = False
    start_date: date | None = None
    end_date: date | None = None  # last day on roll; None while on roll
    key_tutor_email: str = ""

    def on_roll(self, day: date) -> bool:
        if self.start_date is not None and day < self.start_date:
            return False
        return self.end_date is None or day <= self.end_date


@dataclass(frozen=True)
class SchoolInfo:
    urn: str
    name: str
    certificate_day: str = "Friday"
    delivery: str = "per_school"


@dataclass(frozen=True)
class Slot:
    """Where the pupil is expected for a weekday session, from valid_from to valid_to (inclusive)."""

    weekday: int  # 0 = Monday
    session: str  # AM | PM
    place: str  # service | main_school | none
    valid_from: date
    valid_to: date | None = None

    def applies(self, day: date, session: str) -> bool:
        return (
            self.weekday == day.weekday()
            and self.session == session
            and self.valid_from <= day
            and (self.valid_to is None or day <= self.valid_to)
        )


@dataclass(frozen=True)
class Timetable:
    slots: tuple[Slot, ...] = ()

    def place(self, day: date, session: str) -> str | None:
        """The timetable place for that session, or None when no slot covers it."""
        matches = [slot for slot in self.slots if slot.applies(day, session)]
        if not matches:
            return None
        return max(matches, key=lambda slot: slot.valid_from).place


@dataclass(frozen=True)
class Mark:
    """One attendance mark as recorded: a roll-call mark, or the mark derived for a session."""

    code: str
    minutes_late: int | None = None
    note: str | None = None
    source: str = "roll_call"  # roll_call | lesson


@dataclass(frozen=True)
class LessonRecord:
    """A lesson (register) mark; `start` decides the session window it belongs to."""

    start: time
    end: time
    register: str
    mark: Mark


@dataclass(frozen=True)
class PupilMarks:
    """One pupil's marks: roll calls by (date, session), lessons by date."""

    roll_calls: dict[tuple[date, str], Mark] = field(default_factory=dict)
    lessons: dict[date, tuple[LessonRecord, ...]] = field(default_factory=dict)

    def dates(self) -> set[date]:
        return {day for day, _ in self.roll_calls} | set(self.lessons)

    def until(self, last_day: date) -> PupilMarks:
        """Only the marks dated on or before `last_day` (things as they stood at its end)."""
        return PupilMarks(
            roll_calls={k: v for k, v in self.roll_calls.items() if k[0] <= last_day},
            lessons={k: v for k, v in self.lessons.items() if k <= last_day},
        )

    def without_lessons(self) -> PupilMarks:
        return PupilMarks(roll_calls=dict(self.roll_calls))

    def without_roll_calls(self) -> PupilMarks:
        return PupilMarks(lessons=dict(self.lessons))


@dataclass
class World:
    """Everything the pure rules need, for all pupils or a chosen set."""

    calendar: ServiceCalendar
    pupils: dict[str, PupilInfo] = field(default_factory=dict)
    schools: dict[str, SchoolInfo] = field(default_factory=dict)
    timetables: dict[str, Timetable] = field(default_factory=dict)
    marks: dict[str, PupilMarks] = field(default_factory=dict)
    first_data_day: date | None = None  # earliest mark date in the whole database

    def timetable(self, pupil_ref: str) -> Timetable:
        return self.timetables.get(pupil_ref, Timetable())

    def marks_of(self, pupil_ref: str) -> PupilMarks:
        return self.marks.get(pupil_ref, PupilMarks())


def group_lessons(
    items: Iterable[tuple[date, LessonRecord]],
) -> dict[date, tuple[LessonRecord, ...]]:
    grouped: dict[date, list[LessonRecord]] = {}
    for day, lesson in items:
        grouped.setdefault(day, []).append(lesson)
    return {
        day: tuple(sorted(ls, key=lambda x: (x.start, x.register))) for day, ls in grouped.items()
    }
