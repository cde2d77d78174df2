"""The synthetic fixtures imported into a temp SQLite instance give exactly expected/*.json.

Every certificate (field by field), every amendment, every due day, the ignored lessons and
every pupil's not-seen standing. Skips only when ../shared is absent (a user's machine).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from worker.app import App
from worker.attendance.calendar import monday_of
from worker.attendance.marks import day_marks, outside_windows
from worker.attendance.views import (
    cases_from_world,
    cases_json,
    certificate_from_world,
    certificate_json,
)
from worker.attendance.world import World
from worker.certificates.diff import diff
from worker.cli import main
from worker.db.queries_attendance import load_world
from worker.imports import import_paths

pytestmark = pytest.mark.fixtures

OLDER = "arbor/roll_call_2026-09-03_2026-11-20.csv"
NEWER = "arbor/roll_call_2026-11-16_2026-12-02.csv"
LESSONS = "arbor/lessons_2026-11-23_2026-11-27.csv"
BAD = "arbor/bad_rows.csv"
ROSTER = [
    "roster/schools.csv",
    "roster/staff.csv",
    "roster/pupils.csv",
    "roster/timetables.csv",
    "calendar.yaml",
]
# Both roll-call exports in file-name order (the newer wins), then lessons and the broken rows.
FULL = [*ROSTER, *sorted([NEWER, OLDER]), LESSONS, BAD]
OLDER_ONLY = [*ROSTER, OLDER]
IMPORTED_AT = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
AS_OF = date(2026, 12, 2)
LAST_OLDER_WEEK = date(2026, 11, 16)
META = {"id", "scenarios", "why", "source", "amended", "before_amendment"}

_instances: dict[tuple[Path, str], App] = {}


def _instance(fixtures: Path, name: str, files: list[str], factory) -> App:
    """Import `files` into a fresh instance once per test run."""
    key = (fixtures, name)
    if key not in _instances:
        home = factory.mktemp(name)
        app = App.from_home(home)
        results = import_paths(
            [fixtures / f for f in files], app.sessions, app.codebook, app.rules_dir, IMPORTED_AT
        )
        assert [r.error for r in results if not r.ok] == []
        _instances[key] = app
    return _instances[key]


@pytest.fixture
def full(fixtures_dir: Path, tmp_path_factory) -> App:
    return _instance(fixtures_dir, "full", FULL, tmp_path_factory)


@pytest.fixture
def older(fixtures_dir: Path, tmp_path_factory) -> App:
    return _instance(fixtures_dir, "older", OLDER_ONLY, tmp_path_factory)


def expected(fixtures_dir: Path, name: str) -> dict[str, Any]:
    return json.loads((fixtures_dir / "expected" / name).read_text(encoding="utf-8"))


def world(app: App, **kw) -> World:
    with app.sessions() as session:
        return load_world(session, **kw)


def mismatches(got: Any, want: Any, where: str) -> list[str]:
    """Field-by-field differences, each naming the path, so a failure says exactly what."""
    if isinstance(want, dict) and isinstance(got, dict):
        out = [f"{where}.{k}: unexpected field" for k in got if k not in want]
        for key, value in want.items():
            if key not in got:
                out.append(f"{where}.{key}: missing")
            else:
                out += mismatches(got[key], value, f"{where}.{key}")
        return out
    if isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        return [
            m
            for i, (g, w) in enumerate(zip(got, want, strict=True))
            for m in mismatches(g, w, f"{where}[{i}]")
        ]
    if got != want or type(got) is not type(want):
        return [f"{where}: got {got!r}, expected {want!r}"]
    return []


def certificate(app: App, w: World, ref: str, week: date) -> dict[str, Any]:
    return certificate_from_world(w, ref, week, app.codebook, app.session_rules, app.code_rules)


# --- the tests ---------------------------------------------------------------------------------------


def test_fixture_files_are_the_ones_the_expectations_were_computed_from(fixtures_dir):
    for name in ("certificates.json", "cases.json"):
        for path, digest in expected(fixtures_dir, name)["inputs"].items():
            actual = hashlib.sha256((fixtures_dir / path).read_bytes()).hexdigest()
            assert f"sha256:{actual}" == digest, f"{path} changed since {name} was computed"


def test_every_expected_certificate_field_by_field(full, fixtures_dir):
    certificates = expected(fixtures_dir, "certificates.json")["certificates"]
    assert len(certificates) == 6
    problems = []
    with full.sessions() as session:
        for entry in certificates:
            want = {k: v for k, v in entry.items() if k not in META}
            got = certificate_json(
                session,
                full.codebook,
                full.rules_dir,
                entry["pupil"]["pupil_ref"],
                date.fromisoformat(entry["week_start"]),
            )
            problems += mismatches(got, want, entry["id"])
    assert problems == []


def test_before_amendment_is_the_content_of_the_older_export_alone(older, fixtures_dir):
    w = world(older)
    amended = [
        c for c in expected(fixtures_dir, "certificates.json")["certificates"] if c["amended"]
    ]
    assert amended, "the fixtures promise amended certificates"
    problems = []
    for entry in amended:
        got = certificate(
            older, w, entry["pupil"]["pupil_ref"], date.fromisoformat(entry["week_start"])
        )
        want = {k: v for k, v in entry["before_amendment"].items() if k != "source"}
        problems += mismatches({k: got[k] for k in want}, want, entry["id"] + " before")
    assert problems == []


def test_amended_certificates_are_exactly_the_weeks_that_changed(full, older, fixtures_dir):
    """Every pupil-week of the older export, diffed against the final content."""
    new_world, old_world = world(full), world(older)
    found = []
    for ref in sorted(new_world.pupils):
        week = monday_of(date(2026, 9, 3))
        while week <= LAST_OLDER_WEEK:
            old = certificate(older, old_world, ref, week)
            new = certificate(full, new_world, ref, week)
            changes, school_changed = diff(old, new)
            if changes:
                found.append(
                    {
                        "pupil_ref": ref,
                        "week_start": week.isoformat(),
                        "certificate_due": new["certificate_due"],
                        "changes": changes,
                        "school_record_changed": school_changed,
                    }
                )
            week += timedelta(days=7)
    want = expected(fixtures_dir, "certificates.json")["amended_certificates"]
    key = lambda e: (e["pupil_ref"], e["week_start"])  # noqa: E731
    assert sorted(found, key=key) == sorted(want, key=key)


def test_certificate_due_by_week_and_school(full, fixtures_dir):
    w = world(full)
    table = expected(fixtures_dir, "certificates.json")["certificate_due_by_week_and_school"]
    assert set(table) and {urn for row in table.values() for urn in row} == set(w.schools)
    got = {
        week: {
            urn: (lambda due: due.isoformat() if due else None)(
                w.calendar.certificate_due(date.fromisoformat(week), w.schools[urn].certificate_day)
            )
            for urn in row
        }
        for week, row in table.items()
    }
    assert got == table


def test_lessons_outside_both_windows_are_ignored(full, fixtures_dir):
    w = world(full, roll_calls=False)
    ignored = [
        {
            "pupil_ref": ref,
            "date": day.isoformat(),
            "start": lesson.start.strftime("%H:%M"),
            "register": lesson.register,
            "mark": lesson.mark.code,
        }
        for ref, marks in sorted(w.marks.items())
        for day, lessons in sorted(marks.lessons.items())
        for lesson in outside_windows(lessons, full.session_rules.windows)
    ]
    want = expected(fixtures_dir, "certificates.json")["lessons_ignored"]
    assert ignored == [{k: v for k, v in e.items() if k != "why"} for e in want]


def test_lessons_alone_give_the_roll_call_marks_of_23_to_27_november(full, fixtures_dir):
    rolls, lessons = world(full, lessons=False), world(full, roll_calls=False)
    compared = 0
    for ref in sorted(rolls.pupils):
        for offset in range(5):
            day = date(2026, 11, 23) + timedelta(days=offset)
            a = day_marks(rolls.marks_of(ref), day, full.session_rules, full.codebook)
            b = day_marks(lessons.marks_of(ref), day, full.session_rules, full.codebook)
            for session in ("AM", "PM"):
                x, y = a[session], b[session]
                assert (x is None) == (y is None), (ref, day, session)
                if x is not None:
                    assert (y.source, x.source) == ("lesson", "roll_call")
                    assert (y.code, y.minutes_late, y.note) == (x.code, x.minutes_late, x.note), (
                        ref,
                        day,
                        session,
                    )
                    compared += 1
    assert compared > 150
    # And the S11/S12 certificate built from lessons alone is the expected one.
    entry = next(
        c
        for c in expected(fixtures_dir, "certificates.json")["certificates"]
        if c["pupil"]["pupil_ref"] == "27553"
    )
    got = certificate(full, lessons, "27553", date(2026, 11, 23))
    assert mismatches(got, {k: v for k, v in entry.items() if k not in META}, "27553 lessons") == []


def test_cases_for_every_pupil(full, fixtures_dir):
    want = {p["pupil_ref"]: p for p in expected(fixtures_dir, "cases.json")["pupils"]}
    with full.sessions() as session:
        got = {p["pupil_ref"]: p for p in cases_json(session, full.codebook, full.rules_dir, AS_OF)}
    assert set(got) == set(want)
    problems = []
    for ref, view in got.items():
        problems += mismatches(view, {k: v for k, v in want[ref].items() if k != "scenarios"}, ref)
    assert problems == []
    assert sorted(r for r, v in got.items() if v["case_exists"]) == ["45424", "71063"]


def test_cases_as_of_an_earlier_day_ignore_later_marks(full, older):
    """A replay with future data in the database gives the answer of that day."""
    with full.sessions() as session:
        day_before = {
            p["pupil_ref"]: p
            for p in cases_json(session, full.codebook, full.rules_dir, date(2026, 11, 24))
        }
        on_the_day = {
            p["pupil_ref"]: p
            for p in cases_json(session, full.codebook, full.rules_dir, date(2026, 11, 25))
        }
    assert day_before["71063"]["school_days_not_seen_at_end"] == 4
    assert day_before["71063"]["episodes"] == []
    assert day_before["71063"]["not_seen_email_due_if_still_not_seen"] == "2026-11-26"
    assert on_the_day["71063"]["episodes"][0]["threshold_reached_on"] == "2026-11-25"
    # Up to 20 Nov, both databases hold the same seen marks: the views agree.
    at = date(2026, 11, 20)
    assert cases_from_world(world(full), full.codebook, full.rules_dir, at) == cases_from_world(
        world(older), older.codebook, older.rules_dir, at
    )


def test_certificate_command_prints_the_json(full, fixtures_dir, capsys):
    entry = expected(fixtures_dir, "certificates.json")["certificates"][0]
    home = full.settings.home
    with pytest.raises(SystemExit) as done:
        main(
            [
                "--home",
                str(home),
                "certificate",
                "--pupil",
                entry["pupil"]["pupil_ref"],
                "--week",
                "2026-11-18",
                "--json",
            ]
        )  # a Wednesday: its Monday's week
    assert done.value.code == 0
    printed = json.loads(capsys.readouterr().out)
    assert mismatches(printed, {k: v for k, v in entry.items() if k not in META}, "cli") == []

    with pytest.raises(SystemExit) as done:
        main(["--home", str(home), "certificate", "--pupil", "00000", "--week", "2026-11-16"])
    assert done.value.code == 1
    assert "no pupil with reference '00000'" in capsys.readouterr().err
