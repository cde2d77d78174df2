"""The clock is an edge: read it once per step and pass `at` down.

Pure code never calls `now()`; it is handed an aware datetime. `LONDON` is the
zone every person-facing date and schedule uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware datetime (UTC)."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that only moves when told to: for tests and `run --once --at`."""

    at: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))

    def now(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at = self.at + delta

    def set(self, at: datetime) -> None:
        self.at = at


def local(at: datetime) -> datetime:
    """`at` in Europe/London."""
    return at.astimezone(LONDON)


def local_date(at: datetime) -> date:
    return local(at).date()


def at_local(day: date, clock_time: time) -> datetime:
    """The aware UTC instant of a wall-clock time in London on `day`."""
    return datetime.combine(day, clock_time, tzinfo=LONDON).astimezone(UTC)


def parse_local(text: str) -> datetime:
    """'YYYY-MM-DD HH:MM' (or 'YYYY-MM-DD') in Europe/London -> aware UTC."""
    text = text.strip()
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            naive = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return naive.replace(tzinfo=LONDON).astimezone(UTC)
    raise ValueError(f"not a local time 'YYYY-MM-DD HH:MM': {text!r}")


def describe_local(at: datetime) -> str:
    """'2026-11-26 07:00 GMT' for people and logs."""
    return local(at).strftime("%Y-%m-%d %H:%M %Z")
