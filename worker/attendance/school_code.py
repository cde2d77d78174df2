"""The code a Main School records for one session, from the Service mark and the timetable.

The mapping is data (rules/main_school_codes.yaml) because the Service may change it, for
example how dual-registered pupils' absences are coded. A pending session (N, or no mark at
all where the pupil was expected at the Service) is shown but never final.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from worker.attendance.codes import CodeBook
from worker.attendance.world import Mark
from worker.errors import RulesError
from worker.rules_file import read_rules_yaml


@dataclass(frozen=True)
class SchoolCodeRules:
    attended_categories: frozenset[str] = frozenset({"present"})
    code_by_registration: tuple[tuple[str, str], ...] = (("K", "K"), ("D", "D"))
    part_time_code: str = "C2"
    closed_reason: str = "Service closed: {reason}"

    def attended_code(self, registration: str) -> str:
        table = dict(self.code_by_registration)
        return table.get(registration, table.get("K", "K"))


def load_school_code_rules(rules_dir: Path) -> SchoolCodeRules:
    """rules/main_school_codes.yaml; the built-in defaults when the file is absent."""
    path = Path(rules_dir) / "main_school_codes.yaml"
    if not path.exists():
        return SchoolCodeRules()
    data = read_rules_yaml(path)
    attended = data.get("attended") or {}
    table = attended.get("code_by_registration") or {"K": "K", "D": "D"}
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise RulesError(f"{path}: attended.code_by_registration must map registration -> code")
    reason = str(data.get("closed_reason", "Service closed: {reason}"))
    if "{reason}" not in reason:
        raise RulesError(f"{path}: closed_reason must contain {{reason}}")
    return SchoolCodeRules(
        attended_categories=frozenset(attended.get("categories") or ["present"]),
        code_by_registration=tuple((str(k), str(v)) for k, v in table.items()),
        part_time_code=str(data.get("part_time_code", "C2")),
        closed_reason=reason,
    )


@dataclass(frozen=True)
class Cell:
    """One AM or PM cell of a certificate."""

    place: str | None
    service_mark: str | None
    main_school_code: str | None
    reason: str | None
    pending: bool
    minutes_late: int | None

    def as_dict(self) -> dict:
        return {
            "place": self.place,
            "service_mark": self.service_mark,
            "main_school_code": self.main_school_code,
            "reason": self.reason,
            "pending": self.pending,
            "minutes_late": self.minutes_late,
        }


def _blank_to_none(text: str | None) -> str | None:
    return text if text and text.strip() else None


def session_cell(
    *,
    on_roll: bool,
    closed_reason: str | None,
    place: str | None,
    mark: Mark | None,
    registration: str,
    codebook: CodeBook,
    rules: SchoolCodeRules,
) -> Cell:
    """What the certificate shows for one session (the rules in main_school_codes.yaml, in order)."""
    if not on_roll:
        return Cell(None, None, None, None, False, None)
    service_mark = mark.code if mark is not None else None
    if closed_reason is not None:
        reason = rules.closed_reason.format(reason=closed_reason)
        return Cell(place, service_mark, None, reason, False, None)
    minutes_late = mark.minutes_late if mark is not None else None
    if mark is not None:
        code = codebook.get(mark.code)
        if code.category in rules.attended_categories:
            return Cell(
                place, service_mark, rules.attended_code(registration), None, False, minutes_late
            )
    if place == "none":
        return Cell(place, service_mark, rules.part_time_code, None, False, minutes_late)
    if place != "service":
        # Expected at the Main School (or not on the timetable): the school keeps its own register.
        return Cell(place, service_mark, None, None, False, minutes_late)
    if mark is None:
        return Cell(place, None, None, None, True, None)
    code = codebook.get(mark.code)
    return Cell(place, code.code, code.code, _blank_to_none(mark.note), code.pending, minutes_late)
