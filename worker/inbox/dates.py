"""Dates written in replies, resolved against the reply's own day (Europe/London). Pure.

"this morning" / "today" -> that day; "yesterday" -> the day before; "on Tuesday" -> the most
recent Tuesday on or before that day; "25/11" and "Monday 23rd" -> in the month/year of that
day. A date with a day number (explicit) is preferred to a relative word by the caller.
Forward-looking words ("tomorrow", "next Monday") are found too, marked `future`, so next
steps can be written out with real dates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = [
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
]  # fmt: skip
_WD = r"(?P<wd>mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:rs(?:day)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?)"
_MON = r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_PART = r"(?:\s+(?:morning|afternoon|evening|night|lunchtime|after school|before school))?"

PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("iso", re.compile(r"\b(?P<y>20\d\d)-(?P<m>[01]?\d)-(?P<d>[0-3]?\d)\b")),
    ("numeric", re.compile(r"(?<![\d.:/])(?P<d>[0-3]?\d)[/.](?P<m>[01]?\d)(?:[/.](?P<y>(?:20)?\d\d))?(?![\d:/]|\.\d)")),
    ("day_month", re.compile(rf"\b(?:{_WD},?\s+)?(?:the\s+)?{_DAY}(?:\s+of)?\s+{_MON}\.?(?:,?\s+(?P<y>20\d\d))?\b", re.I)),
    ("month_day", re.compile(rf"\b(?:{_WD},?\s+)?{_MON}\.?\s+{_DAY}\b(?:,?\s+(?P<y>20\d\d))?", re.I)),
    ("weekday_day", re.compile(rf"\b{_WD}\s+(?:the\s+)?(?P<day>[0-3]?\d)(?:st|nd|rd|th)\b", re.I)),
    ("the_day", re.compile(r"\b(?:the|on)\s+(?:the\s+)?(?P<day>[0-3]?\d)(?:st|nd|rd|th)\b", re.I)),
    ("today", re.compile(r"\b(?:today|tonight|this\s+(?:morning|afternoon|evening|lunchtime|am|pm)|earlier today|just now|after school today|at lunchtime)\b", re.I)),
    ("day_before", re.compile(r"\b(?:the\s+)?day before yesterday\b", re.I)),
    ("yesterday", re.compile(rf"\b(?:yesterday{_PART}|last\s+night)\b", re.I)),
    ("days_ago", re.compile(r"\b(?P<n>\d|one|two|three|four|five|six)\s+days?\s+ago\b", re.I)),
    ("tomorrow", re.compile(r"\btomorrow\b", re.I)),
    ("next_weekday", re.compile(rf"\bnext\s+{_WD}\b", re.I)),
    ("weekday", re.compile(rf"\b(?:(?P<rel>on|last|this|since)\s+)?{_WD}\b(?!\s+\d)", re.I)),
]
# "at 11.10", "11.10am": a dotted pair with no year is a time of day here, not 11 October.
TIME_BEFORE = re.compile(r"(?:\b(?:at|@|from|by|until|till|around|approx|about|after|before|between|and|to)\.?|@|-|–)\s*$", re.I)
TIME_AFTER = re.compile(r"^\s*(?:am|pm|a\.m|p\.m|hrs|h)\b|^\s*[-–]\s*\d", re.I)
NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
EXPLICIT = {"iso", "numeric", "day_month", "month_day", "weekday_day", "the_day"}


@dataclass(frozen=True)
class DateHit:
    when: date
    explicit: bool
    future: bool
    start: int
    end: int
    text: str


def _weekday(token: str) -> int:
    token = token.lower()
    return next(i for i, name in enumerate(WEEKDAYS) if name.startswith(token[:3]))


def _month(token: str) -> int:
    token = token.lower()
    return next(i + 1 for i, name in enumerate(MONTHS) if name.startswith(token[:3]))


def _safe(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _year(raw: str | None, ref: date) -> int | None:
    if not raw:
        return None
    value = int(raw)
    return value + 2000 if value < 100 else value


def _near_past(month: int, day: int, ref: date, weekday: int | None = None) -> date | None:
    """That day/month in the year that puts it nearest on or before `ref` (allowing a week ahead)."""
    for year in (ref.year, ref.year - 1, ref.year + 1):
        candidate = _safe(year, month, day)
        recent = candidate and candidate <= ref + timedelta(days=7) and (ref - candidate).days < 300
        if recent and (weekday is None or candidate.weekday() == weekday):
            return candidate
    return _safe(ref.year, month, day)


def _day_only(day: int, ref: date, weekday: int | None, future: bool) -> date | None:
    """'Monday 23rd' / 'the 23rd': that day in ref's month, or a neighbouring one that fits."""
    months = [(ref.year, ref.month)]
    prev = (ref.replace(day=1) - timedelta(days=1))
    nxt = (ref.replace(day=28) + timedelta(days=4)).replace(day=1)
    months += [(nxt.year, nxt.month), (prev.year, prev.month)] if future else [(prev.year, prev.month), (nxt.year, nxt.month)]
    fallback = None
    for year, month in months:
        candidate = _safe(year, month, day)
        if candidate is None:
            continue
        fits_time = candidate >= ref if future else candidate <= ref + timedelta(days=7)
        fits_day = weekday is None or candidate.weekday() == weekday
        if fits_time and fits_day:
            return candidate
        if fits_day and fallback is None:
            fallback = candidate
    return fallback or _safe(ref.year, ref.month, day)


def find_dates(text: str, ref: date, future_context: bool = False) -> list[DateHit]:
    """Every date expression in `text`, resolved against `ref`; overlapping matches skipped."""
    hits: list[DateHit] = []
    taken: list[tuple[int, int]] = []
    for name, pattern in PATTERNS:
        for match in pattern.finditer(text or ""):
            span = match.span()
            if any(span[0] < end and start < span[1] for start, end in taken):
                continue
            when, future = _resolve(name, match, ref, future_context)
            if when is None:
                continue
            taken.append(span)
            hits.append(DateHit(when, name in EXPLICIT, future, span[0], span[1], match.group(0)))
    return sorted(hits, key=lambda hit: hit.start)


def _resolve(name: str, match: re.Match[str], ref: date, future_context: bool) -> tuple[date | None, bool]:
    groups = match.groupdict()
    weekday = _weekday(groups["wd"]) if groups.get("wd") else None
    if name == "iso":
        return _safe(int(groups["y"]), int(groups["m"]), int(groups["d"])), False
    if name == "numeric":
        day, month = int(groups["d"]), int(groups["m"])
        text = match.string
        if groups.get("y") is None and "." in match.group(0) and (
            TIME_BEFORE.search(text[max(0, match.start() - 12) : match.start()]) or TIME_AFTER.match(text[match.end() :])
        ):
            return None, False
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return None, False
        year = _year(groups.get("y"), ref)
        when = _safe(year, month, day) if year else _near_past(month, day, ref)
        return when, bool(when and when > ref)
    if name in ("day_month", "month_day"):
        day, month = int(groups["day"]), _month(groups["mon"])
        year = _year(groups.get("y"), ref)
        when = _safe(year, month, day) if year else _near_past(month, day, ref, None)
        return when, bool(when and when > ref)
    if name in ("weekday_day", "the_day"):
        when = _day_only(int(groups["day"]), ref, weekday, future_context)
        return when, bool(when and when > ref)
    if name == "today":
        return ref, False
    if name == "yesterday":
        return ref - timedelta(days=1), False
    if name == "day_before":
        return ref - timedelta(days=2), False
    if name == "days_ago":
        raw = groups["n"].lower()
        return ref - timedelta(days=NUMBERS.get(raw) or int(raw)), False
    if name == "tomorrow":
        return ref + timedelta(days=1), True
    if name == "next_weekday" and weekday is not None:
        ahead = (weekday - ref.weekday()) % 7 or 7
        return ref + timedelta(days=ahead), True
    if name == "weekday" and weekday is not None:
        rel = (groups.get("rel") or "").lower()
        if rel == "last":
            back = (ref.weekday() - weekday) % 7 or 7
            return ref - timedelta(days=back), False
        if future_context and rel != "since":
            ahead = (weekday - ref.weekday()) % 7 or 7
            return ref + timedelta(days=ahead), True
        back = (ref.weekday() - weekday) % 7
        return ref - timedelta(days=back), False
    return None, False


def check_date_in(text: str, ref: date) -> date | None:
    """The day a check was made, from one sentence: an explicit date wins over a relative word."""
    hits = [hit for hit in find_dates(text, ref) if not hit.future]
    explicit = [hit for hit in hits if hit.explicit]
    chosen = (explicit or hits or [None])[0]
    return chosen.when if chosen else None


def spell_out(text: str, ref: date) -> str:
    """Next-step text with forward-looking days written as dates: 'on Monday (30 November 2026)'."""
    out = []
    last = 0
    for hit in find_dates(text, ref, future_context=True):
        if hit.explicit:
            continue
        out.append(text[last : hit.end])
        out.append(f" ({hit.when.day} {MONTHS[hit.when.month - 1].title()} {hit.when.year})")
        last = hit.end
    out.append(text[last:])
    return "".join(out)
