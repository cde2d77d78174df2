"""What an Attendance Certificate says for one pupil and one Mon-Fri week (pure).

The Main School copies this into its legal attendance register, so the content is plain
data that tests compare field by field, and that is hashed to tell a real amendment (what
the school records or reads changed) from a change only the Service sees.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from worker.attendance.calendar import SHORT_WEEKDAYS, ServiceCalendar, monday_of
from worker.attendance.codes import CodeBook
from worker.attendance.marks import SessionRules, day_marks
from worker.attendance.school_code import Cell, SchoolCodeRules, session_cell
from worker.attendance.world import SESSIONS, PupilInfo, PupilMarks, SchoolInfo, Timetable

SCHOOL_FIELDS = ("main_school_code", "pending", "reason")


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def attendance_percent(attended: int, offered: int) -> float | None:
    """attended / offered x 100, rounded half up to 1 decimal place; None when nothing offered."""
    if offered <= 0:
        return None
    value = (Decimal(attended) * 100 / Decimal(offered)).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return float(value)


def certificate_content(
    *,
    pupil: PupilInfo,
    school: SchoolInfo,
    week_start: date,
    calendar: ServiceCalendar,
    timetable: Timetable,
    marks: PupilMarks,
    codebook: CodeBook,
    session_rules: SessionRules,
    code_rules: SchoolCodeRules,
) -> dict[str, Any]:
    """The certificate of `pupil` for the Mon-Fri week containing `week_start`."""
    monday = monday_of(week_start)
    offered = attended = pending = 0
    days = []
    for offset in range(5):
        day = monday + timedelta(days=offset)
        closed = calendar.closure_reason(day)
        on_roll = pupil.on_roll(day)
        session_marks = day_marks(marks, day, session_rules, codebook)
        entry: dict[str, Any] = {
            "date": day.isoformat(),
            "weekday": SHORT_WEEKDAYS[day.weekday()],
            "service_open": closed is None,
        }
        for session in SESSIONS:
            mark = session_marks[session]
            cell: Cell = session_cell(
                on_roll=on_roll,
                closed_reason=closed,
                place=timetable.place(day, session) if on_roll else None,
                mark=mark,
                registration=pupil.registration,
                codebook=codebook,
                rules=code_rules,
            )
            entry[session] = cell.as_dict()
            pending += cell.pending
            if on_roll and closed is None and cell.place == "service":
                code = codebook.get(mark.code) if mark is not None else None
                if code is None or code.possible:
                    offered += 1
                    if code is not None and code.category in code_rules.attended_categories:
                        attended += 1
        days.append(entry)
    return {
        "pupil": {
            "pupil_ref": pupil.pupil_ref,
            "upn": pupil.upn or None,
            "forename": pupil.forename,
            "surname": pupil.surname,
            "date_of_birth": _iso(pupil.date_of_birth),
            "registration": pupil.registration,
        },
        "main_school": {
            "urn": school.urn,
            "name": school.name,
            "certificate_day": school.certificate_day,
            "delivery": school.delivery,
        },
        "week_start": monday.isoformat(),
        "week_end": (monday + timedelta(days=4)).isoformat(),
        "certificate_due": _iso(calendar.certificate_due(monday, school.certificate_day)),
        "days": days,
        "totals": {
            "sessions_offered": offered,
            "sessions_attended": attended,
            "attendance_percent": attendance_percent(attended, offered),
            "pending_sessions": pending,
        },
    }


def _stable_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def content_hash(content: dict[str, Any]) -> str:
    """sha256 of the whole content as stable JSON: any change at all gives a new hash."""
    return hashlib.sha256(_stable_json(content)).hexdigest()


def school_view(content: dict[str, Any]) -> dict[str, Any]:
    """Only what the Main School records or reads: per session its code, pending flag and reason."""
    return {
        "pupil_ref": (content.get("pupil") or {}).get("pupil_ref"),
        "week_start": content.get("week_start"),
        "days": [
            {
                "date": day["date"],
                **{s: {f: day[s][f] for f in SCHOOL_FIELDS} for s in SESSIONS},
            }
            for day in content.get("days", [])
        ],
    }


def school_hash(content: dict[str, Any]) -> str:
    """Equal hashes mean the school has nothing new to record: no AMENDED certificate is sent."""
    return hashlib.sha256(_stable_json(school_view(content))).hexdigest()
