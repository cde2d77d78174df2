"""What changed between two versions of a certificate, and whether the Main School must be told.

Arbor registers never close, so a certified week can change. Only a change to what the school
records or reads (code, pending flag, reason) earns an AMENDED certificate; a change of the
Service's own mark alone (/ -> L, both K) is kept in the history and reported, not re-sent.
"""

from __future__ import annotations

from typing import Any

from worker.attendance.world import SESSIONS
from worker.certificates.content import school_view

NO_MARK = "-"


def _show(value: object) -> str:
    return NO_MARK if value is None else str(value)


def _describe(day: str, session: str, old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """One line per changed session, naming the most telling change."""
    prefix = f"{day} {session}: "
    if old.get("service_mark") != new.get("service_mark"):
        return prefix + f"{_show(old.get('service_mark'))} -> {_show(new.get('service_mark'))}"
    for field, label in (
        ("main_school_code", "code"),
        ("place", "place"),
        ("minutes_late", "minutes late"),
        ("pending", "pending"),
    ):
        if old.get(field) != new.get(field):
            return prefix + f"{label} {_show(old.get(field))} -> {_show(new.get(field))}"
    if old.get("reason") != new.get("reason"):
        return prefix + "reason changed"
    if old != new:
        return prefix + "changed"
    return None


def diff(old: dict[str, Any], new: dict[str, Any]) -> tuple[list[str], bool]:
    """(changes like '2026-11-18 AM: N -> O', school_record_changed)."""
    changes: list[str] = []
    old_days = {d["date"]: d for d in old.get("days", [])}
    new_days = {d["date"]: d for d in new.get("days", [])}
    for day in sorted(set(old_days) | set(new_days)):
        before, after = old_days.get(day, {}), new_days.get(day, {})
        if before.get("service_open") != after.get("service_open"):
            changes.append(f"{day}: Service {'open' if after.get('service_open') else 'closed'}")
        for session in SESSIONS:
            line = _describe(day, session, before.get(session) or {}, after.get(session) or {})
            if line is not None:
                changes.append(line)
    school_changed = school_view(old) != school_view(new)
    return changes, school_changed
