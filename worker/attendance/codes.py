"""The national attendance codes, loaded from rules/codes.yaml."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from worker.errors import RulesError

CATEGORIES = (
    "present",
    "approved_activity",
    "authorised",
    "unauthorised",
    "not_counted",
    "administrative",
)


@dataclass(frozen=True)
class Code:
    code: str
    category: str
    seen: bool
    possible: bool
    meaning: str
    pending: bool = False


class UnknownCode(ValueError):
    """Not a national attendance code in force (withdrawn codes included)."""

    def __init__(self, code: str, withdrawn: bool = False) -> None:
        self.code = code
        self.withdrawn = withdrawn
        why = "a withdrawn code" if withdrawn else "not a national attendance code"
        super().__init__(f"{code!r} is {why}")


@dataclass(frozen=True)
class CodeBook:
    codes: dict[str, Code]
    category_rank: tuple[str, ...]
    tie_order: tuple[str, ...]
    subcode_pattern: re.Pattern[str]
    withdrawn: frozenset[str]

    def normalise(self, raw: str) -> str:
        """The code in force for `raw` (sub-codes map to their parent); raises UnknownCode."""
        text = (raw or "").strip()
        if text in self.codes:
            return text
        upper = text.upper()
        if upper in self.codes:
            return upper
        match = self.subcode_pattern.match(upper)
        if match and match.group("parent") in self.codes:
            return match.group("parent")
        raise UnknownCode(text, withdrawn=upper in self.withdrawn)

    def get(self, code: str) -> Code:
        return self.codes[self.normalise(code)]

    def is_seen(self, code: str) -> bool:
        return self.get(code).seen

    def rank(self, code: str) -> tuple[int, int]:
        """Lower is better: category first, then the tie order inside a category."""
        c = self.get(code)
        tie = self.tie_order.index(c.code) if c.code in self.tie_order else len(self.tie_order)
        return (self.category_rank.index(c.category), tie)


def load_codebook(path: Path) -> CodeBook:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError(f"{path}: {exc}") from exc
    codes: dict[str, Code] = {}
    for code, spec in (data.get("codes") or {}).items():
        category = spec.get("category")
        if category not in CATEGORIES:
            raise RulesError(f"{path}: code {code!r} has unknown category {category!r}")
        codes[str(code)] = Code(
            code=str(code),
            category=category,
            seen=bool(spec.get("seen", False)),
            possible=bool(spec.get("possible", True)),
            meaning=str(spec.get("meaning", "")),
            pending=bool(spec.get("pending", False)),
        )
    rank = tuple(data.get("category_rank") or CATEGORIES)
    if set(rank) != set(CATEGORIES):
        raise RulesError(f"{path}: category_rank must list each category once")
    return CodeBook(
        codes=codes,
        category_rank=rank,
        tie_order=tuple(data.get("tie_order") or ()),
        subcode_pattern=re.compile((data.get("subcodes") or {}).get("pattern", r"^$^")),
        withdrawn=frozenset(data.get("withdrawn") or ()),
    )


@lru_cache(maxsize=8)
def codebook_at(rules_dir: str) -> CodeBook:
    return load_codebook(Path(rules_dir) / "codes.yaml")
