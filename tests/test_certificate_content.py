"""Certificate content, Main School codes, hashes and the amendment diff (hand-built data)."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from worker.attendance.calendar import DateRange, ServiceCalendar
from worker.attendance.codes import codebook_at
from worker.attendance.marks import SessionRules, Window
from worker.attendance.school_code import SchoolCodeRules, load_school_code_rules, session_cell
from worker.attendance.world import (
    LessonRecord,
    Mark,
    PupilInfo,
    PupilMarks,
    SchoolInfo,
    Slot,
    Timetable,
)
from worker.certificates.content import (
    attendance_percent,
    certificate_content,
    content_hash,
    school_hash,
)
from worker.certificates.diff import diff
from worker.errors import RulesError

RULES_DIR = Path(__file__).resolve().parents[1] / "rules"
BOOK = codebook_at(str(RULES_DIR))
CODE_RULES = load_school_code_rules(RULES_DIR)
SESSION_RULES = SessionRules(
    windows={
        "AM": Window("AM", time(8, 30), time(12)),
        "PM": Window("PM", time(12, 45), time(15, 30)),
    }
)
CAL = ServiceCalendar.build(
    [DateRange(date(2026, 9, 3), date(2026, 12, 18))],
    [DateRange(date(2026, 10, 26), date(2026, 10, 30))],
    [DateRange(date(2026, 11, 20), date(2026, 11, 20), "INSET day (staff training)")],
)
FRIDAY_SCHOOL = SchoolInfo("107327", "Heatonbrook Academy", "Friday", "per_school")
WEEK = date(2026, 11, 16)  # Fri 20 Nov is INSET


def d(text: str) -> date:
    return date.fromisoformat(text)


TERM_START = date(2026, 1, 5)


def timetable(places: dict[tuple[int, str], str], valid_from=TERM_START, valid_to=None):
    """Full Mon-Fri timetable; places not given are 'service'."""
    return tuple(
        Slot(wd, s, places.get((wd, s), "service"), valid_from, valid_to)
        for wd in range(5)
        for s in ("AM", "PM")
    )


def make_pupil(**kw) -> PupilInfo:
    base = dict(
        pupil_ref="90001",
        forename="Ada",
        surname="Példa",
        school_urn="107327",
        upn="A999000000001",
        date_of_birth=d("2012-05-01"),
        registration="K",
        start_date=d("2026-01-05"),
    )
    base.update(kw)
    return PupilInfo(**base)


def content(pupil, marks, slots, week=WEEK, school=FRIDAY_SCHOOL):
    return certificate_content(
        pupil=pupil,
        school=school,
        week_start=week,
        calendar=CAL,
        timetable=Timetable(slots),
        marks=marks,
        codebook=BOOK,
        session_rules=SESSION_RULES,
        code_rules=CODE_RULES,
    )


def roll(entries: dict[tuple[str, str], tuple]) -> PupilMarks:
    return PupilMarks(roll_calls={(d(day), s): Mark(*value) for (day, s), value in entries.items()})


def cell(c, day_index, session):
    return c["days"][day_index][session]


def test_shape_codes_and_totals_of_a_week_with_an_inset_friday():
    marks = roll(
        {
            ("2026-11-16", "AM"): ("/",),
            ("2026-11-16", "PM"): ("\\",),
            ("2026-11-17", "AM"): ("L", 12),
            ("2026-11-18", "AM"): ("I", None, "Mum called - unwell"),
            ("2026-11-18", "PM"): ("O", None, "  "),
            ("2026-11-19", "AM"): ("N",),
        }
    )
    slots = timetable({(1, "PM"): "none", (3, "PM"): "main_school", (4, "AM"): "none"})
    c = content(make_pupil(), marks, slots)
    assert list(c) == [
        "pupil",
        "main_school",
        "week_start",
        "week_end",
        "certificate_due",
        "days",
        "totals",
    ]
    assert c["pupil"] == {
        "pupil_ref": "90001",
        "upn": "A999000000001",
        "forename": "Ada",
        "surname": "Példa",
        "date_of_birth": "2012-05-01",
        "registration": "K",
    }
    assert c["main_school"] == {
        "urn": "107327",
        "name": "Heatonbrook Academy",
        "certificate_day": "Friday",
        "delivery": "per_school",
    }
    assert (c["week_start"], c["week_end"], c["certificate_due"]) == (
        "2026-11-16",
        "2026-11-20",
        "2026-11-19",
    )
    assert [day["weekday"] for day in c["days"]] == ["Mon", "Tue", "Wed", "Thu", "Fri"]
    assert [day["service_open"] for day in c["days"]] == [True, True, True, True, False]
    assert cell(c, 0, "AM")["main_school_code"] == "K"
    assert cell(c, 1, "AM") == {
        "place": "service",
        "service_mark": "L",
        "main_school_code": "K",
        "reason": None,
        "pending": False,
        "minutes_late": 12,
    }
    assert cell(c, 1, "PM") == {
        "place": "none",
        "service_mark": None,
        "main_school_code": "C2",
        "reason": None,
        "pending": False,
        "minutes_late": None,
    }
    assert cell(c, 2, "AM")["main_school_code"] == "I"
    assert cell(c, 2, "AM")["reason"] == "Mum called - unwell"
    assert cell(c, 2, "PM")["reason"] is None  # a blank note is no reason
    assert cell(c, 3, "AM") == {
        "place": "service",
        "service_mark": "N",
        "main_school_code": "N",
        "reason": None,
        "pending": True,
        "minutes_late": None,
    }
    assert (
        cell(c, 3, "PM")["main_school_code"] is None and cell(c, 3, "PM")["place"] == "main_school"
    )
    assert cell(c, 4, "AM") == {
        "place": "none",
        "service_mark": None,
        "main_school_code": None,
        "reason": "Service closed: INSET day (staff training)",
        "pending": False,
        "minutes_late": None,
    }
    assert cell(c, 4, "PM")["place"] == "service"
    assert cell(c, 4, "PM")["main_school_code"] is None
    # Offered: Mon AM PM, Tue AM, Wed AM PM, Thu AM = 6; attended 3; pending: Thu AM only
    assert c["totals"] == {
        "sessions_offered": 6,
        "sessions_attended": 3,
        "attendance_percent": 50.0,
        "pending_sessions": 1,
    }


def test_missing_mark_at_the_service_is_pending():
    c = content(make_pupil(), roll({}), timetable({}), week=d("2026-11-09"))
    assert cell(c, 0, "AM") == {
        "place": "service",
        "service_mark": None,
        "main_school_code": None,
        "reason": None,
        "pending": True,
        "minutes_late": None,
    }
    assert c["totals"] == {
        "sessions_offered": 10,
        "sessions_attended": 0,
        "attendance_percent": 0.0,
        "pending_sessions": 10,
    }


def test_registration_d_records_d_for_attendance_and_keeps_absence_codes():
    marks = roll({("2026-11-23", "AM"): ("/",), ("2026-11-23", "PM"): ("I", None, "Unwell")})
    c = content(make_pupil(registration="D"), marks, timetable({}), week=d("2026-11-23"))
    assert cell(c, 0, "AM")["main_school_code"] == "D"
    assert cell(c, 0, "PM")["main_school_code"] == "I"


def test_main_school_day_has_no_code_and_is_not_offered():
    slots = timetable({(wd, s): "main_school" for wd in range(5) for s in ("AM", "PM")})
    c = content(make_pupil(), roll({}), slots, week=d("2026-11-09"))
    assert all(day[s]["main_school_code"] is None for day in c["days"] for s in ("AM", "PM"))
    assert c["totals"] == {
        "sessions_offered": 0,
        "sessions_attended": 0,
        "attendance_percent": None,
        "pending_sessions": 0,
    }


def test_pupil_joining_mid_week():
    marks = roll({("2026-11-11", "AM"): ("/",), ("2026-11-11", "PM"): ("\\",)})
    c = content(
        make_pupil(start_date=d("2026-11-11")),
        marks,
        timetable({}, d("2026-11-11")),
        week=d("2026-11-09"),
    )
    off = {
        "place": None,
        "service_mark": None,
        "main_school_code": None,
        "reason": None,
        "pending": False,
        "minutes_late": None,
    }
    assert cell(c, 0, "AM") == off and cell(c, 1, "PM") == off
    assert cell(c, 2, "AM")["main_school_code"] == "K"
    assert c["totals"]["sessions_offered"] == 6  # Wed, Thu, Fri
    assert c["totals"]["pending_sessions"] == 4


def test_pupil_leaving_mid_week_on_a_closed_day_shows_nothing_after():
    marks = roll({("2026-11-16", "AM"): ("/",)})
    c = content(make_pupil(end_date=d("2026-11-17")), marks, timetable({}))
    assert cell(c, 2, "AM")["place"] is None and cell(c, 4, "AM")["reason"] is None
    assert c["totals"]["sessions_offered"] == 4
    assert c["totals"]["sessions_attended"] == 1


def test_not_counted_code_is_not_offered():
    marks = roll(
        {("2026-11-16", "AM"): ("Y1", None, "Taxi did not come"), ("2026-11-16", "PM"): ("\\",)}
    )
    slots = timetable({(wd, s): "main_school" for wd in range(1, 5) for s in ("AM", "PM")})
    c = content(make_pupil(), marks, slots)
    assert cell(c, 0, "AM")["main_school_code"] == "Y1"
    assert c["totals"]["sessions_offered"] == 1 and c["totals"]["attendance_percent"] == 100.0


def test_half_term_week_has_no_due_day():
    c = content(make_pupil(), roll({}), timetable({}), week=d("2026-10-28"))
    assert c["week_start"] == "2026-10-26" and c["certificate_due"] is None
    assert {c["days"][0]["AM"]["reason"]} == {"Service closed: half term"}
    assert c["totals"]["attendance_percent"] is None


def test_lessons_give_the_mark_when_there_is_no_roll_call():
    day = d("2026-11-23")
    marks = PupilMarks(
        lessons={
            day: (
                LessonRecord(time(9), time(9, 50), "English", Mark("N", source="lesson")),
                LessonRecord(time(10), time(10, 50), "Maths", Mark("/", source="lesson")),
                LessonRecord(time(12, 15), time(12, 40), "Lunch club", Mark("/", source="lesson")),
            )
        }
    )
    c = content(make_pupil(), marks, timetable({}), week=day)
    assert cell(c, 0, "AM")["service_mark"] == "/"
    assert cell(c, 0, "PM")["pending"] is True  # the lunch club belongs to no session


def test_percent_rounds_half_up():
    assert attendance_percent(2, 3) == 66.7
    assert attendance_percent(1, 8) == 12.5
    assert attendance_percent(1, 6) == 16.7
    assert attendance_percent(5, 16) == 31.3  # 31.25 -> 31.3 (half up, not to even)
    assert attendance_percent(0, 0) is None


def test_hashes_and_diff_tell_a_school_change_from_a_service_only_change():
    base = {
        ("2026-11-17", "AM"): ("/",),
        ("2026-11-18", "AM"): ("N",),
        ("2026-11-18", "PM"): ("N",),
    }
    old = content(make_pupil(), roll(base), timetable({}))
    same = content(make_pupil(), roll(base), timetable({}))
    assert content_hash(old) == content_hash(same) and len(content_hash(old)) == 64

    late = content(make_pupil(), roll({**base, ("2026-11-17", "AM"): ("L", 10)}), timetable({}))
    assert content_hash(late) != content_hash(old)
    assert school_hash(late) == school_hash(old)
    assert diff(old, late) == (["2026-11-17 AM: / -> L"], False)

    known = {**base, ("2026-11-18", "AM"): ("O", None, "No contact"), ("2026-11-18", "PM"): ("O",)}
    new = content(make_pupil(), roll(known), timetable({}))
    assert school_hash(new) != school_hash(old)
    assert diff(old, new) == (["2026-11-18 AM: N -> O", "2026-11-18 PM: N -> O"], True)

    noted = content(
        make_pupil(), roll({**known, ("2026-11-18", "PM"): ("O", None, "Letter")}), timetable({})
    )
    assert diff(new, noted) == (["2026-11-18 PM: reason changed"], True)
    assert diff(new, new) == ([], False)


def test_session_cell_rules_order_and_data(tmp_path):
    args = dict(on_roll=True, closed_reason=None, registration="K", codebook=BOOK, rules=CODE_RULES)
    assert session_cell(place="none", mark=Mark("/"), **args).main_school_code == "K"
    assert session_cell(place="main_school", mark=None, **args).main_school_code is None
    closed = session_cell(**{**args, "closed_reason": "half term"}, place="none", mark=None)
    assert (closed.main_school_code, closed.reason) == (None, "Service closed: half term")
    # The mapping is data: a Service that wanted B for attendance could say so.
    (tmp_path / "main_school_codes.yaml").write_text(
        "attended:\n  categories: [present]\n  code_by_registration: {K: B, D: D}\n"
        "part_time_code: C2\nclosed_reason: 'Closed ({reason})'\n",
        encoding="utf-8",
    )
    custom = load_school_code_rules(tmp_path)
    assert custom.attended_code("K") == "B"
    assert (
        session_cell(**{**args, "rules": custom}, place="service", mark=Mark("L")).main_school_code
        == "B"
    )
    assert load_school_code_rules(tmp_path / "absent") == SchoolCodeRules()
    (tmp_path / "main_school_codes.yaml").write_text("closed_reason: 'closed'\n", encoding="utf-8")
    with pytest.raises(RulesError):
        load_school_code_rules(tmp_path)
