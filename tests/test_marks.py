"""Session marks from roll calls and lessons: the best-mark rule (properties and examples)."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.attendance.codes import codebook_at
from worker.attendance.marks import (
    SessionRules,
    Window,
    best_lesson,
    day_marks,
    load_session_rules,
    outside_windows,
    seen_days,
    session_mark,
)
from worker.attendance.world import LessonRecord, Mark, PupilMarks
from worker.errors import RulesError

RULES_DIR = Path(__file__).resolve().parents[1] / "rules"
BOOK = codebook_at(str(RULES_DIR))
AM = Window("AM", time(8, 30), time(12, 0))
PM = Window("PM", time(12, 45), time(15, 30))
RULES = SessionRules(windows={"AM": AM, "PM": PM}, mark_rule="best")
CODES = sorted(BOOK.codes)
PRESENT = {"/", "\\", "L"}


def lesson(start: str, code: str, register: str = "Maths", note: str | None = None, late=None):
    h, m = map(int, start.split(":"))
    return LessonRecord(time(h, m), time(h, m), register, Mark(code, late, note, "lesson"))


# --- strategies ---------------------------------------------------------------------------

am_times = st.builds(time, st.integers(8, 11), st.integers(0, 59)).filter(AM.contains)
outside_times = st.one_of(
    st.builds(time, st.integers(0, 8), st.integers(0, 29)),
    st.builds(time, st.just(12), st.integers(0, 44)),
    st.builds(time, st.integers(16, 23), st.integers(0, 59)),
)


@st.composite
def am_lessons(draw, min_size=0):
    """Lessons starting in the AM window with distinct registers (as Arbor's key guarantees)."""
    n = draw(st.integers(min_size, 6))
    starts = draw(st.lists(am_times, min_size=n, max_size=n))
    codes = draw(st.lists(st.sampled_from(CODES), min_size=n, max_size=n))
    notes = draw(st.lists(st.sampled_from([None, "note a", "note b"]), min_size=n, max_size=n))
    return [
        LessonRecord(s, s, f"R{i}", Mark(c, 5 if c == "L" else None, note, "lesson"))
        for i, (s, c, note) in enumerate(zip(starts, codes, notes, strict=True))
    ]


# --- properties of the best-mark rule ---------------------------------------------------------


@given(am_lessons(), st.randoms(use_true_random=False))
def test_best_mark_does_not_depend_on_the_order_of_lessons(lessons, rnd):
    shuffled = list(lessons)
    rnd.shuffle(shuffled)
    assert session_mark(None, shuffled, AM, BOOK) == session_mark(None, lessons, AM, BOOK)
    assert session_mark(None, shuffled, AM, BOOK, "first") == session_mark(
        None, lessons, AM, BOOK, "first"
    )


@given(am_lessons(min_size=1))
def test_result_is_one_of_the_inputs_and_none_is_better(lessons):
    result = session_mark(None, lessons, AM, BOOK)
    assert result is not None and result.source == "lesson"
    assert any(
        (ls.mark.code, ls.mark.note, ls.mark.minutes_late)
        == (result.code, result.note, result.minutes_late)
        for ls in lessons
    )
    assert all(BOOK.rank(result.code) <= BOOK.rank(ls.mark.code) for ls in lessons)


@given(am_lessons(), st.sampled_from(sorted(PRESENT)), am_times)
def test_a_present_mark_always_wins(lessons, code, start):
    with_present = [*lessons, LessonRecord(start, start, "Extra", Mark(code))]
    result = session_mark(None, with_present, AM, BOOK)
    assert result.code in PRESENT
    if code != "L" or any(ls.mark.code in {"/", "\\"} for ls in lessons):
        assert result.code in {"/", "\\"}  # on time beats late


@given(am_lessons(), st.sampled_from(CODES))
def test_roll_call_always_wins(lessons, code):
    roll_call = Mark(code, None, "from the roll call")
    assert session_mark(roll_call, lessons, AM, BOOK) is roll_call
    assert session_mark(roll_call, lessons, AM, BOOK, "first") is roll_call


@given(am_lessons(min_size=1))
def test_idempotent(lessons):
    first = session_mark(None, lessons, AM, BOOK)
    again = session_mark(None, [LessonRecord(time(9), time(10), "Again", first)], AM, BOOK)
    assert (again.code, again.note, again.minutes_late) == (
        first.code,
        first.note,
        first.minutes_late,
    )
    # Adding the winning lesson again changes nothing either.
    winner = best_lesson(lessons, BOOK)
    assert session_mark(None, [*lessons, winner], AM, BOOK) == first


@given(am_lessons(), st.lists(st.tuples(outside_times, st.sampled_from(CODES)), max_size=4))
def test_lessons_outside_the_window_are_ignored(lessons, extra):
    outside = [LessonRecord(t, t, f"X{i}", Mark(c)) for i, (t, c) in enumerate(extra)]
    assert session_mark(None, [*lessons, *outside], AM, BOOK) == session_mark(
        None, lessons, AM, BOOK
    )


@given(am_lessons(min_size=1))
def test_first_rule_takes_the_earliest_lesson(lessons):
    result = session_mark(None, lessons, AM, BOOK, "first")
    earliest = min(ls.start for ls in lessons)
    assert any(ls.start == earliest and ls.mark.code == result.code for ls in lessons)


# --- examples from the fixtures' scenarios (S11, S16) ----------------------------------------


def test_scenario_lesson_combinations():
    cases = [
        (["N", "/"], "/"),
        (["L", "/", "/"], "/"),
        (["I", "O"], "I"),
        (["M", "N"], "M"),
        (["N", "N", "\\"], "\\"),
    ]
    for codes, expected in cases:
        lessons = [lesson(f"{9 + i}:00", c, f"R{i}") for i, c in enumerate(codes)]
        assert session_mark(None, lessons, AM, BOOK).code == expected, codes


def test_note_and_minutes_late_come_from_the_winning_lesson():
    lessons = [
        lesson("13:00", "I", "Art", note="Parent called at lunchtime - unwell"),
        lesson("14:00", "O", "Wellbeing"),
    ]
    assert session_mark(None, lessons, PM, BOOK) == Mark(
        "I", None, "Parent called at lunchtime - unwell", "lesson"
    )
    late = session_mark(None, [lesson("09:00", "L", late=12), lesson("10:00", "N", "B")], AM, BOOK)
    assert (late.code, late.minutes_late) == ("L", 12)


def test_window_edges_use_the_start_time():
    assert AM.contains(time(8, 30)) and not AM.contains(time(12, 0))
    assert PM.contains(time(12, 45)) and not PM.contains(time(15, 30))
    lunch = lesson("12:15", "/", "Lunch club")
    assert outside_windows([lunch, lesson("09:00", "M")], RULES.windows) == [lunch]
    # S16: a lunch-club / on a morning marked M does not make the pupil present
    marks = PupilMarks(lessons={date(2026, 11, 23): (lesson("09:00", "M"), lunch)})
    day = day_marks(marks, date(2026, 11, 23), RULES, BOOK)
    assert day["AM"].code == "M" and day["PM"] is None
    assert seen_days(marks, RULES, BOOK) == set()


def test_roll_call_beats_lessons_in_day_marks():
    d = date(2026, 11, 24)
    marks = PupilMarks(
        roll_calls={(d, "AM"): Mark("O", None, "No contact")},
        lessons={d: (lesson("09:00", "/"), lesson("13:00", "\\"))},
    )
    day = day_marks(marks, d, RULES, BOOK)
    assert day["AM"] == Mark("O", None, "No contact")
    assert day["PM"].code == "\\" and day["PM"].source == "lesson"
    assert seen_days(marks, RULES, BOOK) == {d}


def test_rules_file_of_the_repository():
    rules = load_session_rules(RULES_DIR)
    assert rules.windows["AM"] == AM and rules.windows["PM"] == PM
    assert rules.mark_rule == "best"


def test_bad_rules_file_is_named(tmp_path):
    (tmp_path / "sessions.yaml").write_text(
        "windows:\n  AM: {start: '12:00', end: '08:30'}\nmark_rule: best\n", encoding="utf-8"
    )
    with pytest.raises(RulesError, match="sessions.yaml"):
        load_session_rules(tmp_path)
    (tmp_path / "sessions.yaml").write_text("mark_rule: worst\n", encoding="utf-8")
    with pytest.raises(RulesError, match="mark_rule"):
        load_session_rules(tmp_path)
