"""What an import says about one line: a defect (the row is rejected) or a note (it is kept).

The printed form is `file:line: column: defect: reason`, one per defect, so a person can find
the row. Reasons name the pupil by pupil_ref only, never by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
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
            parts.append(shorten(self.field, 100))
        parts.append(self.defect)
        parts.append(shorten(self.reason, 600))
        return ": ".join(parts)


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters: a 50 MB header cell must not become a 50 MB log line."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


_WORD = re.compile(r"[^\W\d_](?:[\w'\u2019-]*\w)?")


def redact(text: str, names: Iterable[str]) -> str:
    """`text` with every word of `names` (a pupil's name, as the row or the roster spells it)
    replaced by [name]: a value echoed in a reason may be a name in the wrong column."""
    words = sorted({w for n in names for w in _WORD.findall(n or "") if len(w) > 1}, key=len, reverse=True)
    if not words:
        return text
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.IGNORECASE)
    return pattern.sub("[name]", text)


class BadValue(ValueError):
    """One value could not be read; `defect` is the id, the message the reason."""

    def __init__(self, defect: str, reason: str, value: str | None = None) -> None:
        self.defect = defect
        self.reason = reason
        self.value = value
        super().__init__(reason)
