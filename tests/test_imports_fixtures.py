"""Imports against the shared synthetic fixtures (skipped only where ../shared is absent)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import time
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.helpers_imports import AT, RULES, codebook, make_db
from worker.db.models import (
    CalendarPeriod,
    LessonMark,
    MarkChange,
    Pupil,
    RejectedRow,
    School,
    SessionMark,
    TimetableSlot,
)
from worker.db.session import make_engine, session_factory
from worker.imports import data_gaps, import_paths

pytestmark = pytest.mark.fixtures

OLD = "roll_call_2026-09-03_2026-11-20.csv"
NEW = "roll_call_2026-11-16_2026-12-02.csv"
LESSONS = "lessons_2026-11-23_2026-11-27.csv"


def export_keys(path) -> dict:
    """(pupil_ref, date, session) -> mark, read with plain csv (an independent reading)."""
    text = path.read_bytes().decode("utf-8-sig")
    out = {}
    for row in csv.DictReader(io.StringIO(text, newline="")):
        d, m, y = row["Date"].split("/")
        out[(row["Arbor Student ID"], date(int(y), int(m), int(d)), row["Roll Call"])] = row["Mark"]
    return out


def n(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture(scope="module")
def loaded_template(tmp_path_factory):
    """Roster (in shell-glob order), calendar and both roll-call exports, imported once per module."""
    from tests.conftest import shared_path

    shared = shared_path()
    if shared is None:
        pytest.skip("../shared is not here (it only exists in CI)")
    fixtures_dir = shared / "fixtures"
    folder = tmp_path_factory.mktemp("imports_template")
    db = make_db(folder)
    roster = sorted((fixtures_dir / "roster").glob("*.csv"))
    exports = sorted((fixtures_dir / "arbor").glob("roll_call_*.csv"))
    started = time.perf_counter()
    results = import_paths([*roster, fixtures_dir / "calendar.yaml", *exports], db, codebook(), RULES, AT)
    elapsed = time.perf_counter() - started
    db.kw["bind"].dispose()  # closes the connections, so the WAL is checkpointed into test.db
    return folder / "test.db", {r.label: r for r in results}, elapsed


@pytest.fixture
def loaded(loaded_template, tmp_path):
    """A private copy of the loaded database, so a test may import more into it."""
    template, results, elapsed = loaded_template
    shutil.copyfile(template, tmp_path / "test.db")
    db = session_factory(make_engine(f"sqlite:///{tmp_path / 'test.db'}"))
    assert all(r.ok for r in results.values()), [r.summary() for r in results.values()]
    assert [r.rejected for r in results.values()] == [0] * len(results)
    return db, results, elapsed


def test_fixture_roster_and_exports_import_cleanly(loaded, fixtures_dir):
    db, results, elapsed = loaded
    old, new = export_keys(fixtures_dir / "arbor" / OLD), export_keys(fixtures_dir / "arbor" / NEW)
    assert (len(old), len(new)) == (2235, 560)
    overlap = old.keys() & new.keys()
    expected = {**old, **new}
    with db() as s:
        assert (n(s, Pupil), n(s, School), n(s, TimetableSlot)) == (40, 8, 410)
        assert n(s, CalendarPeriod) == 3
        stored = {(m.pupil_ref, m.date, m.session): m.mark for m in s.scalars(select(SessionMark))}
    assert len(stored) == 2235 + 560 - len(overlap)
    assert stored == expected
    assert results[OLD].new == 2235
    changed = sum(1 for k in overlap if old[k] != new[k])
    assert (results[NEW].new, results[NEW].changed) == (560 - len(overlap), changed)
    # performance: the whole load (roster + 2795 marks) on SQLite
    assert results[OLD].seconds < 3.0, results[OLD].summary()
    assert elapsed < 10.0


def test_s7_changes_are_in_the_mark_history(loaded):
    db, results, _ = loaded
    with db() as s:
        rows = s.scalars(
            select(MarkChange).where(MarkChange.pupil_ref == "42137", MarkChange.old_mark.is_not(None))
            .order_by(MarkChange.date, MarkChange.session)
        ).all()
        got = [(c.date, c.session, c.old_mark, c.new_mark, c.import_id) for c in rows]
        assert got == [
            (date(2026, 11, 18), "AM", "N", "I", results[NEW].import_id),
            (date(2026, 11, 19), "PM", "N", "M", results[NEW].import_id),
        ]
        assert rows[0].new_note
        late = s.scalars(select(MarkChange).where(MarkChange.pupil_ref == "63934",
                                                  MarkChange.old_mark == "/")).one()
        assert (late.new_mark, late.new_minutes_late) == ("L", 10)


def test_reimport_is_a_noop(loaded, fixtures_dir):
    db, _, _ = loaded
    with db() as s:
        before = (n(s, SessionMark), n(s, MarkChange), n(s, Pupil), n(s, TimetableSlot))
    again = import_paths(sorted((fixtures_dir / "arbor").glob("roll_call_*.csv")) + sorted(
        (fixtures_dir / "roster").glob("*.csv")), db, codebook(), RULES, AT)
    assert [(r.new, r.changed) for r in again] == [(0, 0)] * len(again)
    with db() as s:
        assert (n(s, SessionMark), n(s, MarkChange), n(s, Pupil), n(s, TimetableSlot)) == before


def test_bad_rows_give_exactly_the_expected_defects(loaded, fixtures_dir):
    db, _, _ = loaded
    expected = json.loads((fixtures_dir / "expected" / "bad_rows.json").read_text(encoding="utf-8"))
    with db() as s:
        before = {(m.pupil_ref, m.date, m.session): m.mark for m in s.scalars(select(SessionMark))}
        changes_before = n(s, MarkChange)
    (result,) = import_paths([fixtures_dir / "arbor" / "bad_rows.csv"], db, codebook(), RULES, AT)
    assert result.ok
    got = [(d.line, d.defect, d.field, d.value) for d in result.defects if d.is_error]
    want = [(r["line"], r["defect"], r["field"], r["value"]) for r in expected["rows"] if r["defect"]]
    assert got == want
    assert len(got) == 8
    assert (result.rows_read, result.imported, result.rejected, result.new + result.changed) == (11, 3, 8, 0)
    for d in result.defects:
        assert d.text().startswith(f"bad_rows.csv:{d.line}: ")
    assert result.defects[0].text() == (
        "bad_rows.csv:3: Mark: unknown_code: 'ZZ' is not a national attendance code "
        "(pupil 28231, 2026-11-18 AM); row kept for review")
    with db() as s:
        after = {(m.pupil_ref, m.date, m.session): m.mark for m in s.scalars(select(SessionMark))}
        assert after == before and n(s, MarkChange) == changes_before
        for row in expected["rows"]:
            if "mark_that_must_stay" in row:
                key = (row["pupil_ref"], date.fromisoformat(row["date"]), row["session"])
                assert after[key] == row["mark_that_must_stay"]
        stored = {r.line: r for r in s.scalars(select(RejectedRow))}
        assert sorted(stored) == [r["line"] for r in expected["rows"] if r["defect"]]
        assert "\\x92" in stored[12].raw
        pupils = {p.pupil_ref: p for p in s.scalars(select(Pupil))}
    for d in result.defects:  # never a pupil's name in a printed line
        for p in pupils.values():
            assert p.surname not in d.text()


def test_lessons_file_stores_every_row_and_notes_the_lunch_club(loaded, fixtures_dir):
    db, _, _ = loaded
    path = fixtures_dir / "arbor" / LESSONS
    (result,) = import_paths([path], db, codebook(), RULES, AT)
    assert (result.kind, result.rows_read, result.imported, result.rejected, result.new) == (
        "lessons", 427, 427, 0, 427)
    notes = [d for d in result.defects if not d.is_error]
    expected = json.loads((fixtures_dir / "expected" / "certificates.json").read_text(encoding="utf-8"))
    ignored = expected.get("lessons_ignored") or []
    assert len(notes) == len(ignored) == 1
    assert notes[0].defect == "outside_windows" and "39782" in notes[0].reason
    with db() as s:
        assert n(s, LessonMark) == 427
        lunch = s.scalars(select(LessonMark).where(LessonMark.start == "12:15")).one()
        assert (lunch.pupil_ref, lunch.end, lunch.mark) == ("39782", "12:40", "/")


def test_fixture_data_gaps(loaded):
    db, _, _ = loaded
    with db() as s:
        gaps = data_gaps(s)
    assert [(g.kind, g.subject) for g in gaps] == [("school_no_dsl", "school 107356")]
    assert "Cragwell Community College" in gaps[0].message


def test_fixture_inputs_are_the_ones_the_expectations_were_computed_from(fixtures_dir):
    """certificates.json records the SHA-256 of its inputs: a regenerated fixture must not slip by."""
    expected = json.loads((fixtures_dir / "expected" / "certificates.json").read_text(encoding="utf-8"))
    inputs = expected["inputs"]
    assert "arbor/bad_rows.csv" in inputs
    for rel, digest in inputs.items():
        actual = hashlib.sha256((fixtures_dir / rel).read_bytes()).hexdigest()
        assert digest.removeprefix("sha256:") == actual, rel
