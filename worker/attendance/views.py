"""JSON views over the database: one certificate, and the not-seen standing of every pupil.

Thin edges: load the World once, run the pure rules, return plain dicts (what the CLI prints
and what tests compare with the fixtures' expected files).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from worker.attendance.calendar import monday_of
from worker.attendance.codes import CodeBook
from worker.attendance.marks import SessionRules, load_session_rules, seen_days
from worker.attendance.notseen import load_thresholds, not_seen_status
from worker.attendance.school_code import SchoolCodeRules, load_school_code_rules
from worker.attendance.world import World
from worker.certificates.content import certificate_content
from worker.db.queries_attendance import load_world
from worker.errors import NotFound


def certificate_from_world(
    world: World,
    pupil_ref: str,
    week_start: date,
    codebook: CodeBook,
    session_rules: SessionRules,
    code_rules: SchoolCodeRules,
) -> dict[str, Any]:
    pupil = world.pupils.get(pupil_ref)
    if pupil is None:
        raise NotFound(f"no pupil with reference {pupil_ref!r}", pupil_ref=pupil_ref)
    school = world.schools.get(pupil.school_urn)
    if school is None:
        raise NotFound(
            f"pupil {pupil_ref}: Main School {pupil.school_urn!r} is not in the roster",
            pupil_ref=pupil_ref,
            urn=pupil.school_urn,
        )
    return certificate_content(
        pupil=pupil,
        school=school,
        week_start=week_start,
        calendar=world.calendar,
        timetable=world.timetable(pupil_ref),
        marks=world.marks_of(pupil_ref),
        codebook=codebook,
        session_rules=session_rules,
        code_rules=code_rules,
    )


def certificate_json(
    session: Session,
    codebook: CodeBook,
    rules_dir: Path,
    pupil_ref: str,
    week_start: date,
) -> dict[str, Any]:
    """The certificate content of `pupil_ref` for the Mon-Fri week containing `week_start`."""
    monday = monday_of(week_start)
    world = load_world(session, [pupil_ref], monday, monday + timedelta(days=4))
    return certificate_from_world(
        world,
        pupil_ref,
        monday,
        codebook,
        load_session_rules(Path(rules_dir)),
        load_school_code_rules(Path(rules_dir)),
    )


def cases_from_world(
    world: World,
    codebook: CodeBook,
    rules_dir: Path,
    as_of: date,
) -> list[dict[str, Any]]:
    session_rules = load_session_rules(Path(rules_dir))
    thresholds = load_thresholds(Path(rules_dir))
    result = []
    pupils = sorted(world.pupils.values(), key=lambda p: (p.surname, p.forename, p.pupil_ref))
    for pupil in pupils:
        if pupil.start_date is not None and pupil.start_date > as_of:
            continue  # not on roll at any point up to as_of
        marks = world.marks_of(pupil.pupil_ref).until(as_of)
        status = not_seen_status(
            pupil,
            world.calendar,
            seen_days(marks, session_rules, codebook),
            world.first_data_day,
            as_of,
            thresholds,
        )
        result.append(status.as_dict())
    return result


def cases_json(
    session: Session, codebook: CodeBook, rules_dir: Path, as_of: date
) -> list[dict[str, Any]]:
    """Every pupil on roll at some point up to `as_of`, as things stood at the end of that day.

    Marks dated after `as_of` are ignored, so a replay over newer data gives the same answer.
    """
    world = load_world(session, None, None, as_of)
    return cases_from_world(world, codebook, rules_dir, as_of)
