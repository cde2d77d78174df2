"""The thin database side of an import: upsert parsed rows, record every mark change.

Arbor registers never close, so a later export may change a mark already certified: marks
are upserted and each creation or change appends a MarkChange (the history certificates
and cases are amended from). An identical row changes nothing and appends nothing.
Existing rows are loaded in one query per file, not one per row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from operator import attrgetter
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from worker.db.models import (
    CalendarPeriod,
    ImportBatch,
    LessonMark,
    MarkChange,
    Pupil,
    School,
    SessionMark,
    StaffMember,
    TimetableSlot,
)
from worker.imports.parse import (
    Known,
    LessonRow,
    ParsedFile,
    PeriodRow,
    PupilKey,
    PupilRow,
    SchoolRow,
    SessionMarkRow,
    StaffRow,
    TimetableRow,
    known_from,
)

T = TypeVar("T")
_CHUNK = 500  # bound parameters per IN (...) query


@dataclass
class WriteCounts:
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0  # calendar periods no longer in the file
    kept: int = 0  # a repeated file's rows that would have overwritten newer values


def load_known(session: Session) -> Known:
    """The roster facts the parser checks rows against, in two queries."""
    pupils = [
        PupilKey(ref, upn, forename, surname)
        for ref, upn, forename, surname in session.execute(
            select(Pupil.pupil_ref, Pupil.upn, Pupil.forename, Pupil.surname)
        )
    ]
    return known_from(pupils, session.scalars(select(School.urn)).all())


def write_parsed(
    session: Session, parsed: ParsedFile, batch: ImportBatch, at: datetime, *, fill_only: bool = False
) -> WriteCounts:
    """Upsert the parsed rows. `fill_only` (a file imported before) adds missing rows but changes
    none: the file's values were already applied once, so a stored value that differs now came
    from a later import, and an old export dropped in again must not undo it."""
    writer = _WRITERS[parsed.kind]
    if parsed.kind == "calendar":
        return writer(session, parsed.rows, batch, at)
    return writer(session, parsed.rows, batch, at, fill_only)


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _differs(obj: Any, values: dict[str, Any]) -> bool:
    return any(getattr(obj, k) != v for k, v in values.items())


# --- marks ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _MarkKind:
    """What tells one kind of mark from the other: the same fields name a row and a stored mark."""

    model: type[SessionMark] | type[LessonMark]
    key: tuple[str, ...]  # pupil_ref, date, then the session or the lesson's start and register
    extra: tuple[str, ...] = ()  # stored with the mark but not part of it: no MarkChange alone


_SESSION_MARK = _MarkKind(SessionMark, ("pupil_ref", "date", "session"))
_LESSON_MARK = _MarkKind(LessonMark, ("pupil_ref", "date", "start", "register"), extra=("end",))


def _marks(
    kind: _MarkKind,
    session: Session,
    rows: list[SessionMarkRow] | list[LessonRow],
    batch: ImportBatch,
    at: datetime,
    fill_only: bool,
) -> WriteCounts:
    counts = WriteCounts()
    if not rows:
        return counts
    key_of = attrgetter(*kind.key)
    existing = {key_of(mark): mark for mark in _stored_marks(session, kind.model, rows)}
    changes: list[MarkChange] = []
    for row in rows:
        key = key_of(row)
        new = {"mark": row.mark, "minutes_late": row.minutes_late, "note": row.note}
        extra = {name: getattr(row, name) for name in kind.extra}
        current = existing.get(key)
        if current is None:
            current = kind.model(
                **dict(zip(kind.key, key, strict=True)), **extra,
                import_id=batch.id, updated_at=at, **new,
            )
            session.add(current)
            existing[key] = current
            changes.append(_change(key, None, new, batch, at))
            counts.new += 1
            continue
        mark_differs = _differs(current, new)
        if not mark_differs and not _differs(current, extra):
            counts.unchanged += 1
        elif fill_only:
            counts.kept += 1
        else:
            if mark_differs:  # a changed `extra` alone (a lesson's end time) is not a mark change
                changes.append(_change(key, current, new, batch, at))
            for name, value in {**new, **extra}.items():
                setattr(current, name, value)
            current.import_id, current.updated_at = batch.id, at
            counts.changed += 1
    session.add_all(changes)
    return counts


def _stored_marks(
    session: Session, model: type[SessionMark] | type[LessonMark], rows: Sequence
) -> Iterator[SessionMark | LessonMark]:
    """The stored marks of the rows' pupils over the rows' dates (a superset of the rows' keys)."""
    refs = sorted({r.pupil_ref for r in rows})
    low, high = min(r.date for r in rows), max(r.date for r in rows)
    for chunk in _chunks(refs):
        yield from session.scalars(select(model).where(model.pupil_ref.in_(chunk), model.date.between(low, high)))


def _change(key: tuple, old, new, batch, at) -> MarkChange:
    """`key` is (pupil_ref, date, session) or (pupil_ref, date, start, register)."""
    pupil_ref, day, session_or_start, register = (*key, None)[:4]
    return MarkChange(
        pupil_ref=pupil_ref,
        date=day,
        session=session_or_start,
        register=register,
        old_mark=old.mark if old is not None else None,
        new_mark=new["mark"],
        old_note=old.note if old is not None else None,
        new_note=new["note"],
        old_minutes_late=old.minutes_late if old is not None else None,
        new_minutes_late=new["minutes_late"],
        import_id=batch.id,
        at=at,
    )


# --- roster --------------------------------------------------------------------------------------


def _upsert(
    session: Session, existing: dict, rows: Iterable, key, make, values, fill_only: bool, touch=None
) -> WriteCounts:
    """Upsert by key: `make(row)` builds a new object, `values(row)` the updatable fields,
    `touch(obj)` (optional) stamps an object that was created or changed."""
    counts = WriteCounts()
    for row in rows:
        k = key(row)
        current = existing.get(k)
        fields = values(row)
        if current is None:
            current = make(row)
            session.add(current)
            existing[k] = current
            counts.new += 1
        elif fill_only and _differs(current, fields):
            counts.kept += 1
            continue
        elif _differs(current, fields):
            for name, value in fields.items():
                setattr(current, name, value)
            counts.changed += 1
        else:
            counts.unchanged += 1
            continue
        if touch is not None:
            touch(current)
    return counts


def _schools(
    session: Session, rows: list[SchoolRow], batch: ImportBatch, at: datetime, fill_only: bool
) -> WriteCounts:
    def values(r: SchoolRow) -> dict[str, Any]:
        return {
            "name": r.name, "attendance_emails": r.attendance_emails, "dsl_emails": r.dsl_emails,
            "domains": r.domains, "certificate_day": r.certificate_day, "delivery": r.delivery,
        }

    def touch(school: School) -> None:
        school.updated_at = at

    existing = {s.urn: s for s in session.scalars(select(School))}
    return _upsert(session, existing, rows, lambda r: r.urn,
                   lambda r: School(urn=r.urn, **values(r)), values, fill_only, touch)


def _staff(
    session: Session, rows: list[StaffRow], batch: ImportBatch, at: datetime, fill_only: bool
) -> WriteCounts:
    existing = {(s.role, s.email.lower()): s for s in session.scalars(select(StaffMember))}
    return _upsert(session, existing, rows, lambda r: (r.role, r.email),
                   lambda r: StaffMember(role=r.role, name=r.name, email=r.email),
                   lambda r: {"name": r.name}, fill_only)


def _pupils(
    session: Session, rows: list[PupilRow], batch: ImportBatch, at: datetime, fill_only: bool
) -> WriteCounts:
    def values(r: PupilRow) -> dict[str, Any]:
        return {
            "upn": r.upn, "forename": r.forename, "surname": r.surname,
            "date_of_birth": r.date_of_birth, "school_urn": r.school_urn,
            "key_tutor_email": r.key_tutor_email, "safeguarding_risk": r.safeguarding_risk,
            "registration": r.registration, "start_date": r.start_date, "end_date": r.end_date,
        }

    existing = {p.pupil_ref: p for p in session.scalars(select(Pupil))}
    return _upsert(session, existing, rows, lambda r: r.pupil_ref,
                   lambda r: Pupil(pupil_ref=r.pupil_ref, **values(r)), values, fill_only)


def _timetables(
    session: Session, rows: list[TimetableRow], batch: ImportBatch, at: datetime, fill_only: bool
) -> WriteCounts:
    existing = {
        (t.pupil_ref, t.weekday, t.session, t.valid_from): t
        for t in session.scalars(select(TimetableSlot))
    }
    return _upsert(
        session, existing, rows,
        lambda r: (r.pupil_ref, r.weekday, r.session, r.valid_from),
        lambda r: TimetableSlot(pupil_ref=r.pupil_ref, weekday=r.weekday, session=r.session,
                                place=r.place, valid_from=r.valid_from, valid_to=r.valid_to),
        lambda r: {"place": r.place, "valid_to": r.valid_to},
        fill_only,
    )


def _calendar(session: Session, rows: list[PeriodRow], batch: ImportBatch, at: datetime) -> WriteCounts:
    """The calendar file is the whole calendar: its periods replace the stored ones."""
    current = list(session.scalars(select(CalendarPeriod)))
    old = {(p.kind, p.start, p.end, p.name) for p in current}
    new = {(r.kind, r.start, r.end, r.name) for r in rows}
    counts = WriteCounts(new=len(new - old), unchanged=len(new & old), removed=len(old - new))
    if old == new and len(current) == len(rows):
        return counts
    for period in current:
        session.delete(period)
    session.flush()
    session.add_all(CalendarPeriod(kind=r.kind, start=r.start, end=r.end, name=r.name) for r in rows)
    return counts


_WRITERS = {
    "roll_call": partial(_marks, _SESSION_MARK),
    "lessons": partial(_marks, _LESSON_MARK),
    "schools": _schools,
    "staff": _staff,
    "pupils": _pupils,
    "timetables": _timetables,
    "calendar": _calendar,
}
