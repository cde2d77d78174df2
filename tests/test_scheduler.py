"""Which jobs are due when: daily slots in Europe/London across the clock changes, a missed slot
made up once (not twice), a new instance that does not replay history, a failing job retried.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from tests.helpers_instance import MiniData, make_instance
from worker.clock import at_local, parse_local
from worker.outbox.memory import MemoryTransport
from worker.scheduler import JobSpec, is_due, latest_slot

DIGEST = JobSpec("digest", slot=time(7, 30))
RETENTION = JobSpec("retention", slot=time(2, 0), school_days_only=False)
EVERY_TICK = JobSpec("cases")


def weekdays_only(day: date) -> bool:
    return day.weekday() < 5


def london(text: str) -> datetime:
    return parse_local(text)


# --- pure ----------------------------------------------------------------------------------------


def test_tick_jobs_are_always_due():
    assert is_due(EVERY_TICK, london("2026-11-21 03:00"), None, None, weekdays_only) == (True, None)


def test_a_new_instance_does_not_replay_history():
    # first seen on Monday 06:00, before the day's slot: Friday's slot is history
    epoch = london("2026-11-16 06:00")
    assert is_due(DIGEST, epoch, None, epoch, weekdays_only) == (False, london("2026-11-13 07:30"))
    # later the same day the day's slot is due
    at = london("2026-11-16 08:10")
    assert is_due(DIGEST, at, None, epoch, weekdays_only) == (True, london("2026-11-16 07:30"))
    # first seen after the slot: today's slot still counts (it is today, not history)
    late = london("2026-11-16 17:00")
    assert is_due(DIGEST, late, None, late, weekdays_only) == (True, london("2026-11-16 07:30"))


def test_a_missed_slot_is_made_up_once_not_twice():
    done = london("2026-11-16 07:30")
    # down from Monday morning to Thursday 10:00: one run, for Thursday's slot
    at = london("2026-11-19 10:00")
    due, slot = is_due(DIGEST, at, done, done, weekdays_only)
    assert (due, slot) == (True, london("2026-11-19 07:30"))
    assert is_due(DIGEST, at + timedelta(minutes=1), slot, done, weekdays_only)[0] is False
    assert is_due(DIGEST, london("2026-11-19 23:59"), slot, done, weekdays_only)[0] is False
    assert is_due(DIGEST, london("2026-11-20 07:29"), slot, done, weekdays_only)[0] is False
    assert is_due(DIGEST, london("2026-11-20 07:30"), slot, done, weekdays_only) == (True, london("2026-11-20 07:30"))


def test_school_day_slots_skip_other_days():
    friday = london("2026-11-20 07:30")
    # the weekend: nothing new
    assert is_due(DIGEST, london("2026-11-21 09:00"), friday, friday, weekdays_only)[0] is False
    assert is_due(DIGEST, london("2026-11-22 09:00"), friday, friday, weekdays_only)[0] is False
    # a closure day counts as no school day
    closed = {date(2026, 11, 23)}
    assert is_due(DIGEST, london("2026-11-23 09:00"), friday, friday,
                  lambda d: weekdays_only(d) and d not in closed)[0] is False
    # a job that runs every day does run on Saturday
    assert is_due(RETENTION, london("2026-11-21 02:30"), london("2026-11-20 02:00"), friday,
                  weekdays_only) == (True, london("2026-11-21 02:00"))


@pytest.mark.parametrize(("before", "after"), [
    ("2026-03-27", "2026-03-30"),  # clocks go forward on Sun 29 Mar 2026 (GMT -> BST)
    ("2026-10-23", "2026-10-26"),  # clocks go back on Sun 25 Oct 2026 (BST -> GMT)
])
def test_a_0730_slot_is_0730_in_london_on_both_sides_of_the_clock_change(before, after):
    day_before, day_after = date.fromisoformat(before), date.fromisoformat(after)
    slot_before, slot_after = at_local(day_before, time(7, 30)), at_local(day_after, time(7, 30))
    # the UTC instants differ by an hour, the London wall clock does not
    assert {slot_before.utcoffset(), slot_after.utcoffset()} == {timedelta(0)}
    assert slot_before.astimezone(UTC).hour != slot_after.astimezone(UTC).hour
    for slot in (slot_before, slot_after):
        assert london(f"{slot.astimezone(UTC):%Y-%m-%d} 07:30") == slot
    # Monday 07:29 London is still Friday's slot; 07:30 London is Monday's
    assert latest_slot(DIGEST, london(f"{after} 07:29"), weekdays_only) == slot_before
    assert latest_slot(DIGEST, london(f"{after} 07:30"), weekdays_only) == slot_after
    # and the schedule state moves from one side to the other without a repeat or a gap
    assert is_due(DIGEST, london(f"{after} 07:30"), slot_before, slot_before, weekdays_only) == (True, slot_after)
    assert is_due(DIGEST, london(f"{after} 07:29"), slot_before, slot_before, weekdays_only)[0] is False


def test_slots_on_the_night_of_the_change_run_once():
    """02:00 London exists on both nights; 01:30 does not exist in spring and happens twice in autumn."""
    assert latest_slot(RETENTION, london("2026-03-29 12:00"), weekdays_only) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert latest_slot(RETENTION, london("2026-10-25 12:00"), weekdays_only) == datetime(2026, 10, 25, 2, 0, tzinfo=UTC)
    night = JobSpec("night", slot=time(1, 30), school_days_only=False)
    saturday = at_local(date(2026, 10, 24), time(1, 30))
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 01:30 BST
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 01:30 GMT, an hour later
    due, slot = is_due(night, first, saturday, saturday, weekdays_only)
    assert (due, slot) == (True, first)
    assert is_due(night, second, slot, saturday, weekdays_only)[0] is False
    # in spring 01:30 is skipped by the clocks; the slot falls at 02:30 BST, once
    friday = at_local(date(2026, 3, 28), time(1, 30))
    due, slot = is_due(night, datetime(2026, 3, 29, 1, 45, tzinfo=UTC), friday, friday, weekdays_only)
    assert due and slot == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert is_due(night, datetime(2026, 3, 29, 5, 0, tzinfo=UTC), slot, friday, weekdays_only)[0] is False


# --- through run_once, with the schedule state in the database ----------------------------------------


@pytest.fixture
def inst(tmp_path):
    inst = make_instance(tmp_path / "home", start="2026-11-16 06:00", transport=MemoryTransport())
    MiniData().load_roster(inst)
    return inst


def digests(inst) -> list[str]:
    return [row.subject for row in inst.rows(kind="digest")]


def test_run_once_sends_one_digest_per_school_day_made_up_once(inst):
    inst.tick("2026-11-16 06:00", only=["digest", "dispatch"])
    assert digests(inst) == []  # first run before the slot: Friday's digest is history
    inst.tick("2026-11-16 07:31", only=["digest", "dispatch"])
    inst.tick("2026-11-16 12:00", only=["digest", "dispatch"])
    assert digests(inst) == ["Daily safeguarding digest – 16/11/2026"]
    # the worker is down Tuesday and Wednesday; Thursday 11:00 it makes up once
    inst.tick("2026-11-19 11:00", only=["digest", "dispatch"])
    inst.tick("2026-11-19 11:01", only=["digest", "dispatch"])
    # Friday 20 Nov is an INSET day in the Service calendar: no digest; nor at the weekend
    for when in ("2026-11-20 09:00", "2026-11-21 09:00", "2026-11-22 09:00"):
        inst.tick(when, only=["digest", "dispatch"])
    assert digests(inst) == ["Daily safeguarding digest – 16/11/2026", "Daily safeguarding digest – 19/11/2026"]
    assert len(inst.app.transport.sent) == 2


def test_a_restart_does_not_repeat_a_slot(inst, tmp_path):
    inst.tick("2026-11-16 07:45", only=["digest", "dispatch"])
    again = make_instance(inst.home, start="2026-11-16 07:50", transport=MemoryTransport())
    again.tick("2026-11-16 07:50", only=["digest", "dispatch"])
    assert again.app.transport.sent == [] and len(digests(again)) == 1


def test_a_failing_job_is_recorded_retried_and_does_not_stop_the_others(inst, monkeypatch):
    from worker import jobs
    from worker.db.models import JobRun

    calls: list[datetime] = []

    def broken(app, at, slot=None):
        calls.append(at)
        raise RuntimeError("renderer exploded")

    monkeypatch.setattr(jobs, "run_digest", broken)
    report = inst.tick("2026-11-16 07:45", only=["digest", "tutor_prompts", "dispatch"], allow_errors=True)
    assert report.errors == {"digest": "RuntimeError: renderer exploded"}
    assert "dispatch" in report.ran
    with inst.app.sessions() as session:
        state = session.get(JobRun, "digest")
        assert (state.last_status, state.last_slot) == ("error", None)
        assert "renderer exploded" in state.last_error
    # retried on the next tick, and once it works the slot is done
    inst.tick("2026-11-16 07:46", only=["digest"], allow_errors=True)
    monkeypatch.undo()
    inst.tick("2026-11-16 07:47", only=["digest", "dispatch"])
    inst.tick("2026-11-16 07:48", only=["digest", "dispatch"])
    assert len(calls) == 2
    assert digests(inst) == ["Daily safeguarding digest – 16/11/2026"]
    with inst.app.sessions() as session:
        state = session.get(JobRun, "digest")
        assert (state.last_status, state.last_slot) == ("ok", london("2026-11-16 07:30"))
