"""rules/columns.yaml: which header names mean which logical column, per kind of file.

Arbor lets a school rename and reorder export columns, so a file is read by its header row
through this mapping; another export layout is configuration, not code.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from worker.errors import ImportFileError, RulesError
from worker.rules_file import read_rules_yaml

TYPES = frozenset(
    {"text", "name", "ref", "upn", "date", "time", "session", "code", "minutes", "email",
     "emails", "domains", "choice"}
)
# The order roster kinds must load in (a pupil names a school, a timetable a pupil);
# attendance kinds come after, in the order given.
KIND_ORDER = ("calendar", "schools", "staff", "pupils", "timetables", "roll_call", "lessons")
ATTENDANCE_KINDS = frozenset({"roll_call", "lessons"})


def norm_header(text: str) -> str:
    """Header text compared ignoring case, BOM, spacing and Unicode form."""
    text = unicodedata.normalize("NFC", text.replace("\ufeff", ""))
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    headers: tuple[str, ...]
    type: str
    required: bool = True
    blank_ok: bool = False
    choices: Mapping[str, object] | None = None  # casefolded accepted text -> stored value
    choice_labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class KindSpec:
    kind: str
    description: str
    columns: tuple[ColumnSpec, ...]

    def column(self, key: str) -> ColumnSpec:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(key)


@dataclass(frozen=True)
class Layout:
    """A header row read through a KindSpec."""

    spec: KindSpec
    header: tuple[str, ...]
    index: Mapping[str, int]  # logical key -> position in the row
    unused: tuple[str, ...] = ()  # header names no column claims (ignored)
    by_position: tuple[ColumnSpec | None, ...] = field(default=())
    # (key, first position, repeated position): a column named twice ("Mark" ... "Code")
    repeated: tuple[tuple[str, int, int], ...] = ()

    @property
    def kind(self) -> str:
        return self.spec.kind

    def label(self, key: str) -> str:
        """The column's name as this file spells it (or the configured name when absent)."""
        if key in self.index:
            return self.header[self.index[key]].strip()
        return self.spec.column(key).headers[0]


@dataclass(frozen=True)
class ColumnRules:
    kinds: Mapping[str, KindSpec]

    def match(self, header: Sequence[str], kind: str | None = None) -> Layout:
        """The layout of a header row; `kind` forces one. Raises ImportFileError."""
        if kind is not None:
            if kind not in self.kinds:
                raise ImportFileError(f"unknown kind {kind!r}")
            layout, missing = _layout(self.kinds[kind], header)
            if missing:
                raise ImportFileError(
                    f"not a {kind} file: the header lacks {', '.join(missing)}{_delimiter_hint(header)}"
                )
            return _no_repeats(layout)
        complete: list[Layout] = []
        nearest: tuple[int, str, list[str]] | None = None
        for spec in self.kinds.values():
            layout, missing = _layout(spec, header)
            if not missing:
                complete.append(layout)
            elif nearest is None or len(missing) < nearest[0]:
                nearest = (len(missing), spec.kind, missing)
        if not complete:
            hint = ""
            if nearest is not None:
                hint = f" (closest: {nearest[1]}, which needs {', '.join(nearest[2])})"
            raise ImportFileError(
                f"header row not recognised{_delimiter_hint(header) or hint}; --kind forces a kind"
            )
        complete.sort(key=lambda lay: -len(lay.index))
        if len(complete) > 1 and len(complete[0].index) == len(complete[1].index):
            raise ImportFileError(
                f"header row fits both {complete[0].kind} and {complete[1].kind}; use --kind"
            )
        return _no_repeats(complete[0])


def _delimiter_hint(header: Sequence[str]) -> str:
    """' (it is separated by ";" ...)' when the header is one cell that another separator splits."""
    if len(header) != 1:
        return ""
    for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
        if sep in header[0]:
            return f" (it is separated by {name}, not commas: save or export it as CSV, comma-separated)"
    return ""


def _no_repeats(layout: Layout) -> Layout:
    """A column named twice would leave the file to say which of two values counts: refused."""
    if layout.repeated:
        key, first, again = layout.repeated[0]
        raise ImportFileError(
            f"columns {first + 1} ({layout.header[first].strip()}) and {again + 1} "
            f"({layout.header[again].strip()}) are both the {layout.spec.column(key).headers[0]} column; "
            "remove one"
        )
    return layout


def _layout(spec: KindSpec, header: Sequence[str]) -> tuple[Layout, list[str]]:
    index: dict[str, int] = {}
    positions: list[ColumnSpec | None] = []
    unused: list[str] = []
    repeated: list[tuple[str, int, int]] = []
    for pos, text in enumerate(header):
        name = norm_header(text)
        hit = next(
            (c for c in spec.columns if c.key not in index and name in {norm_header(h) for h in c.headers}),
            None,
        )
        positions.append(hit)
        if hit is None:
            again = next((c for c in spec.columns if name in {norm_header(h) for h in c.headers}), None)
            if again is not None:
                repeated.append((again.key, index[again.key], pos))
            elif text.strip():
                unused.append(text.strip())
        else:
            index[hit.key] = pos
    missing = [c.headers[0] for c in spec.columns if c.required and c.key not in index]
    layout = Layout(spec, tuple(header), index, tuple(unused), tuple(positions), tuple(repeated))
    return layout, missing


def _choices(raw: object, where: str) -> tuple[dict[str, object], tuple[str, ...]]:
    if isinstance(raw, Mapping):
        pairs = [(str(k), v) for k, v in raw.items()]
    elif isinstance(raw, list):
        pairs = [(str(k), str(k)) for k in raw]
    else:
        raise RulesError(f"{where}: a choice column needs `choices` (a list or a mapping)")
    return {k.casefold(): v for k, v in pairs}, tuple(k for k, _ in pairs)


def parse_column_rules(data: Mapping, where: str = "columns.yaml") -> ColumnRules:
    kinds: dict[str, KindSpec] = {}
    for kind, body in (data.get("kinds") or {}).items():
        if kind not in KIND_ORDER or kind == "calendar":
            raise RulesError(f"{where}: unknown kind {kind!r}")
        cols = []
        for key, col in (body.get("columns") or {}).items():
            here = f"{where}: {kind}.{key}"
            ctype = col.get("type")
            if ctype not in TYPES:
                raise RulesError(f"{here}: unknown type {ctype!r}")
            headers = tuple(str(h) for h in col.get("headers") or ())
            if not headers:
                raise RulesError(f"{here}: needs at least one header name")
            choices, labels = _choices(col.get("choices"), here) if ctype == "choice" else (None, ())
            cols.append(
                ColumnSpec(
                    key=str(key),
                    headers=headers,
                    type=ctype,
                    required=bool(col.get("required", True)),
                    blank_ok=bool(col.get("blank_ok", False)),
                    choices=choices,
                    choice_labels=labels,
                )
            )
        kinds[kind] = KindSpec(kind, str(body.get("description", kind)), tuple(cols))
    return ColumnRules(kinds)


@lru_cache(maxsize=8)
def load_column_rules(rules_dir: str) -> ColumnRules:
    path = Path(rules_dir) / "columns.yaml"
    data = read_rules_yaml(path)
    return parse_column_rules(data, str(path))
