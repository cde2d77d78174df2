"""ServiceCalendar: school days, closure reasons, certificate due days (hand-built calendars)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.attendance.calendar import (
    DateRange,
    EnglandBankHolidays,
    ServiceCalendar,
    monday_of,
    weekday_index,
)

# Spring 2026: Easter is Sun 5 Apr (Good Friday 3 Apr, Easter Monday 6 Apr); May Day Mon 4 May.
SPRING = DateRange(date(2026, 1, 5), date(2026, 7, 22), "Spring-Summer 2026")
FEB_HALF = DateRange(date(2026, 2, 16), date(2026, 2, 20))
AUTUMN = DateRange(date(2026, 9, 3), date(2026, 12, 18), "Autumn 2026")
OCT_HALF = DateRange(date(2026, 10, 26), date(2026, 10, 30))
INSET = DateRange(date(2026, 11, 20), date(2026, 11, 20), "INSET day (staff training)")


@pytest.fixture(scope="module")
def cal() -> ServiceCalendar:
    """The real England bank holidays from the `holidays` package."""
    return ServiceCalendar.build([SPRING, AUTUMN], [FEB_HALF, OCT_HALF], [INSET])


def test_real_bank_holidays_come_from_the_holidays_package(cal):
    bank = EnglandBankHolidays()
    assert bank[date(2026, 4, 3)] == "Good Friday"
    assert date(2026, 4, 6) in bank
    assert date(2026, 4, 7) not in bank
    assert cal.closure_reason(date(2026, 4, 6)) == "Easter Monday"
    assert not cal.is_school_day(date(2026, 5, 4))  # May Day, inside the term


def test_closure_reasons(cal):
    assert cal.closure_reason(date(2026, 11, 20)) == "INSET day (staff training)"
    assert cal.closure_reason(date(2026, 10, 27)) == "half term"
    assert cal.closure_reason(date(2026, 11, 21)) == "weekend"
    assert cal.closure_reason(date(2026, 9, 2)) == "outside term"
    assert cal.closure_reason(date(2026, 12, 21)) == "outside term"
    assert cal.closure_reason(date(2026, 8, 31)) == "Late Summer Bank Holiday"
    assert cal.closure_reason(date(2026, 11, 19)) is None
    assert cal.is_school_day(date(2026, 9, 3))  # first day of term


def test_school_days_and_next_school_day(cal):
    days = cal.school_days(date(2026, 10, 22), date(2026, 11, 3))
    # Thu 22, Fri 23 Oct; half term; Mon 2, Tue 3 Nov
    assert days == [date(2026, 10, 22), date(2026, 10, 23), date(2026, 11, 2), date(2026, 11, 3)]
    assert cal.next_school_day(date(2026, 10, 23)) == date(2026, 11, 2)
    assert cal.next_school_day(date(2026, 11, 19)) == date(2026, 11, 23)  # INSET Fri + weekend
    assert cal.next_school_day(date(2026, 4, 2)) == date(2026, 4, 7)  # Good Friday .. Easter Monday
    assert cal.next_school_day(date(2026, 12, 18)) is None  # no term after Autumn 2026 here


def test_no_next_school_day_without_a_next_term():
    only = ServiceCalendar.build([DateRange(date(2026, 9, 7), date(2026, 9, 11))], bank_holidays={})
    assert only.next_school_day(date(2026, 9, 11)) is None
    assert only.next_school_day(date(2026, 9, 10)) == date(2026, 9, 11)


def test_friday_bank_holiday_moves_the_certificate_to_thursday(cal):
    assert cal.certificate_due(date(2026, 3, 30), "Friday") == date(2026, 4, 2)
    assert cal.certificate_due(date(2026, 3, 30), "Thursday") == date(2026, 4, 2)


def test_easter_monday_week(cal):
    assert cal.certificate_due(date(2026, 4, 6), "Friday") == date(2026, 4, 10)
    # A school that agreed Monday has no school day on or before it that week
    assert cal.certificate_due(date(2026, 4, 6), "Monday") is None
    assert cal.certificate_due(date(2026, 5, 4), "Monday") is None  # May Day


def test_inset_friday_and_week_start_not_a_monday(cal):
    assert cal.certificate_due(date(2026, 11, 16), "Friday") == date(2026, 11, 19)
    assert cal.certificate_due(date(2026, 11, 18), "Friday") == date(2026, 11, 19)
    assert cal.certificate_due(date(2026, 11, 16), "Thursday") == date(2026, 11, 19)
    assert cal.certificate_due(date(2026, 11, 9), "Thursday") == date(2026, 11, 12)


def test_no_school_day_on_or_before_the_day_gives_none(cal):
    assert cal.certificate_due(date(2026, 10, 26), "Friday") is None  # half term
    # Term starts Thursday 3 Sep: a Wednesday school has nothing that week
    assert cal.certificate_due(date(2026, 8, 31), "Wednesday") is None
    assert cal.certificate_due(date(2026, 8, 31), "Thursday") == date(2026, 9, 3)
    assert cal.certificate_due(date(2026, 8, 31), "Friday") == date(2026, 9, 4)


def test_weekday_names():
    assert weekday_index("Friday") == 4
    assert weekday_index("thu") == 3
    with pytest.raises(ValueError):
        weekday_index("Funday")


@given(st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)))
def test_due_day_is_a_school_day_in_the_same_week_not_after_the_agreed_day(day):
    cal = ServiceCalendar.build([SPRING, AUTUMN], [FEB_HALF, OCT_HALF], [INSET], bank_holidays={})
    for weekday in range(5):
        due = cal.certificate_due(day, weekday)
        monday = monday_of(day)
        agreed = monday + timedelta(days=weekday)
        if due is None:
            assert cal.school_days(monday, agreed) == []
        else:
            assert cal.is_school_day(due)
            assert monday <= due <= agreed
            assert cal.school_days(due + timedelta(days=1), agreed) == []
