"""Which jobs are due at a moment: pure, from the job table and the schedule state in the DB.

Jobs either run on every tick (imports, inbox, cases, dispatch) or once per daily slot
(digest 07:30, tutor prompts 08:30, certificates 15:30, Europe/London, on Service school days).
A slot missed while the worker was down is made up once on the next tick, never twice: the
last slot done is kept in the database (JobRun.last_slot). A job that has never run only
picks up a slot of the current day, so a new instance does not replay history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from worker.clock import at_local, local_date

SchoolDay = Callable[[date], bool]

LOOKBACK_DAYS = 21


@dataclass(frozen=True)
class JobSpec:
    name: str
    slot: time | None = None  # None: every tick
    school_days_only: bool = True


def latest_slot(spec: JobSpec, at: datetime, is_school_day: SchoolDay) -> datetime | None:
    """The most recent slot at or before `at` (aware UTC), or None."""
    if spec.slot is None:
        return None
    today = local_date(at)
    for back in range(LOOKBACK_DAYS + 1):
        day = today - timedelta(days=back)
        if spec.school_days_only and not is_school_day(day):
            continue
        slot = at_local(day, spec.slot)
        if slot <= at:
            return slot
    return None


def is_due(
    spec: JobSpec,
    at: datetime,
    last_slot: datetime | None,
    epoch: datetime | None,
    is_school_day: SchoolDay,
) -> tuple[bool, datetime | None]:
    """(due, slot). Tick jobs are always due; slot jobs when a newer slot than the last one done exists."""
    if spec.slot is None:
        return True, None
    slot = latest_slot(spec, at, is_school_day)
    if slot is None:
        return False, None
    if last_slot is not None:
        return slot > last_slot, slot
    start_of_first_day = at_local(local_date(epoch or at), time(0, 0))
    return slot >= start_of_first_day, slot
