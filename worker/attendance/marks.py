"""A session's mark: the roll-call mark, else the best (or first) of its lessons' marks.

Arbor lets a session hold several lesson marks; the procedure says the 'best' mark of the
morning or afternoon goes on the certificate. Which lessons belong to a session is decided
by their START time against the windows in rules/sessions.yaml.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from worker.attendance.codes import CodeBook
from worker.attendance.world import SESSIONS, LessonRecord, Mark, PupilMarks
from worker.errors import RulesError
from worker.rules_file import read_rules_yaml

RULES = ("best", "first")


@dataclass(frozen=True)
class Window:
    """[start, end): a lesson whose start lies here belongs to `session`."""

    session: str
    start: time
    end: time

    def contains(self, moment: time) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class SessionRules:
    windows: dict[str, Window]
    mark_rule: str = "best"


def _clock(text: object, where: str) -> time:
    try:
        return datetime.strptime(str(text).strip(), "%H:%M").time()
    except ValueError as exc:
        raise RulesError(f"{where}: {text!r} is not a time HH:MM") from exc


def load_session_rules(rules_dir: Path) -> SessionRules:
    """rules/sessions.yaml -> windows and the mark rule."""
    path = Path(rules_dir) / "sessions.yaml"
    data = read_rules_yaml(path)
    windows: dict[str, Window] = {}
    for session, spec in (data.get("windows") or {}).items():
        if session not in SESSIONS:
            raise RulesError(f"{path}: unknown session {session!r} under windows")
        start = _clock(spec.get("start"), f"{path}: windows.{session}.start")
        end = _clock(spec.get("end"), f"{path}: windows.{session}.end")
        if not start < end:
            raise RulesError(f"{path}: windows.{session} ends before it starts")
        windows[session] = Window(session, start, end)
    rule = str(data.get("mark_rule", "best"))
    if rule not in RULES:
        raise RulesError(f"{path}: mark_rule must be one of {RULES}, not {rule!r}")
    return SessionRules(windows=windows, mark_rule=rule)


def _lesson_order(lesson: LessonRecord) -> tuple:
    return (lesson.start, lesson.end, lesson.register, lesson.mark.code)


def best_lesson(
    lessons: Iterable[LessonRecord], codebook: CodeBook, rule: str = "best"
) -> LessonRecord | None:
    """The lesson whose mark stands for the session; ties go to the earlier lesson.

    The full sort key makes the result independent of the order lessons arrive in.
    """
    items = list(lessons)
    if not items:
        return None
    if rule == "first":
        return min(items, key=_lesson_order)
    if rule != "best":
        raise ValueError(f"unknown mark rule {rule!r}")
    return min(items, key=lambda ls: (codebook.rank(ls.mark.code), _lesson_order(ls)))


def lessons_in(window: Window, lessons: Iterable[LessonRecord]) -> list[LessonRecord]:
    return [lesson for lesson in lessons if window.contains(lesson.start)]


def session_mark(
    roll_call: Mark | None,
    lessons: Iterable[LessonRecord],
    window: Window,
    codebook: CodeBook,
    rule: str = "best",
) -> Mark | None:
    """The roll-call mark if there is one, else the mark of the best/first lesson starting in `window`."""
    if roll_call is not None:
        return roll_call
    chosen = best_lesson(lessons_in(window, lessons), codebook, rule)
    if chosen is None:
        return None
    return Mark(
        code=codebook.normalise(chosen.mark.code),
        minutes_late=chosen.mark.minutes_late,
        note=chosen.mark.note,
        source="lesson",
    )


def outside_windows(
    lessons: Iterable[LessonRecord], windows: Mapping[str, Window]
) -> list[LessonRecord]:
    """Lessons that start in no window: they belong to no session and are ignored."""
    return [ls for ls in lessons if not any(w.contains(ls.start) for w in windows.values())]


def day_marks(
    marks: PupilMarks, day: date, rules: SessionRules, codebook: CodeBook
) -> dict[str, Mark | None]:
    """The mark of each session (AM, PM) of one pupil's day."""
    lessons = marks.lessons.get(day, ())
    result: dict[str, Mark | None] = {}
    for session in SESSIONS:
        window = rules.windows.get(session)
        roll_call = marks.roll_calls.get((day, session))
        if window is None:
            result[session] = roll_call
        else:
            result[session] = session_mark(roll_call, lessons, window, codebook, rules.mark_rule)
    return result


def all_session_marks(
    marks: PupilMarks, rules: SessionRules, codebook: CodeBook
) -> dict[tuple[date, str], Mark]:
    """Every session mark of a pupil (roll call, or derived from lessons), by (date, session)."""
    result: dict[tuple[date, str], Mark] = {}
    for day in sorted(marks.dates()):
        for session, mark in day_marks(marks, day, rules, codebook).items():
            if mark is not None:
                result[(day, session)] = mark
    return result


def seen_days(marks: PupilMarks, rules: SessionRules, codebook: CodeBook) -> set[date]:
    """Days with a session mark that means the Service saw the pupil (/ \\ L)."""
    return {
        day
        for (day, _session), mark in all_session_marks(marks, rules, codebook).items()
        if codebook.is_seen(mark.code)
    }
