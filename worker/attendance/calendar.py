"""The Service's school days: terms, half terms, closure days and England bank holidays.

A day the Service is closed neither counts towards "not seen" nor offers sessions, so every
rule that counts days asks this calendar. Pure: it is built from data and never reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import holidays as holidays_pkg

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SHORT_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# How far next_school_day looks before giving up (a calendar without a next term).
MAX_LOOKAHEAD_DAYS = 400


def weekday_index(name: str) -> int:
    """'Friday', 'fri', 'FRI' -> 4. Raises ValueError for anything else."""
    text = (name or "").strip().lower()
    for index, full in enumerate(WEEKDAYS):
        if text in (full.lower(), full[:3].lower()):
            return index
    raise ValueError(f"not a weekday name: {name!r}")


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date  # inclusive
    name: str = ""

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


class EnglandBankHolidays(Mapping[date, str]):
    """England bank holidays from the `holidays` package (years loaded on demand)."""

    def __init__(self) -> None:
        self._table = holidays_pkg.country_holidays("GB", subdiv="ENG")

    def __getitem__(self, day: date) -> str:
        if day not in self._table:
            raise KeyError(day)
        return str(self._table[day])

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and day in self._table

    def __iter__(self) -> Iterator[date]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)


@dataclass(frozen=True)
class ServiceCalendar:
    """Service school day = Mon-Fri, inside a term, not half term, not a closure, not a bank holiday."""

    terms: tuple[DateRange, ...] = ()
    half_terms: tuple[DateRange, ...] = ()
    closures: tuple[DateRange, ...] = ()  # name = the reason, shown on certificates
    bank_holidays: Mapping[date, str] = field(default_factory=EnglandBankHolidays)

    @classmethod
    def build(
        cls,
        terms: Iterable[DateRange],
        half_terms: Iterable[DateRange] = (),
        closures: Iterable[DateRange] = (),
        bank_holidays: Mapping[date, str] | None = None,
    ) -> ServiceCalendar:
        return cls(
            terms=tuple(sorted(terms, key=lambda r: r.start)),
            half_terms=tuple(sorted(half_terms, key=lambda r: r.start)),
            closures=tuple(sorted(closures, key=lambda r: r.start)),
            bank_holidays=EnglandBankHolidays() if bank_holidays is None else bank_holidays,
        )

    def closure_reason(self, day: date) -> str | None:
        """Why the Service is closed on `day`, or None on a school day."""
        for closure in self.closures:
            if day in closure:
                return closure.name or "closure day"
        if any(day in half for half in self.half_terms):
            return "half term"
        if day in self.bank_holidays:
            return self.bank_holidays[day]
        if day.weekday() >= 5:
            return "weekend"
        if not any(day in term for term in self.terms):
            return "outside term"
        return None

    def is_school_day(self, day: date) -> bool:
        return self.closure_reason(day) is None

    def school_days(self, start: date, end: date) -> list[date]:
        """School days from `start` to `end`, both inclusive."""
        days = []
        day = start
        while day <= end:
            if self.is_school_day(day):
                days.append(day)
            day += timedelta(days=1)
        return days

    def next_school_day(self, day: date, limit_days: int = MAX_LOOKAHEAD_DAYS) -> date | None:
        """The first school day strictly after `day` (None if none within `limit_days`)."""
        for offset in range(1, limit_days + 1):
            candidate = day + timedelta(days=offset)
            if self.is_school_day(candidate):
                return candidate
        return None

    def certificate_due(self, week_start: date, certificate_day: int | str) -> date | None:
        """The school's agreed day that week, else the last school day before it in the same week."""
        weekday = (
            certificate_day if isinstance(certificate_day, int) else weekday_index(certificate_day)
        )
        monday = monday_of(week_start)
        for offset in range(weekday, -1, -1):
            candidate = monday + timedelta(days=offset)
            if self.is_school_day(candidate):
                return candidate
        return None
