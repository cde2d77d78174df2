"""Checks across the rows of one file, once each row has been read on its own.

The writer upserts by key, so two rows with one key would silently leave the later one in
place: for a school's contacts or a pupil's Main School that is a guess about who may receive
pupil data. Rows that disagree are all rejected (the stored values stay until a person
decides); an exact repeat is noted and read once. A UPN names one child, so two pupils with
the same UPN are rejected too. Pure: typed rows in, issues out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from worker.imports.defects import ERROR, INFO

# The key the writer upserts each kind by (worker/imports/writer.py).
KEYS: dict[str, tuple[str, ...]] = {
    "roll_call": ("pupil_ref", "date", "session"),
    "lessons": ("pupil_ref", "date", "start", "register"),
    "schools": ("urn",),
    "staff": ("role", "email"),
    "pupils": ("pupil_ref",),
    "timetables": ("pupil_ref", "weekday", "session", "valid_from"),
}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Issue:
    line: int
    column: str  # the logical column the issue is about
    defect: str
    reason: str
    value: str | None
    severity: str = ERROR


def _values(row: Any) -> tuple:
    return tuple(getattr(row, f.name) for f in fields(row) if f.name != "line")


def _show(value: Any) -> str:
    return value.strftime("%d/%m/%Y") if isinstance(value, date) else str(value)


def describe_key(kind: str, row: Any) -> str:
    """'pupil 20001, 02/11/2026 AM', 'school 900101', 'staff tutor t@x.example': never a name."""
    parts = {name: getattr(row, name) for name in KEYS[kind]}
    if kind == "schools":
        return f"school {parts['urn']}"
    if kind == "staff":
        return f"staff {parts['role']} {parts['email']}"
    text = f"pupil {parts['pupil_ref']}"
    rest = [_show(v) if k != "weekday" else WEEKDAYS[v] for k, v in parts.items() if k != "pupil_ref"]
    return text + (", " + " ".join(rest) if rest else "")


def _lines(lines: Sequence[int]) -> str:
    return ", ".join(str(n) for n in lines[:-1]) + f" and {lines[-1]}" if len(lines) > 1 else str(lines[0])


def repeated_keys(kind: str, rows: Sequence[Any]) -> tuple[list[Issue], set[int]]:
    """(issues, lines to leave out): rows sharing a key that disagree are rejected, all of them;
    exact repeats after the first are noted and left out."""
    groups: dict[tuple, list[Any]] = defaultdict(list)
    for row in rows:
        groups[tuple(getattr(row, name) for name in KEYS[kind])].append(row)
    issues: list[Issue] = []
    dropped: set[int] = set()
    column = KEYS[kind][0]
    for same in groups.values():
        if len(same) < 2:
            continue
        lines = [row.line for row in same]
        what = describe_key(kind, same[0])
        if len({_values(row) for row in same}) == 1:
            for row in same[1:]:
                issues.append(Issue(row.line, column, "duplicate_row",
                                    f"repeats line {same[0].line} ({what}); read once", None, INFO))
                dropped.add(row.line)
            continue
        for row in same:
            issues.append(Issue(row.line, column, "conflicting_rows",
                                f"lines {_lines(lines)} give {what} different values; none of them "
                                "is applied, the stored values stay", None))
            dropped.add(row.line)
    return issues, dropped


def shared_upns(rows: Sequence[Any], known_upns: Mapping[str, str]) -> list[Issue]:
    """Pupil rows whose UPN is given to another pupil: in this file, an error for each of them
    (which one is right cannot be told); already on the roster, a note (the roster may be the
    one that is out of date)."""
    by_upn: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        if row.upn:
            by_upn[row.upn].append(row)
    in_file = {row.pupil_ref: row.upn for row in rows}
    issues: list[Issue] = []
    for upn, same in by_upn.items():
        refs = sorted({row.pupil_ref for row in same})
        if len(refs) > 1:
            for row in same:
                others = ", ".join(r for r in refs if r != row.pupil_ref)
                issues.append(Issue(row.line, "upn", "upn_clash",
                                    f"the UPN is also given to pupil {others} in this file; a UPN "
                                    f"names one child (pupil {row.pupil_ref})", upn))
            continue
        owner = known_upns.get(upn)
        # The roster's owner counts unless this file gives that pupil another UPN.
        if owner is not None and owner != refs[0] and in_file.get(owner, upn) == upn:
            issues.append(Issue(same[0].line, "upn", "upn_clash",
                                f"the roster gives this UPN to pupil {owner}; check which pupil it "
                                f"belongs to (pupil {refs[0]})", upn, INFO))
    return issues


def timetable_overlaps(rows: Sequence[Any]) -> list[Issue]:
    """Notes for timetable rows of one pupil's weekday session whose dates overlap with a
    different place: the row with the later valid_from applies from that day (the world's rule)."""
    groups: dict[tuple, list[Any]] = defaultdict(list)
    for row in rows:
        groups[(row.pupil_ref, row.weekday, row.session)].append(row)
    issues: list[Issue] = []
    for same in groups.values():
        same = sorted(same, key=lambda r: r.valid_from)
        for before, after in zip(same, same[1:], strict=False):
            ends = before.valid_to
            if before.valid_from != after.valid_from and (ends is None or ends >= after.valid_from) \
                    and before.place != after.place:
                issues.append(Issue(after.line, "valid_from", "overlapping_dates",
                                    f"overlaps line {before.line} ({before.place} from "
                                    f"{_show(before.valid_from)}): {after.place} applies from "
                                    f"{_show(after.valid_from)} (pupil {after.pupil_ref}, "
                                    f"{WEEKDAYS[after.weekday]} {after.session})", None, INFO))
    return issues
