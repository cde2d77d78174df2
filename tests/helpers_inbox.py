"""Shared helpers for the mail-in tests: classify a file against a case table, compare results."""

from __future__ import annotations

from pathlib import Path

from worker.inbox.classify import Classification, classify_message
from worker.inbox.directory import JsonCaseDirectory
from worker.inbox.parse import ParsedMessage, parse_message
from worker.inbox.reply_rules import default_rules

CONTRACT = ("kind", "case_ref", "check_date", "outcome", "needs_review")


def classify_file(path: Path, cases: Path) -> tuple[ParsedMessage, Classification]:
    parsed = parse_message(path.read_bytes())
    result = classify_message(parsed, JsonCaseDirectory.from_file(cases), default_rules(), secret=b"test-secret")
    return parsed, result


def differences(parsed: ParsedMessage, result: Classification, expected: dict) -> list[str]:
    """What differs from an expected-values file (contract fields, then optional extras)."""
    got = result.to_json()
    out = [f"{key}: got {got[key]!r}, expected {expected[key]!r}" for key in CONTRACT if got[key] != expected[key]]
    if (got["next_steps"] is None) != (expected["next_steps"] is None):
        out.append(f"next_steps: got {got['next_steps']!r}, expected {expected['next_steps']!r}")
    for key in ("failed_recipient", "failed_role", "bounce_permanent", "subject", "message_id"):
        if key in expected and got[key] != expected[key]:
            out.append(f"{key}: got {got[key]!r}, expected {expected[key]!r}")
    if "defects_contain" in expected and not any(expected["defects_contain"] in d for d in parsed.defects):
        out.append(f"defects {parsed.defects!r} lack {expected['defects_contain']!r}")
    for word in expected.get("reply_contains", []):
        if word not in result.reply_text:
            out.append(f"reply text lacks {word!r}")
    for word in expected.get("reply_excludes", []):
        if word.lower() in result.reply_text.lower():
            out.append(f"reply text still holds {word!r} (quote not stripped)")
    return out
