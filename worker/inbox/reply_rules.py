"""The reply-reading rules (rules/classify.yaml, rules/replies_*.yaml), loaded and compiled once.

The Service changes these tables, not the code: phrase lists, quote-header words per language,
machine-mail headers. A bad entry is a RulesError naming the file, the entry and the regex error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from worker.errors import RulesError

FLAGS = re.IGNORECASE | re.UNICODE
# "x.x." in a pattern stands for pupil initials: "J.T.", "J. T.", "A.B.C."
INITIALS = r"[a-z]\.\s?[a-z]\.(?:\s?[a-z]\.)?"


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]
    negatable: bool = True
    weak: bool = False  # evidence that yields to a stronger kind (see classify.read_reply)


@dataclass(frozen=True)
class KindRule:
    name: str
    patterns: tuple[Pattern, ...]
    future_blocks: bool


@dataclass(frozen=True)
class QuoteRules:
    header_fields: dict[str, tuple[str, ...]]
    header_line: re.Pattern[str]  # any field: group "field"
    block_window: int
    block_min_fields: int
    separators: tuple[re.Pattern[str], ...]
    forward_separators: tuple[re.Pattern[str], ...]
    attribution_opener: re.Pattern[str]
    attribution_end: re.Pattern[str]
    reply_prefixes: tuple[str, ...]
    forward_prefixes: tuple[str, ...]
    signoff: re.Pattern[str]
    footer: re.Pattern[str]
    disclaimer: re.Pattern[str]
    max_signature_lines: int
    max_signature_line_length: int

    def field_of(self, line: str) -> str | None:
        """Which header field ('from', 'sent', ...) a line such as 'Sent: Friday...' starts with."""
        match = self.header_line.match(line)
        if not match:
            return None
        word = match.group("field").strip().lower()
        for role, names in self.header_fields.items():
            if word in names:
                return role
        return None


@dataclass(frozen=True)
class MachineRules:
    headers: tuple[dict[str, Any], ...]
    not_evidence: tuple[str, ...]
    auto_subjects: re.Pattern[str]
    bounce_senders: re.Pattern[str]
    bounce_subjects: re.Pattern[str]
    ndr_recipient_lines: tuple[re.Pattern[str], ...]
    notice_report_types: tuple[str, ...]


@dataclass(frozen=True)
class ClassifyRules:
    negation_cues: tuple[str, ...]
    window_words: int
    clause_breaks: re.Pattern[str]
    negated_after: re.Pattern[str]
    future_cues: tuple[str, ...]
    service_names: re.Pattern[str]
    kinds: tuple[KindRule, ...]
    outcomes: tuple[tuple[str, tuple[Pattern, ...]], ...]
    risk: tuple[tuple[str, re.Pattern[str]], ...]
    action: tuple[tuple[str, tuple[Pattern, ...]], ...]
    confidence: dict[str, float]
    next_steps: tuple[Pattern, ...]
    child_seen: tuple[Pattern, ...] = ()
    parent_only: tuple[Pattern, ...] = ()
    check_date_hints: tuple[Pattern, ...] = ()
    not_check_date: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReplyRules:
    quotes: QuoteRules
    machine: MachineRules
    classify: ClassifyRules


# --- compiling ---------------------------------------------------------------------------------


def _compile(text: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(str(text).replace(r"x\.x\.", INITIALS), FLAGS)
    except re.error as exc:
        raise RulesError(f"{where}: bad pattern {text!r}: {exc}") from exc


def _any_of(items: list[str], where: str) -> re.Pattern[str]:
    return _compile("|".join(f"(?:{item})" for item in items) or r"(?!x)x", where)


def _words(items: list[str]) -> str:
    return "|".join(re.escape(str(item)) for item in sorted(items, key=len, reverse=True))


def _patterns(entries: list[Any], where: str) -> tuple[Pattern, ...]:
    out = []
    for i, entry in enumerate(entries or []):
        if isinstance(entry, dict):
            if "pattern" not in entry:
                raise RulesError(f"{where}[{i}]: an entry needs 'pattern'")
            out.append(
                Pattern(
                    _compile(entry["pattern"], f"{where}[{i}]"),
                    bool(entry.get("negatable", True)),
                    bool(entry.get("weak", False)),
                )
            )
        else:
            out.append(Pattern(_compile(entry, f"{where}[{i}]")))
    return tuple(out)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RulesError(f"{path}: missing rules file") from exc
    except yaml.YAMLError as exc:
        raise RulesError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RulesError(f"{path}: must be a mapping")
    return data


def _quote_rules(data: dict[str, Any], where: str) -> QuoteRules:
    try:
        fields = {role: tuple(str(n).lower() for n in names) for role, names in data["header_fields"].items()}
        all_names = [name for names in data["header_fields"].values() for name in names]
        header_line = _compile(rf"^\s*[*]?(?P<field>{_words(all_names)})[*]?\s*:[*]?(\s|$)", f"{where}: header_fields")
        openers = _words(data["attribution_openers"])
        verbs = "|".join(data["attribution_verbs"])
        sig = data["signature"]
        return QuoteRules(
            header_fields=fields,
            header_line=header_line,
            block_window=int(data.get("header_block_window", 8)),
            block_min_fields=int(data.get("header_block_min_fields", 2)),
            separators=tuple(_compile(rf"^\s*(?:{s})\s*$", f"{where}: separators") for s in data["separators"]),
            forward_separators=tuple(_compile(rf"^\s*(?:{s})\s*$", f"{where}: forward_separators") for s in data["forward_separators"]),
            attribution_opener=_compile(rf"^\s*-*\s*(?:{openers})\b", f"{where}: attribution_openers"),
            # '@' is not in the address class: from each '@' of a long run of them the class
            # would run to the run's end and back (n^2 on a line of '@').
            attribution_end=_compile(
                rf"(?:\b(?:{verbs})\s*:?|@[^\s<>@]+\s*>?\s*:)\s*-*\s*$", f"{where}: attribution_verbs"
            ),
            reply_prefixes=tuple(str(p).lower() for p in data["reply_subject_prefixes"]),
            forward_prefixes=tuple(str(p).lower() for p in data["forward_subject_prefixes"]),
            signoff=_compile(rf"^\s*(?:{'|'.join(sig['signoffs'])})\s*[,.!]*\s*$", f"{where}: signoffs"),
            footer=_compile(rf"^\s*(?:{'|'.join(sig['footers'])})", f"{where}: footers"),
            disclaimer=_any_of(sig["disclaimers"], f"{where}: disclaimers"),
            max_signature_lines=int(sig.get("max_signature_lines", 14)),
            max_signature_line_length=int(sig.get("max_signature_line_length", 90)),
        )
    except KeyError as exc:
        raise RulesError(f"{where}: missing {exc}") from exc


def _machine_rules(data: dict[str, Any], where: str) -> MachineRules:
    try:
        headers = []
        for i, entry in enumerate(data["auto_reply_headers"]):
            if not isinstance(entry, dict) or "header" not in entry:
                raise RulesError(f"{where}: auto_reply_headers[{i}] needs 'header'")
            headers.append(entry)
        return MachineRules(
            headers=tuple(headers),
            not_evidence=tuple(str(h).lower() for h in data.get("not_evidence", [])),
            auto_subjects=_compile(rf"^\s*(?:\[[^\]]*\]\s*)?(?:{'|'.join(data['auto_reply_subjects'])})", f"{where}: auto_reply_subjects"),
            bounce_senders=_any_of(data["bounce_senders"], f"{where}: bounce_senders"),
            bounce_subjects=_any_of(data["bounce_subjects"], f"{where}: bounce_subjects"),
            ndr_recipient_lines=tuple(_compile(p, f"{where}: ndr_recipient_lines") for p in data["ndr_recipient_lines"]),
            notice_report_types=tuple(str(t).lower() for t in data.get("notice_report_types", [])),
        )
    except KeyError as exc:
        raise RulesError(f"{where}: missing {exc}") from exc


MACRO = re.compile(r"%([a-z_]+)%")


def _expand(value: Any, macros: dict[str, str], where: str) -> Any:
    """Write `%name%` in a pattern for a shared piece (rules/classify.yaml `macros`), so one
    list of agents or verbs serves every pattern that needs it."""
    if isinstance(value, dict):
        return {k: _expand(v, macros, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, macros, f"{where}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value
    for _ in range(5):  # macros may use macros
        if not MACRO.search(value):
            return value
        unknown = [m for m in MACRO.findall(value) if m not in macros]
        if unknown:
            raise RulesError(f"{where}: unknown macro %{unknown[0]}%")
        value = MACRO.sub(lambda m: f"(?:{macros[m.group(1)]})", value)
    raise RulesError(f"{where}: macros nested too deep")


def _classify_rules(data: dict[str, Any], where: str) -> ClassifyRules:
    macros = {str(k): str(v) for k, v in (data.get("macros") or {}).items()}
    data = _expand({k: v for k, v in data.items() if k != "macros"}, macros, where)
    try:
        neg = data["negation"]
        kinds = []
        for name, spec in data["kinds"].items():
            kinds.append(
                KindRule(
                    name=name,
                    patterns=_patterns(spec["patterns"], f"{where}: kinds.{name}"),
                    future_blocks=spec.get("blocked_by") == "future",
                )
            )
        return ClassifyRules(
            negation_cues=tuple(str(c).lower() for c in neg["cues"]),
            window_words=int(neg.get("window_words", 6)),
            clause_breaks=_compile(neg["clause_breaks"], f"{where}: negation.clause_breaks"),
            negated_after=_compile(neg.get("after", r"(?!x)x"), f"{where}: negation.after"),
            future_cues=tuple(str(c).lower() for c in data.get("future_cues", [])),
            service_names=_any_of(data.get("service_names", []), f"{where}: service_names"),
            kinds=tuple(kinds),
            outcomes=tuple((name, _patterns(items, f"{where}: outcomes.{name}")) for name, items in data["outcomes"].items()),
            risk=tuple((name, _compile(p, f"{where}: risk.{name}")) for name, p in data["risk"].items()),
            action=tuple((name, _patterns(items, f"{where}: action.{name}")) for name, items in data["action"].items()),
            confidence={k: float(v) for k, v in data["confidence"].items()},
            next_steps=_patterns(data.get("next_steps", []), f"{where}: next_steps"),
            child_seen=_patterns(data.get("child_seen", []), f"{where}: child_seen"),
            parent_only=_patterns(data.get("parent_only", []), f"{where}: parent_only"),
            check_date_hints=_patterns(data.get("check_date_hints", []), f"{where}: check_date_hints"),
            not_check_date=tuple(str(c).lower() for c in data.get("not_check_date", [])),
        )
    except KeyError as exc:
        raise RulesError(f"{where}: missing {exc}") from exc


@lru_cache(maxsize=8)
def load_reply_rules(rules_dir: str | Path) -> ReplyRules:
    """Read and compile the three rules files under `rules_dir` (cached per folder)."""
    folder = Path(rules_dir)
    files = {
        "quotes": folder / "replies_quotes.yaml",
        "machine": folder / "replies_machine.yaml",
        "classify": folder / "classify.yaml",
    }
    return ReplyRules(
        quotes=_quote_rules(_read(files["quotes"]), str(files["quotes"])),
        machine=_machine_rules(_read(files["machine"]), str(files["machine"])),
        classify=_classify_rules(_read(files["classify"]), str(files["classify"])),
    )


def default_rules() -> ReplyRules:
    """The rules shipped beside the package (for tests and the CLI without an instance)."""
    from worker.config import REPO_ROOT

    return load_reply_rules(str(REPO_ROOT / "rules"))
