"""Not seen for one week: school-day runs, episodes, due days, the morning view (hand-built data)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from worker.attendance.calendar import DateRange, ServiceCalendar
from worker.attendance.notseen import (
    Thresholds,
    current_episode,
    episodes,
    load_thresholds,
    not_seen_status,
    runs,
)
from worker.attendance.world import PupilInfo

RULES_DIR = Path(__file__).resolve().parents[1] / "rules"
TERM = DateRange(date(2026, 9, 3), date(2026, 12, 18), "Autumn 2026")
HALF = DateRange(date(2026, 10, 26), date(2026, 10, 30))
INSET = DateRange(date(2026, 11, 20), date(2026, 11, 20), "INSET day (staff training)")
CAL = ServiceCalendar.build([TERM], [HALF], [INSET], bank_holidays={})
TH = Thresholds()
DATA_FROM = date(2026, 9, 3)
END = date(2026, 12, 2)


def pupil(risk: bool, start=date(2026, 1, 12), end=None, ref="1") -> PupilInfo:
    return PupilInfo(
        ref, "A", "B", "100000", safeguarding_risk=risk, start_date=start, end_date=end
    )


def every_school_day(start: date, end: date) -> set[date]:
    return set(CAL.school_days(start, end))


def d(text: str) -> date:
    return date.fromisoformat(text)


def test_thresholds_from_the_rules_folder():
    assert load_thresholds(RULES_DIR) == Thresholds(5, 5, 10, 3)


def test_risk_pupil_closure_day_does_not_count():
    """S1: last seen Tue 17 Nov; Fri 20 Nov INSET; 5 days complete Wed 25 Nov."""
    seen = every_school_day(DATA_FROM, d("2026-11-17"))
    status = not_seen_status(pupil(True), CAL, seen, DATA_FROM, END, TH)
    view = status.as_dict()
    assert view["last_seen"] == "2026-11-17"
    assert view["school_days_not_seen_at_end"] == 10
    assert view["longest_run_not_seen"] == {
        "school_days": 10,
        "from": "2026-11-18",
        "to": "2026-12-02",
    }
    assert view["episodes"] == [
        {
            "last_seen_before": "2026-11-17",
            "counting_from": "2026-11-18",
            "threshold_reached_on": "2026-11-25",
            "not_seen_email_due": "2026-11-26",
            "welfare_check_threshold_reached_on": "2026-11-25",
            "welfare_check_due": "2026-11-26",
            "seen_again_on": None,
        }
    ]
    assert view["case_exists"] and view["case_open_at_end"]
    assert view["not_seen_email_due_if_still_not_seen"] is None
    assert view["welfare_check_due_if_still_not_seen"] is None


def test_no_risk_pupil_two_weeks_for_the_welfare_check():
    """S2: last seen Mon 9 Nov: email due Tue 17 Nov, welfare check due Wed 25 Nov."""
    seen = every_school_day(DATA_FROM, d("2026-11-09"))
    (episode,) = episodes(pupil(False), CAL, seen, DATA_FROM, END, TH)
    assert episode.threshold_reached_on == d("2026-11-16")
    assert episode.not_seen_email_due == d("2026-11-17")
    assert episode.welfare_check_threshold_reached_on == d("2026-11-24")
    assert episode.welfare_check_due == d("2026-11-25")
    # Before the 10th day the welfare check is not reached yet, only projected.
    status = not_seen_status(pupil(False), CAL, seen, DATA_FROM, d("2026-11-20"), TH)
    assert status.episodes[0].welfare_check_due is None
    assert status.email_due_if_still_not_seen is None
    assert status.welfare_due_if_still_not_seen == d("2026-11-25")


def test_half_term_does_not_count():
    """S3: seen Tue 20 Oct, ill through half term, seen Tue 3 Nov: 4 school days, no case."""
    seen = every_school_day(DATA_FROM, d("2026-10-20")) | every_school_day(d("2026-11-03"), END)
    view = not_seen_status(pupil(True), CAL, seen, DATA_FROM, END, TH).as_dict()
    assert view["longest_run_not_seen"] == {
        "school_days": 4,
        "from": "2026-10-21",
        "to": "2026-11-02",
    }
    assert view["episodes"] == [] and not view["case_exists"]
    assert view["not_seen_email_due_if_still_not_seen"] == "2026-12-10"
    assert view["welfare_check_due_if_still_not_seen"] == "2026-12-10"


def test_episode_ends_when_seen_again():
    seen = every_school_day(DATA_FROM, d("2026-10-01")) | {d("2026-10-12")}
    status = not_seen_status(pupil(False), CAL, seen, DATA_FROM, d("2026-10-13"), TH)
    (episode,) = status.episodes
    assert (episode.counting_from, episode.threshold_reached_on) == (
        d("2026-10-02"),
        d("2026-10-08"),
    )
    assert episode.seen_again_on == d("2026-10-12")
    assert episode.welfare_check_threshold_reached_on is None
    view = status.as_dict()
    assert view["case_exists"] and not view["case_open_at_end"]
    assert view["school_days_not_seen_at_end"] == 1  # Tue 13 Oct
    assert view["not_seen_email_due"] == "2026-10-09"


def test_starts_mid_term_and_never_seen_counts_from_the_start_date():
    """S13-like: counting starts on the start date, not the first day of data."""
    status = not_seen_status(pupil(False, start=d("2026-11-09")), CAL, set(), DATA_FROM, END, TH)
    assert status.counted_from == d("2026-11-09")
    assert status.last_seen is None
    (episode,) = status.episodes
    assert episode.last_seen_before is None
    assert episode.counting_from == d("2026-11-09")
    assert episode.threshold_reached_on == d("2026-11-13")


def test_leaves_mid_term_stops_counting():
    """S14-like: last day on roll Fri 13 Nov; nothing counts after, no projection."""
    seen = every_school_day(DATA_FROM, d("2026-11-11"))
    view = not_seen_status(
        pupil(False, end=d("2026-11-13")), CAL, seen, DATA_FROM, END, TH
    ).as_dict()
    assert view["counted_to"] == "2026-11-13"
    assert view["school_days_not_seen_at_end"] == 2
    assert view["not_seen_email_due_if_still_not_seen"] is None
    assert view["welfare_check_due_if_still_not_seen"] is None


def test_no_data_no_counting():
    status = not_seen_status(pupil(True), CAL, set(), None, END, TH)
    assert status.runs == [] and status.episodes == [] and status.counted_from is None


def test_marks_after_as_of_are_ignored():
    seen = every_school_day(DATA_FROM, d("2026-11-17")) | {d("2026-11-30")}
    status = not_seen_status(pupil(True), CAL, seen, DATA_FROM, d("2026-11-27"), TH)
    assert status.last_seen == d("2026-11-17")
    assert status.school_days_not_seen == 7


def test_current_episode_each_morning():
    seen = every_school_day(DATA_FROM, d("2026-11-17"))
    risk = pupil(True)
    before = current_episode(risk, CAL, seen, DATA_FROM, d("2026-11-25"), TH)
    assert before.school_days_not_seen == 4
    assert not before.case_exists and not before.email_due_now
    assert before.not_seen_email_due == d("2026-11-26")  # projected
    due = current_episode(risk, CAL, seen, DATA_FROM, d("2026-11-26"), TH)
    assert due.school_days_not_seen == 5
    assert due.threshold_reached_on == d("2026-11-25")
    assert due.email_due_now and due.welfare_check_due_now
    later = current_episode(risk, CAL, seen, DATA_FROM, d("2026-11-30"), TH)
    assert later.email_due_now and later.school_days_not_seen == 7
    # Seen this morning: the episode ends, nothing is due.
    back = current_episode(risk, CAL, seen | {d("2026-11-30")}, DATA_FROM, d("2026-11-30"), TH)
    assert back.ended and back.seen_again_on == d("2026-11-30")
    assert not back.email_due_now and not back.welfare_check_due_now
    assert back.last_seen == d("2026-11-30")
    # Marks dated after today do not count.
    ahead = current_episode(risk, CAL, seen | {d("2026-12-01")}, DATA_FROM, d("2026-11-30"), TH)
    assert not ahead.ended


def test_current_episode_threshold_on_friday_is_due_monday_not_saturday():
    seen = every_school_day(DATA_FROM, d("2026-10-02"))  # last seen Fri 2 Oct
    p = pupil(False)
    sat = current_episode(p, CAL, seen, DATA_FROM, d("2026-10-10"), TH)
    assert sat.threshold_reached_on == d("2026-10-09")
    assert sat.not_seen_email_due == d("2026-10-12")
    assert not sat.email_due_now
    assert current_episode(p, CAL, seen, DATA_FROM, d("2026-10-12"), TH).email_due_now
    assert not current_episode(p, CAL, seen, DATA_FROM, d("2026-10-12"), TH).welfare_check_due_now


# --- properties of the school-day counter --------------------------------------------------------

LONG = ServiceCalendar.build([DateRange(date(2026, 1, 1), date(2027, 12, 31))], bank_holidays={})


@st.composite
def timelines(draw):
    """A sequence of school days (seen or not) and, before each, a number of closure days."""
    n = draw(st.integers(1, 40))
    seen = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    gaps = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    return seen, gaps


def lay_out(seen_flags, gaps, start=date(2026, 1, 5)):
    """Place the school days on weekdays, with closure days before each as asked."""
    closures, school, seen = [], [], set()
    day = start
    for flag, gap in zip(seen_flags, gaps, strict=True):
        for _ in range(gap):
            while day.weekday() >= 5:
                day += timedelta(days=1)
            closures.append(DateRange(day, day, "closed"))
            day += timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        school.append(day)
        if flag:
            seen.add(day)
        day += timedelta(days=1)
    cal = ServiceCalendar.build([DateRange(start, day)], closures=closures, bank_holidays={})
    return cal, seen, start, school[-1]


def shape(cal, seen, start, end):
    found = runs(cal, seen, start, end, 5, 10)
    return [(r.school_days, r.seen_again_on is None) for r in found]


@settings(max_examples=200)
@given(timelines())
def test_closed_days_never_change_the_count(timeline):
    seen_flags, gaps = timeline
    plain = lay_out(seen_flags, [0] * len(gaps))
    closed = lay_out(seen_flags, gaps)
    assert shape(*plain) == shape(*closed)


@settings(max_examples=200)
@given(timelines())
def test_count_is_school_days_since_last_seen(timeline):
    cal, seen, start, end = lay_out(*timeline)
    status = not_seen_status(pupil(False, start=None), cal, seen, start, end, TH)
    last = max(seen, default=None)
    expected = len(cal.school_days(last + timedelta(days=1) if last else start, end))
    assert status.school_days_not_seen == expected
    assert status.school_days_not_seen <= len(cal.school_days(start, end))


@given(
    st.sets(st.dates(date(2026, 9, 3), date(2026, 12, 18)), max_size=10),
    st.dates(date(2026, 9, 3), date(2026, 12, 17)),
)
def test_count_is_monotone_while_not_seen(seen, as_of):
    today = not_seen_status(pupil(False), CAL, seen, DATA_FROM, as_of, TH).school_days_not_seen
    tomorrow = as_of + timedelta(days=1)
    nxt = not_seen_status(pupil(False), CAL, seen, DATA_FROM, tomorrow, TH).school_days_not_seen
    if tomorrow in seen:
        assert nxt == 0
    else:
        assert nxt - today == (1 if CAL.is_school_day(tomorrow) else 0)


@given(
    st.sets(st.dates(date(2026, 9, 3), date(2026, 12, 18)), max_size=10),
    st.dates(date(2026, 9, 3), date(2026, 12, 18)),
    st.dates(date(2026, 9, 3), date(2026, 12, 18)),
)
def test_adding_a_seen_mark_never_increases_a_run(seen, extra, as_of):
    before = not_seen_status(pupil(True), CAL, seen, DATA_FROM, as_of, TH)
    after = not_seen_status(pupil(True), CAL, seen | {extra}, DATA_FROM, as_of, TH)
    assert after.school_days_not_seen <= before.school_days_not_seen
    longest = lambda s: s.longest_run.school_days if s.longest_run else 0  # noqa: E731
    assert longest(after) <= longest(before)
    assert len(after.episodes) <= len(before.episodes) + 1
