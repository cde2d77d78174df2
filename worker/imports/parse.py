"""The import core: (file name, bytes) -> typed rows + defects. Pure: no database, no clock.

What the database already holds (pupils, schools) comes in as `Known`, so a row can be
checked against the roster without a query per row. Each defective row is rejected whole,
with every defect found in it; the good rows go on to the writer.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import combinations
from math import comb
from pathlib import PurePath
from typing import Any

import yaml

from worker.attendance.codes import CodeBook
from worker.errors import ImportFileError
from worker.imports.checks import repeated_keys, shared_upns, timetable_overlaps
from worker.imports.columns import ATTENDANCE_KINDS, ColumnRules, ColumnSpec, Layout
from worker.imports.csvread import (
    Record,
    clean,
    describe_bad_bytes,
    has_bad_bytes,
    records,
)
from worker.imports.defects import ERROR, INFO, BadValue, Defect, redact
from worker.imports.values import cell_problem, parse_date, parse_value, plausible

KEPT = "row kept for review"
CALENDAR_SUFFIXES = (".yaml", ".yml")
_MAX_ALIGNMENTS = 2000
# Marks dated before this, or more than a year after the import, are a mistyped year: kept
# for a person, not stored where they would move the first day of data or sit unseen.
EARLIEST_MARK = date(2000, 1, 1)
LATEST_MARK_AHEAD = timedelta(days=366)


# --- what the database knows -------------------------------------------------------------


@dataclass(frozen=True)
class PupilKey:
    pupil_ref: str
    upn: str | None
    forename: str
    surname: str


@dataclass
class Known:
    """Roster facts rows are checked against."""

    pupils: Mapping[str, PupilKey] = field(default_factory=dict)
    school_urns: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self.by_upn = {p.upn: p.pupil_ref for p in self.pupils.values() if p.upn}


# --- typed rows ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionMarkRow:
    line: int
    pupil_ref: str
    date: date
    session: str
    mark: str
    minutes_late: int | None
    note: str | None


@dataclass(frozen=True)
class LessonRow:
    line: int
    pupil_ref: str
    date: date
    start: str
    end: str
    register: str
    mark: str
    minutes_late: int | None
    note: str | None


@dataclass(frozen=True)
class SchoolRow:
    line: int
    urn: str
    name: str
    attendance_emails: str
    dsl_emails: str
    domains: str
    certificate_day: str
    delivery: str


@dataclass(frozen=True)
class StaffRow:
    line: int
    role: str
    name: str
    email: str


@dataclass(frozen=True)
class PupilRow:
    line: int
    pupil_ref: str
    upn: str | None
    forename: str
    surname: str
    date_of_birth: date | None
    school_urn: str
    key_tutor_email: str
    safeguarding_risk: bool
    registration: str
    start_date: date | None
    end_date: date | None


@dataclass(frozen=True)
class TimetableRow:
    line: int
    pupil_ref: str
    weekday: int
    session: str
    place: str
    valid_from: date
    valid_to: date | None


@dataclass(frozen=True)
class PeriodRow:
    kind: str  # term | half_term | closure
    start: date
    end: date
    name: str


@dataclass(frozen=True)
class Rejected:
    line: int
    raw: str
    defects: tuple[Defect, ...]


@dataclass
class ParsedFile:
    name: str  # the file name as reported (no folders)
    kind: str
    rows: list[Any] = field(default_factory=list)
    defects: list[Defect] = field(default_factory=list)  # errors and notes, in line order
    rejected: list[Rejected] = field(default_factory=list)
    rows_read: int = 0

    @property
    def errors(self) -> list[Defect]:
        return [d for d in self.defects if d.is_error]


# --- entry points ------------------------------------------------------------------------------


def display_name(name: str) -> str:
    return PurePath(name).name or name


def detect_kind(name: str, data: bytes, rules: ColumnRules) -> str:
    """The kind of a file: calendar by its .yaml name, anything else by its header row."""
    if name.lower().endswith(CALENDAR_SUFFIXES):
        return "calendar"
    header = next(records(data), None)
    if header is None:
        raise ImportFileError("the file is empty")
    return rules.match(header.fields).kind


def parse_file(
    name: str,
    data: bytes,
    *,
    rules: ColumnRules,
    codebook: CodeBook,
    known: Known,
    windows: Mapping[str, Any] | None = None,
    kind: str | None = None,
    today: date | None = None,
) -> ParsedFile:
    """Every row of one file, read and checked. Raises ImportFileError if the file cannot be read at all.

    `windows` (session -> object with `.start`/`.end` times and `.contains(time)`) lets the
    lessons reader note lessons that fall in no session. `today` (the import's day) bounds the
    dates a mark may carry.
    """
    label = display_name(name)
    if kind == "calendar" or (kind is None and name.lower().endswith(CALENDAR_SUFFIXES)):
        return parse_calendar(label, data)
    expected: list[int | None] = [None]
    stream = records(data, lambda: expected[0])
    header = next(stream, None)
    if header is None:
        raise ImportFileError("the file is empty")
    if header.bad_bytes:
        raise ImportFileError("the header row is not UTF-8 text")
    if any(cell_problem(_ANY_COLUMN, cell) for cell in header.fields):
        raise ImportFileError("the header row holds control characters or line breaks; was the file damaged?")
    layout = rules.match(header.fields, kind)
    expected[0] = len(layout.header)
    parsed = ParsedFile(label, layout.kind)
    for unused in layout.unused:
        parsed.defects.append(
            Defect(label, header.line, unused, "unused_column",
                   "no column of rules/columns.yaml has this name; ignored", severity=INFO)
        )
    reader = _ROW_READERS[layout.kind]
    for record in stream:
        parsed.rows_read += 1
        row, defects = _read_record(record, layout, label, codebook, known, windows, reader, today)
        errors = [d for d in defects if d.is_error]
        parsed.defects.extend(defects)
        if errors:
            parsed.rejected.append(Rejected(record.line, record.raw, tuple(errors)))
        elif row is not None:
            parsed.rows.append(row)
    _across_rows(parsed, layout, known, data)
    return parsed


def _across_rows(parsed: ParsedFile, layout: Layout, known: Known, data: bytes) -> None:
    """Rows that disagree with each other (checks.py): rejected or left out, with their defects."""
    issues, dropped = repeated_keys(parsed.kind, parsed.rows)
    if parsed.kind == "pupils":
        more = shared_upns([r for r in parsed.rows if r.line not in dropped], known.by_upn)
        issues += more
        dropped |= {issue.line for issue in more if issue.severity == ERROR}
    if parsed.kind == "timetables":
        issues += timetable_overlaps([r for r in parsed.rows if r.line not in dropped])
    if not issues:
        return
    parsed.rows = [row for row in parsed.rows if row.line not in dropped]
    errors: dict[int, list[Defect]] = {}
    for issue in issues:
        reason = f"{issue.reason}; {KEPT}" if issue.severity == ERROR else issue.reason
        defect = Defect(parsed.name, issue.line, layout.label(issue.column), issue.defect, reason,
                        issue.value, issue.severity)
        parsed.defects.append(defect)
        if defect.is_error:
            errors.setdefault(issue.line, []).append(defect)
    if errors:
        # The raw text of the rows now rejected, read again (only when there are some).
        raws = {r.line: r.raw for r in records(data, lambda: len(layout.header)) if r.line in errors}
        parsed.rejected += [Rejected(line, raws.get(line, ""), tuple(found)) for line, found in errors.items()]
        parsed.rejected.sort(key=lambda r: r.line)
    parsed.defects.sort(key=lambda d: d.line)


# --- one record ------------------------------------------------------------------------------


class _Row:
    """A record's cells by logical key, with what is needed to word a defect."""

    def __init__(self, record: Record, layout: Layout, cells: Sequence[str | None], label: str,
                 known: Known | None = None):
        self.record = record
        self.layout = layout
        self.cells = cells
        self.label = label
        self.known = known
        self.values: dict[str, Any] = {}
        self.defects: list[Defect] = []

    def text(self, key: str) -> str:
        pos = self.layout.index.get(key)
        if pos is None:
            return ""
        cell = self.cells[pos]
        return clean(cell).strip() if cell is not None else ""

    def context(self) -> str:
        """'pupil 28231, 2026-11-18 AM': never the name."""
        parts = []
        ref = self.text("pupil_ref")
        if ref:
            parts.append(f"pupil {ref}")
        when = self.values.get("date")
        if not isinstance(when, date):
            try:
                when = parse_date(self.text("date"))
            except BadValue:
                when = None
        when_text = when.isoformat() if when is not None else self.text("date")
        slot = next(
            (v for v in (self.values.get("session"), self.values.get("start")) if isinstance(v, str)),
            self.text("session") or self.text("start"),
        )
        moment = " ".join(p for p in (when_text, slot) if p)
        if moment:
            parts.append(moment)
        return ", ".join(parts)

    def names(self, known: Known | None) -> list[str]:
        """The pupil's name as this row and the roster spell it (to keep it out of messages)."""
        found = [self.text(col.key) for col in self.layout.spec.columns
                 if col.type == "name" or col.key in ("forename", "surname")]
        if known is not None:
            pupil = known.pupils.get(self.text("pupil_ref")) or known.pupils.get(
                known.by_upn.get(self.text("upn").upper(), ""))
            if pupil is not None:
                found += [pupil.forename, pupil.surname]
        return found

    def add(self, key: str | None, defect: str, reason: str, value: str | None,
            severity: str = ERROR, field_label: str | None = None) -> None:
        context = self.context()
        text = f"{reason} ({context})" if context else reason
        # A value echoed in a reason may be a name in the wrong column: never print it.
        text = redact(text, self.names(self.known))
        if severity == ERROR:
            text = f"{text}; {KEPT}"
        label = field_label if field_label is not None else (self.layout.label(key) if key else None)
        self.defects.append(Defect(self.label, self.record.line, label, defect, text, value, severity))


def _read_record(record, layout, label, codebook, known, windows, reader, today=None):
    width = len(layout.header)
    if len(record.fields) != width:
        cells, moved = _align(record.fields, layout, codebook)
        row = _Row(record, layout, cells, label, known)
        if len(record.fields) < width:
            names = [layout.header[p].strip() or f"column {p + 1}" for p in moved]
            row.add(None, "missing_column",
                    f"the row has {len(record.fields)} fields where the header has {width}: "
                    f"{', '.join(names)} missing", None, field_label=", ".join(names))
        else:
            extra = ",".join(record.fields[p] for p in moved)
            where = "at the end" if moved[0] >= width else f"at field {moved[0] + 1}"
            row.add(None, "extra_column",
                    f"the row has {len(record.fields)} fields where the header has {width}: "
                    f"{len(moved)} extra {where}: {clean(extra)!r}", clean(extra))
        return None, row.defects
    row = _Row(record, layout, record.fields, label, known)
    if record.bad_bytes:
        for pos, cell in enumerate(record.fields):
            if has_bad_bytes(cell):
                what = describe_bad_bytes(cell)
                row.add(None, "not_utf8",
                        f"{what} is not UTF-8; was the file saved by a spreadsheet?",
                        what, field_label=layout.header[pos].strip() or f"column {pos + 1}")
        return None, row.defects
    for key, pos in layout.index.items():
        problem = cell_problem(layout.spec.column(key), record.fields[pos])
        if problem is not None:
            row.add(key, problem.defect, problem.reason, problem.value)
    if row.defects:
        return None, row.defects
    for key, pos in layout.index.items():
        col = layout.spec.column(key)
        try:
            row.values[key] = parse_value(col, record.fields[pos], codebook)
        except BadValue as exc:
            row.values[key] = _FAILED
            row.add(key, exc.defect, exc.reason, exc.value)
    for col in layout.spec.columns:
        row.values.setdefault(col.key, None)
    if layout.kind in ATTENDANCE_KINDS:
        _plausible_date(row, today)
    if layout.kind == "pupils":
        _plausible_birth(row, today)
    result = reader(row, known, windows)
    if any(d.is_error for d in row.defects):
        return None, row.defects
    return result, row.defects


_FAILED = object()  # a value that could not be read (its defect is already recorded)
_ANY_COLUMN = ColumnSpec("header", ("header",), "text")


def _plausible_birth(row: _Row, today: date | None) -> None:
    """A date of birth after the import day, or before 1990, is a typing slip (31/12/9999)."""
    born = row.values.get("date_of_birth")
    if isinstance(born, date) and (born.year < 1990 or (today is not None and born > today)):
        row.add("date_of_birth", "implausible_date", f"{born:%d/%m/%Y} cannot be a pupil's date of birth",
                row.text("date_of_birth"))


def _plausible_date(row: _Row, today: date | None) -> None:
    when = row.values.get("date")
    if not isinstance(when, date):
        return
    if when < EARLIEST_MARK:
        row.add("date", "implausible_date", f"{when:%d/%m/%Y} is before {EARLIEST_MARK.year}: a mistyped year?",
                row.text("date"))
    elif today is not None and when > today + LATEST_MARK_AHEAD:
        row.add("date", "implausible_date",
                f"{when:%d/%m/%Y} is more than a year after the import ({today:%d/%m/%Y}): a mistyped year?",
                row.text("date"))


def _ok(row: _Row, *keys: str) -> bool:
    return all(row.values.get(k) is not _FAILED for k in keys)


def _align(fields: Sequence[str], layout: Layout, codebook: CodeBook) -> tuple[list[str | None], list[int]]:
    """Which columns a short row lost (or a long row gained), judged by what fits where.

    Returns the cells aligned to the header (None where missing) and the positions lost
    (header positions) or gained (row positions). Ties go to the later position: a lost or
    added trailing column is the common case.
    """
    width, count = len(layout.header), len(fields)
    cols = layout.by_position
    span, k = max(width, count), abs(width - count)

    def cells_for(moved: tuple[int, ...]) -> list[str | None]:
        if count < width:
            it = iter(fields)
            return [None if p in moved else next(it) for p in range(width)]
        return [f for p, f in enumerate(fields) if p not in moved]

    def score(cells: list[str | None]) -> int:
        return sum(
            1 for col, cell in zip(cols, cells, strict=True)
            if cell is not None and (col is None or plausible(col, cell, codebook))
        )

    if comb(span, k) > _MAX_ALIGNMENTS:
        moved = tuple(range(span - k, span))
        return cells_for(moved), list(moved)
    best: tuple[int, tuple[int, ...]] | None = None
    for moved in combinations(range(span), k):
        key = (score(cells_for(moved)), moved)
        if best is None or key >= best:
            best = key
    assert best is not None
    return cells_for(best[1]), list(best[1])


# --- per kind --------------------------------------------------------------------------------


def _name_key(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(text.replace(",", ", ").split()).casefold()


def _match_pupil(row: _Row, known: Known) -> None:
    """Arbor Student ID finds the pupil; UPN (when both have one) and name must agree."""
    if not _ok(row, "pupil_ref"):
        return
    ref = row.values["pupil_ref"]
    upn = row.values.get("upn") if _ok(row, "upn") else None
    pupil = known.pupils.get(ref)
    if pupil is None:
        owner = known.by_upn.get(upn) if upn else None
        if owner is not None:
            row.add("pupil_ref", "unknown_pupil",
                    f"Arbor Student ID {ref} is not on the roster, but the UPN belongs to pupil {owner}", ref)
        elif upn:
            row.add("upn", "unknown_pupil",
                    f"not on the roster: neither Arbor Student ID {ref} nor the UPN is known",
                    row.text("upn"))
        else:
            row.add("pupil_ref", "unknown_pupil", f"Arbor Student ID {ref} is not on the roster", ref)
        return
    if upn and pupil.upn and upn != pupil.upn:
        row.add("upn", "upn_mismatch",
                f"the UPN does not match the roster's UPN for pupil {ref}", row.text("upn"))
    name = row.values.get("student")
    if isinstance(name, str) and _name_key(name) != _name_key(f"{pupil.surname}, {pupil.forename}"):
        row.add("student", "name_mismatch",
                f"the name does not match the roster's 'Surname, Forename' for pupil {ref}", name)


def _roll_call(row: _Row, known: Known, windows) -> SessionMarkRow | None:
    _match_pupil(row, known)
    if row.defects and any(d.is_error for d in row.defects):
        return None
    v = row.values
    return SessionMarkRow(row.record.line, v["pupil_ref"], v["date"], v["session"], v["mark"],
                          v["minutes_late"], v["note"] or None)


def _lessons(row: _Row, known: Known, windows) -> LessonRow | None:
    _match_pupil(row, known)
    v = row.values
    if _ok(row, "start", "end") and v["start"] and v["end"] and v["end"] <= v["start"]:
        row.add("end", "bad_time", f"the lesson ends ({v['end']}) before it starts ({v['start']})", v["end"])
    if any(d.is_error for d in row.defects):
        return None
    if windows and not any(_in_window(w, v["start"]) for w in windows.values()):
        spans = ", ".join(f"{s} {_hhmm(w.start)}-{_hhmm(w.end)}" for s, w in windows.items())
        row.add("start", "outside_windows",
                f"lesson starts {v['start']}, outside every session window ({spans}): "
                "stored, ignored for session marks", v["start"], severity=INFO)
    return LessonRow(row.record.line, v["pupil_ref"], v["date"], v["start"], v["end"], v["register"],
                     v["mark"], v["minutes_late"], v["note"] or None)


def _hhmm(moment: Any) -> str:
    return moment.strftime("%H:%M") if hasattr(moment, "strftime") else str(moment)


def _in_window(window: Any, start: str) -> bool:
    return _hhmm(window.start) <= start < _hhmm(window.end)


def _schools(row: _Row, known: Known, windows) -> SchoolRow | None:
    v = row.values
    return SchoolRow(row.record.line, v["urn"], v["name"], v["attendance_email"] or "", v["dsl_email"] or "",
                     v["domains"] or "", v["certificate_day"] or "Friday", v["delivery"] or "per_school")


def _staff(row: _Row, known: Known, windows) -> StaffRow | None:
    v = row.values
    return StaffRow(row.record.line, v["role"], v["name"], v["email"].lower())


def _pupils(row: _Row, known: Known, windows) -> PupilRow | None:
    v = row.values
    if _ok(row, "main_school_urn") and v["main_school_urn"] not in known.school_urns:
        row.add("main_school_urn", "unknown_school",
                f"school {v['main_school_urn']} is not among the Main Schools (import schools.csv first)",
                v["main_school_urn"])
    if _ok(row, "start_date", "end_date") and v["start_date"] and v["end_date"] and v["end_date"] < v["start_date"]:
        row.add("end_date", "end_before_start", "the end date is before the start date", row.text("end_date"))
    if any(d.is_error for d in row.defects):
        return None
    return PupilRow(row.record.line, v["pupil_ref"], v["upn"], v["forename"], v["surname"],
                    v["date_of_birth"], v["main_school_urn"], (v["key_tutor_email"] or "").lower(),
                    bool(v["safeguarding_risk"]), v["registration"] or "K", v["start_date"], v["end_date"])


def _timetables(row: _Row, known: Known, windows) -> TimetableRow | None:
    v = row.values
    if _ok(row, "pupil_ref") and v["pupil_ref"] not in known.pupils:
        row.add("pupil_ref", "unknown_pupil",
                f"pupil {v['pupil_ref']} is not on the roster (import pupils.csv first)", v["pupil_ref"])
    if _ok(row, "valid_from", "valid_to") and v["valid_to"] and v["valid_to"] < v["valid_from"]:
        row.add("valid_to", "end_before_start", "valid_to is before valid_from", row.text("valid_to"))
    if any(d.is_error for d in row.defects):
        return None
    return TimetableRow(row.record.line, v["pupil_ref"], v["weekday"], v["session"], v["place"],
                        v["valid_from"], v["valid_to"])


_ROW_READERS = {
    "roll_call": _roll_call,
    "lessons": _lessons,
    "schools": _schools,
    "staff": _staff,
    "pupils": _pupils,
    "timetables": _timetables,
}


# --- calendar ------------------------------------------------------------------------------


def parse_calendar(label: str, data: bytes) -> ParsedFile:
    """calendar.yaml -> periods. All or nothing: the calendar replaces the stored one whole,
    so a half-read calendar would silently open closed days."""
    try:
        doc = yaml.safe_load(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"not UTF-8 text (byte {exc.start})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ImportFileError(f"not valid YAML{where}: {' '.join(str(problem).split())}") from None
    except (ValueError, TypeError, RecursionError) as exc:  # e.g. `start: 2026-02-30` fails in the loader
        raise ImportFileError(f"not a valid calendar: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("terms"), list):
        raise ImportFileError("a calendar needs a `terms` list")
    if not doc["terms"]:
        # The calendar replaces the stored one whole: no terms would close every day, and
        # not-seen counting would stop for every pupil without a word.
        raise ImportFileError("the `terms` list is empty: a calendar needs at least one term")
    periods: list[PeriodRow] = []
    for t, term in enumerate(doc["terms"], start=1):
        where = f"terms[{t}]"
        if not isinstance(term, dict):
            raise ImportFileError(f"{where} is not a mapping")
        name = _label(term.get("name") or f"term {t}", f"{where}.name")
        start, end = _span(term, where)
        if (end - start).days > MAX_TERM_DAYS:
            raise ImportFileError(f"{where} lasts {(end - start).days + 1} days; a term is at most a school year")
        for other in (p for p in periods if p.kind == "term"):
            if start <= other.end and other.start <= end:
                raise ImportFileError(f"{where} ({start} to {end}) overlaps the term {other.name!r}")
        periods.append(PeriodRow("term", start, end, name))
        for h, half in enumerate(term.get("half_terms") or (), start=1):
            hwhere = f"{where}.half_terms[{h}]"
            if not isinstance(half, dict):
                raise ImportFileError(f"{hwhere} is not a mapping")
            hstart, hend = _span(half, hwhere)
            if hstart < start or hend > end:
                raise ImportFileError(f"{hwhere} lies outside its term")
            periods.append(PeriodRow("half_term", hstart, hend,
                                     _label(half.get("name") or f"{name} half term", f"{hwhere}.name")))
    for c, closure in enumerate(doc.get("closures") or (), start=1):
        where = f"closures[{c}]"
        if not isinstance(closure, dict):
            raise ImportFileError(f"{where} is not a mapping")
        if "date" in closure:
            start = end = _day(closure["date"], f"{where}.date")
        else:
            start, end = _span(closure, where)
        reason = _label(closure.get("reason") or "", f"{where}.reason")
        if not reason:
            raise ImportFileError(f"{where} has no reason (certificates show it)")
        periods.append(PeriodRow("closure", start, end, reason))
    return ParsedFile(label, "calendar", rows=periods, rows_read=len(periods))


MAX_TERM_DAYS = 400
_LABEL_LENGTH = 200  # CalendarPeriod.name


def _label(value: object, where: str) -> str:
    """A term name or closure reason: one line of text that fits its column."""
    text = " ".join(str(value).split())
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise ImportFileError(f"{where} holds control characters")
    if len(text) > _LABEL_LENGTH:
        raise ImportFileError(f"{where} has {len(text)} characters; at most {_LABEL_LENGTH} fit")
    return text


def _day(value: object, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ImportFileError(f"{where}: {value!r} is not a date YYYY-MM-DD") from None


def _span(item: Mapping[str, object], where: str) -> tuple[date, date]:
    if "start" not in item or "end" not in item:
        raise ImportFileError(f"{where} needs start and end")
    start, end = _day(item["start"], f"{where}.start"), _day(item["end"], f"{where}.end")
    if end < start:
        raise ImportFileError(f"{where} ends before it starts")
    return start, end


def known_from(pupils: Iterable[PupilKey], school_urns: Iterable[str]) -> Known:
    return Known({p.pupil_ref: p for p in pupils}, frozenset(school_urns))
