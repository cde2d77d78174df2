"""What an import says about one line: a defect (the row is rejected) or a note (it is kept).

The printed form is `file:line: column: defect: reason`, one per defect, so a person can find
the row. Reasons name the pupil by pupil_ref only, never by name.
"""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
INFO = "info"


@dataclass(frozen=True)
class Defect:
    file: str
    line: int
    field: str | None  # the column's header as the file spells it; None when no column applies
    defect: str  # a stable id: unknown_code, impossible_date, missing_column, ...
    reason: str  # for a person; contains no pupil name
    value: str | None = None  # the offending text (kept for the RejectedRow, not printed)
    severity: str = ERROR

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def text(self) -> str:
        parts = [f"{self.file}:{self.line}"]
        if self.field:
            parts.append(self.field)
        parts.append(self.defect)
        parts.append(self.reason)
        return ": ".join(parts)


class BadValue(ValueError):
    """One value could not be read; `defect` is the id, the message the reason."""

    def __init__(self, defect: str, reason: str, value: str | None = None) -> None:
        self.defect = defect
        self.reason = reason
        self.value = value
        super().__init__(reason)
