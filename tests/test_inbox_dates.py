"""Dates in replies: relative words against the reply's day, explicit dates win."""

from __future__ import annotations

from datetime import date

import pytest

from worker.inbox.dates import check_date_in, find_dates, spell_out

THU = date(2026, 11, 26)  # a Thursday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("visited this morning", date(2026, 11, 26)),
        ("this afternoon we went round", date(2026, 11, 26)),
        ("today", date(2026, 11, 26)),
        ("yesterday evening", date(2026, 11, 25)),
        ("the day before yesterday", date(2026, 11, 24)),
        ("on Tuesday", date(2026, 11, 24)),
        ("on Thursday", date(2026, 11, 26)),  # on or before the reply's day
        ("last Thursday", date(2026, 11, 19)),
        ("25/11", date(2026, 11, 25)),
        ("done on Wednesday 25/11 by me", date(2026, 11, 25)),
        ("Monday 23rd", date(2026, 11, 23)),
        ("on Tuesday 24th", date(2026, 11, 24)),
        ("24 November 2026", date(2026, 11, 24)),
        ("Nov 24th", date(2026, 11, 24)),
        ("24.11.26", date(2026, 11, 24)),
        ("two days ago", date(2026, 11, 24)),
        ("nothing here at 8.40", None),
    ],
)
def test_check_dates(text: str, expected: date | None) -> None:
    assert check_date_in(text, THU) == expected


def test_explicit_date_wins_over_relative_word() -> None:
    assert check_date_in("this morning, i.e. on 23/11", THU) == date(2026, 11, 23)


def test_day_number_in_previous_month_when_weekday_fits() -> None:
    # Reply on Tue 1 Dec 2026: "Monday 30th" is 30 November.
    assert check_date_in("visit done Monday 30th", date(2026, 12, 1)) == date(2026, 11, 30)


def test_year_turn() -> None:
    assert check_date_in("visited on 30/12", date(2027, 1, 4)) == date(2026, 12, 30)


def test_future_words_are_marked_future() -> None:
    hits = find_dates("we will try again tomorrow", THU)
    assert hits[0].future and hits[0].when == date(2026, 11, 27)
    assert check_date_in("we will try again tomorrow", THU) is None


def test_spell_out_next_steps() -> None:
    assert spell_out("back on Monday", date(2026, 11, 24)) == "back on Monday (30 November 2026)"
    assert spell_out("try again tomorrow", date(2026, 11, 24)) == "try again tomorrow (25 November 2026)"
