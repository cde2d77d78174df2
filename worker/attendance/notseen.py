"""'Not seen for one week': runs of Service school days without a seen mark (pure).

The procedure asks the key tutor to email the Main School when a pupil has not been seen
within one week, and the DSL to arrange a welfare check after one week (safeguarding risk)
or two weeks (others). Weeks are counted in Service school days: closed days neither count
nor break a run, and days count whatever the pupil's timetable says (the Service has not
seen the pupil). Thresholds are data in rules/thresholds.yaml.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from worker.attendance.calendar import ServiceCalendar
from worker.attendance.world import PupilInfo
from worker.errors import RulesError


@dataclass(frozen=True)
class Thresholds:
    not_seen_email: int = 5
    welfare_check_risk: int = 5
    welfare_check_no_risk: int = 10
    tutor_prompt: int = 3

    def welfare_check(self, safeguarding_risk: bool) -> int:
        return self.welfare_check_risk if safeguarding_risk else self.welfare_check_no_risk


def load_thresholds(rules_dir: Path) -> Thresholds:
    path = Path(rules_dir) / "thresholds.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        welfare = data.get("welfare_check_school_days") or {}
        result = Thresholds(
            not_seen_email=int(data["not_seen_email_school_days"]),
            welfare_check_risk=int(welfare["safeguarding_risk"]),
            welfare_check_no_risk=int(welfare["no_safeguarding_risk"]),
            tutor_prompt=int(data.get("tutor_prompt_school_days", 3)),
        )
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise RulesError(f"{path}: {exc!r}") from exc
    if min(result.not_seen_email, result.welfare_check_risk, result.welfare_check_no_risk) < 1:
        raise RulesError(f"{path}: thresholds must be at least 1 school day")
    return result


@dataclass(frozen=True)
class Run:
    """Consecutive school days without a seen mark (closed days skipped)."""

    last_seen_before: date | None
    counting_from: date
    last_day: date  # last school day counted
    school_days: int
    seen_again_on: date | None
    email_threshold_on: date | None  # the day the count reached the email threshold
    welfare_threshold_on: date | None


@dataclass(frozen=True)
class Episode:
    """A run that reached the not-seen email threshold: a case (as the fixtures' cases.json)."""

    last_seen_before: date | None
    counting_from: date
    threshold_reached_on: date
    not_seen_email_due: date | None
    welfare_check_threshold_reached_on: date | None
    welfare_check_due: date | None
    seen_again_on: date | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "last_seen_before": _iso(self.last_seen_before),
            "counting_from": self.counting_from.isoformat(),
            "threshold_reached_on": self.threshold_reached_on.isoformat(),
            "not_seen_email_due": _iso(self.not_seen_email_due),
            "welfare_check_threshold_reached_on": _iso(self.welfare_check_threshold_reached_on),
            "welfare_check_due": _iso(self.welfare_check_due),
            "seen_again_on": _iso(self.seen_again_on),
        }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def counting_window(
    pupil: PupilInfo, first_data_day: date | None, as_of: date
) -> tuple[date | None, date | None]:
    """(from, to): the later of start_date and the first day of data, the earlier of end_date and as_of.

    No data at all means nothing to count: a fresh install must not raise alarms.
    """
    if first_data_day is None:
        return None, None
    start = max(d for d in (pupil.start_date, first_data_day) if d is not None)
    end = min(d for d in (pupil.end_date, as_of) if d is not None)
    return start, end


def runs(
    calendar: ServiceCalendar,
    seen: Iterable[date],
    counted_from: date,
    counted_to: date,
    email_threshold: int,
    welfare_threshold: int,
) -> list[Run]:
    """Every run of school days not seen between counted_from and counted_to (inclusive)."""
    seen_set = set(seen)
    last_seen = max((d for d in seen_set if d < counted_from), default=None)
    result: list[Run] = []
    days: list[date] = []  # school days of the run in progress
    day = counted_from
    while day <= counted_to:
        if day in seen_set:
            if days:
                result.append(_run(last_seen, days, day, email_threshold, welfare_threshold))
            last_seen, days = day, []
        elif calendar.is_school_day(day):
            days.append(day)
        day += timedelta(days=1)
    if days:
        result.append(_run(last_seen, days, None, email_threshold, welfare_threshold))
    return result


def _run(
    last_seen: date | None,
    days: list[date],
    seen_again: date | None,
    email_threshold: int,
    welfare_threshold: int,
) -> Run:
    return Run(
        last_seen_before=last_seen,
        counting_from=days[0],
        last_day=days[-1],
        school_days=len(days),
        seen_again_on=seen_again,
        email_threshold_on=_reached_on(days, email_threshold),
        welfare_threshold_on=_reached_on(days, welfare_threshold),
    )


def _reached_on(days: list[date], threshold: int) -> date | None:
    """The school day the run's count reached `threshold` (None if it has not)."""
    return days[threshold - 1] if len(days) >= threshold else None


def episode_of(run: Run, calendar: ServiceCalendar) -> Episode | None:
    """A run that reached the email threshold is an episode (a case exists)."""
    if run.email_threshold_on is None:
        return None
    welfare_on = run.welfare_threshold_on
    return Episode(
        last_seen_before=run.last_seen_before,
        counting_from=run.counting_from,
        threshold_reached_on=run.email_threshold_on,
        not_seen_email_due=calendar.next_school_day(run.email_threshold_on),
        welfare_check_threshold_reached_on=welfare_on,
        welfare_check_due=calendar.next_school_day(welfare_on) if welfare_on else None,
        seen_again_on=run.seen_again_on,
    )


def episodes(
    pupil: PupilInfo,
    calendar: ServiceCalendar,
    seen: Iterable[date],
    first_data_day: date | None,
    as_of: date,
    thresholds: Thresholds,
) -> list[Episode]:
    """Every not-seen episode of `pupil` as things stood at the end of `as_of`."""
    return not_seen_status(pupil, calendar, seen, first_data_day, as_of, thresholds).episodes


def _projected_due(
    calendar: ServiceCalendar,
    after: date,
    count: int,
    threshold: int,
    last_on_roll: date | None,
) -> date | None:
    """When the email/check falls due if the pupil is not seen again (None once reached)."""
    if count >= threshold:
        return None
    day = after
    while count < threshold:
        nxt = calendar.next_school_day(day)
        if nxt is None or (last_on_roll is not None and nxt > last_on_roll):
            return None
        day, count = nxt, count + 1
    due = calendar.next_school_day(day)
    return due


def _run_in_progress(found: list[Run]) -> Run | None:
    """The last run, if no seen mark has ended it."""
    last = found[-1] if found else None
    return last if last is not None and last.seen_again_on is None else None


@dataclass(frozen=True)
class NotSeenStatus:
    pupil: PupilInfo
    counted_from: date | None
    counted_to: date | None
    last_seen: date | None
    runs: list[Run] = field(default_factory=list)
    episodes: list[Episode] = field(default_factory=list)
    email_due_if_still_not_seen: date | None = None
    welfare_due_if_still_not_seen: date | None = None

    @property
    def current_run(self) -> Run | None:
        return _run_in_progress(self.runs)

    @property
    def school_days_not_seen(self) -> int:
        run = self.current_run
        return run.school_days if run else 0

    @property
    def longest_run(self) -> Run | None:
        best: Run | None = None
        for run in self.runs:
            if best is None or run.school_days > best.school_days:
                best = run
        return best

    def as_dict(self) -> dict[str, Any]:
        """The per-pupil view (the fields of expected/cases.json)."""
        latest = self.episodes[-1] if self.episodes else None
        longest = self.longest_run
        return {
            "pupil_ref": self.pupil.pupil_ref,
            "upn": self.pupil.upn or None,
            "safeguarding_risk": "yes" if self.pupil.safeguarding_risk else "no",
            "counted_from": _iso(self.counted_from),
            "counted_to": _iso(self.counted_to),
            "last_seen": _iso(self.last_seen),
            "school_days_not_seen_at_end": self.school_days_not_seen,
            "longest_run_not_seen": {
                "school_days": longest.school_days if longest else 0,
                "from": _iso(longest.counting_from) if longest else None,
                "to": _iso(longest.last_day) if longest else None,
            },
            "case_exists": bool(self.episodes),
            "case_open_at_end": latest is not None and latest.seen_again_on is None,
            "not_seen_email_due": _iso(latest.not_seen_email_due) if latest else None,
            "welfare_check_due": _iso(latest.welfare_check_due) if latest else None,
            "not_seen_email_due_if_still_not_seen": _iso(self.email_due_if_still_not_seen),
            "welfare_check_due_if_still_not_seen": _iso(self.welfare_due_if_still_not_seen),
            "episodes": [episode.as_dict() for episode in self.episodes],
        }


def not_seen_status(
    pupil: PupilInfo,
    calendar: ServiceCalendar,
    seen: Iterable[date],
    first_data_day: date | None,
    as_of: date,
    thresholds: Thresholds,
) -> NotSeenStatus:
    """The pupil's not-seen standing at the end of `as_of` (marks after it are ignored)."""
    seen_set = {d for d in seen if d <= as_of}
    counted_from, counted_to = counting_window(pupil, first_data_day, as_of)
    if counted_from is None or counted_to is None:
        return NotSeenStatus(pupil, counted_from, counted_to, max(seen_set, default=None))
    last_seen = max((d for d in seen_set if d <= counted_to), default=None)
    welfare = thresholds.welfare_check(pupil.safeguarding_risk)
    found = runs(calendar, seen_set, counted_from, counted_to, thresholds.not_seen_email, welfare)
    found_episodes = [e for e in (episode_of(r, calendar) for r in found) if e is not None]
    email_due = welfare_due = None
    still_on_roll = pupil.end_date is None or pupil.end_date > as_of
    if still_on_roll and counted_from <= counted_to:
        current = _run_in_progress(found)
        count = current.school_days if current else 0
        email_due = _projected_due(
            calendar, counted_to, count, thresholds.not_seen_email, pupil.end_date
        )
        welfare_due = _projected_due(calendar, counted_to, count, welfare, pupil.end_date)
    return NotSeenStatus(
        pupil=pupil,
        counted_from=counted_from,
        counted_to=counted_to,
        last_seen=last_seen,
        runs=found,
        episodes=found_episodes,
        email_due_if_still_not_seen=email_due,
        welfare_due_if_still_not_seen=welfare_due,
    )


@dataclass(frozen=True)
class CurrentEpisode:
    """What the worker needs on the morning of `today` for one pupil."""

    pupil_ref: str
    today: date
    last_seen: date | None
    counting_from: date | None  # first school day of the run in progress (None: no run)
    school_days_not_seen: int  # as of the end of yesterday
    threshold_reached_on: date | None
    not_seen_email_due: date | None  # when reached: the due day; else the projected day
    welfare_check_threshold_reached_on: date | None
    welfare_check_due: date | None  # likewise
    seen_again_on: date | None  # today, when a seen mark today ends the run

    @property
    def ended(self) -> bool:
        return self.seen_again_on is not None

    @property
    def case_exists(self) -> bool:
        return self.threshold_reached_on is not None

    @property
    def email_due_now(self) -> bool:
        return self._due_now(self.threshold_reached_on, self.not_seen_email_due)

    @property
    def welfare_check_due_now(self) -> bool:
        return self._due_now(self.welfare_check_threshold_reached_on, self.welfare_check_due)

    def _due_now(self, reached_on: date | None, due: date | None) -> bool:
        """The threshold was reached, its day has come and the run has not ended."""
        return not self.ended and reached_on is not None and due is not None and due <= self.today


def current_episode(
    pupil: PupilInfo,
    calendar: ServiceCalendar,
    seen: Iterable[date],
    first_data_day: date | None,
    today: date,
    thresholds: Thresholds,
) -> CurrentEpisode:
    """The run in progress at the end of yesterday; a seen mark today (this morning) ends it."""
    seen_set = {d for d in seen if d <= today}
    status = not_seen_status(
        pupil, calendar, seen_set, first_data_day, today - timedelta(days=1), thresholds
    )
    run = status.current_run
    if run is None:
        return CurrentEpisode(
            pupil.pupil_ref,
            today,
            max(seen_set, default=None),
            None,
            0,
            None,
            status.email_due_if_still_not_seen,
            None,
            status.welfare_due_if_still_not_seen,
            None,
        )
    episode = episode_of(run, calendar)
    seen_today = today in seen_set
    return CurrentEpisode(
        pupil_ref=pupil.pupil_ref,
        today=today,
        last_seen=today if seen_today else status.last_seen,
        counting_from=run.counting_from,
        school_days_not_seen=run.school_days,
        threshold_reached_on=run.email_threshold_on,
        not_seen_email_due=(
            episode.not_seen_email_due if episode else status.email_due_if_still_not_seen
        ),
        welfare_check_threshold_reached_on=run.welfare_threshold_on,
        welfare_check_due=(
            episode.welfare_check_due
            if episode and episode.welfare_check_due
            else status.welfare_due_if_still_not_seen
        ),
        seen_again_on=today if seen_today else None,
    )
