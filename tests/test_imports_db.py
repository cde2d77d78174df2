"""Imports into a temporary SQLite database, with project-held data built in the tests."""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tests.helpers_imports import (
    AT,
    CALENDAR_YAML,
    LESSONS_HEADER,
    P1,
    P2,
    P3,
    ROLL_CALL_HEADER,
    RULES,
    codebook,
    csv_bytes,
    lesson_row,
    make_db,
    roll_row,
    roster_files,
)
from worker.cli import cli
from worker.db.models import (
    CalendarPeriod,
    ImportBatch,
    LessonMark,
    MarkChange,
    Pupil,
    RejectedRow,
    School,
    SessionMark,
    StaffMember,
    TimetableSlot,
)
from worker.imports import data_gaps, import_bytes, import_drop_folder, import_paths


@pytest.fixture
def db(tmp_path):
    return make_db(tmp_path)


def run(db, paths, **kw):
    return import_paths(paths, db, codebook(), RULES, AT, **kw)


def count(db, model) -> int:
    with db() as s:
        return s.scalar(select(func.count()).select_from(model))


def marks(db) -> dict:
    with db() as s:
        return {(m.pupil_ref, m.date, m.session): (m.mark, m.minutes_late, m.note)
                for m in s.scalars(select(SessionMark))}


@pytest.fixture
def roster(db, tmp_path):
    results = run(db, roster_files(tmp_path))
    assert all(r.ok for r in results), [r.summary() for r in results]
    return results


def test_roster_files_load_in_dependency_order_whatever_order_given(db, roster):
    assert [r.kind for r in roster] == ["calendar", "schools", "staff", "pupils", "timetables"]
    assert [r.rejected for r in roster] == [0, 0, 0, 0, 0]
    assert (count(db, School), count(db, StaffMember), count(db, Pupil), count(db, TimetableSlot),
            count(db, CalendarPeriod)) == (2, 3, 3, 20, 3)
    with db() as s:
        birch = s.get(School, "900002")
        assert birch.dsl_emails == "" and birch.domain_list == ["birchwood.example", "birch-trust.example"]
        assert birch.certificate_day == "Thursday" and birch.delivery == "per_pupil"
        p2 = s.get(Pupil, P2[0])
        assert p2.upn is None and p2.registration == "D" and p2.safeguarding_risk is False
        assert s.get(Pupil, P1[0]).safeguarding_risk is True
        assert s.get(Pupil, P3[0]).end_date == date(2026, 11, 13)
        slot = s.scalars(select(TimetableSlot).where(TimetableSlot.weekday == 4,
                                                     TimetableSlot.session == "PM")).first()
        assert slot.place == "main_school"


def test_roster_reimport_changes_nothing_and_an_edit_is_an_update(db, roster, tmp_path):
    again = run(db, roster_files(tmp_path))
    assert [(r.new, r.changed) for r in again] == [(0, 0)] * 5
    edited = tmp_path / "schools.csv"
    edited.write_bytes(edited.read_bytes().replace(b"office@alderbank.example", b"att@alderbank.example"))
    (result,) = run(db, [edited])
    assert (result.new, result.changed) == (0, 1)
    with db() as s:
        assert s.get(School, "900001").attendance_list == ["att@alderbank.example"]


def test_pupils_without_their_school_are_rejected_not_guessed(db, tmp_path):
    roster = {p.name: p for p in roster_files(tmp_path)}
    (result,) = run(db, [roster["pupils.csv"]])
    assert result.ok and result.imported == 0 and result.rejected == 3
    assert {d.defect for d in result.defects} == {"unknown_school"}


def test_upsert_history_and_a_noop_reimport(db, roster, tmp_path):
    old = tmp_path / "roll_call_old.csv"
    new = tmp_path / "roll_call_new.csv"
    old.write_bytes(csv_bytes(ROLL_CALL_HEADER, [
        roll_row(P1, "16/11/2026", "AM", "N"),
        roll_row(P1, "16/11/2026", "PM", "/"),
        roll_row(P2, "16/11/2026", "AM", "/"),
    ], bom=True, crlf=True))
    new.write_bytes(csv_bytes(ROLL_CALL_HEADER, [
        roll_row(P1, "16/11/2026", "AM", "I01", note="Mum called: unwell"),
        roll_row(P1, "16/11/2026", "PM", "L", late="12"),
        roll_row(P2, "16/11/2026", "AM", "/"),
        roll_row(P2, "17/11/2026", "AM", "M"),
    ], bom=True, crlf=True))
    first, second = run(db, [old, new])
    assert (first.new, first.changed) == (3, 0)
    assert (second.new, second.changed, second.imported) == (1, 2, 4)
    assert marks(db)[(P1[0], date(2026, 11, 16), "AM")] == ("I", None, "Mum called: unwell")
    assert marks(db)[(P1[0], date(2026, 11, 16), "PM")] == ("L", 12, None)
    with db() as s:
        history = [(c.old_mark, c.new_mark, c.new_minutes_late, c.import_id)
                   for c in s.scalars(select(MarkChange).where(MarkChange.pupil_ref == P1[0],
                                                               MarkChange.date == date(2026, 11, 16))
                                      .order_by(MarkChange.id))]
        assert history == [(None, "N", None, first.import_id), (None, "/", None, first.import_id),
                           ("N", "I", None, second.import_id), ("/", "L", 12, second.import_id)]
        batch = s.get(ImportBatch, second.import_id)
        assert (batch.kind, batch.source, batch.rows_total, batch.rows_ok, batch.rows_changed) == (
            "roll_call", "cli", 4, 4, 3)
        assert len(batch.sha256) == 64
    before_marks, before_changes = marks(db), count(db, MarkChange)
    (again,) = run(db, [new])
    assert (again.new, again.changed, again.repeat_of) == (0, 0, second.import_id)
    assert marks(db) == before_marks and count(db, MarkChange) == before_changes
    # the older file dropped in again must not undo what the newer one changed
    (stale,) = run(db, [old])
    assert (stale.new, stale.changed, stale.kept, stale.repeat_of) == (0, 0, 2, first.import_id)
    assert f"already imported as #{first.import_id}: nothing overwritten, 2 newer values kept" in stale.summary()
    assert marks(db) == before_marks and count(db, MarkChange) == before_changes


def test_a_repeated_file_fills_rows_rejected_before_the_roster_knew_the_pupil(db, roster, tmp_path):
    newcomer = ("10004", "", "Nia", "Newman")
    export = tmp_path / "export.csv"
    export.write_bytes(csv_bytes(ROLL_CALL_HEADER, [
        roll_row(P1, "16/11/2026", "AM", "/"),
        roll_row(newcomer, "16/11/2026", "AM", "/"),
    ]))
    (first,) = run(db, [export])
    assert (first.imported, first.rejected) == (1, 1)
    pupils = tmp_path / "pupils.csv"
    pupils.write_bytes(pupils.read_bytes() + (
        f"{newcomer[0]},,{newcomer[2]},{newcomer[3]},01/01/2015,900001,tess.tutor@service.example,"
        "no,K,16/11/2026,\n").encode())
    run(db, [pupils])
    (second,) = run(db, [export])
    assert (second.imported, second.rejected, second.new, second.repeat_of) == (2, 0, 1, first.import_id)
    assert (newcomer[0], date(2026, 11, 16), "AM") in marks(db)
    assert count(db, RejectedRow) == 1


def test_bad_rows_are_reported_and_stored_whole_good_rows_kept(db, roster, tmp_path):
    bad = tmp_path / "mixed.csv"
    data = csv_bytes(ROLL_CALL_HEADER, [
        roll_row(P1, "16/11/2026", "AM", "/"),
        roll_row(P1, "31/02/2026", "AM", "/"),
    ], bom=True, crlf=True) + f'"{P2[3]}, {P2[2]}",,{P2[0]},16/11/2026,AM,I,,,'.encode() + b"Dad\x92s note\r\n"
    bad.write_bytes(data)
    (result,) = run(db, [bad])
    assert result.ok and (result.rows_read, result.imported, result.rejected) == (3, 1, 2)
    with db() as s:
        rows = [(r.line, r.field, r.defect, r.raw) for r in s.scalars(select(RejectedRow).order_by(RejectedRow.line))]
    assert [(line, field, defect) for line, field, defect, _ in rows] == [
        (3, "Date", "impossible_date"), (4, "Note", "not_utf8")]
    assert rows[1][3].endswith("Dad\\x92s note")
    assert marks(db) == {(P1[0], date(2026, 11, 16), "AM"): ("/", None, None)}


def test_lessons_upsert_and_history(db, roster):
    data = csv_bytes(LESSONS_HEADER, [
        lesson_row(P1, "23/11/2026", "09:00", "09:50", "Maths", "N"),
        lesson_row(P1, "23/11/2026", "10:00", "10:50", "Art", "/"),
        lesson_row(P1, "23/11/2026", "12:15", "12:40", "Lunch club", "/"),
    ], bom=True, crlf=True)
    first = import_bytes("lessons.csv", data, db, codebook(), RULES, AT, source="email")
    assert first.ok and first.new == 3
    assert [d.defect for d in first.defects] == ["outside_windows"]
    changed = data.replace(b"09:50,Maths,N", b"09:50,Maths,/")
    second = import_bytes("lessons.csv", changed, db, codebook(), RULES, AT + timedelta(days=1))
    assert (second.new, second.changed) == (0, 1)
    with db() as s:
        assert s.scalar(select(LessonMark.mark).where(LessonMark.register == "Maths")) == "/"
        change = s.scalars(select(MarkChange).where(MarkChange.old_mark.is_not(None))).one()
        assert (change.session, change.register, change.old_mark, change.new_mark) == ("09:00", "Maths", "N", "/")
        assert s.get(ImportBatch, first.import_id).source == "email"


def test_calendar_reimport_replaces_the_periods(db, roster, tmp_path):
    cal = tmp_path / "calendar.yaml"
    cal.write_bytes(CALENDAR_YAML.replace(b"  - date: 2026-11-20\n    reason: INSET day\n",
                                          b"  - start: 2026-12-14\n    end: 2026-12-15\n    reason: Building work\n"))
    (result,) = run(db, [cal])
    assert (result.new, result.removed) == (1, 1)
    with db() as s:
        closures = [(p.start, p.end, p.name) for p in s.scalars(select(CalendarPeriod).where(CalendarPeriod.kind == "closure"))]
    assert closures == [(date(2026, 12, 14), date(2026, 12, 15), "Building work")]
    assert count(db, CalendarPeriod) == 3


def test_data_gaps_name_schools_and_pupil_refs_only(db, roster):
    with db() as s:
        gaps = data_gaps(s)
    kinds = sorted((g.kind, g.subject) for g in gaps)
    assert kinds == [
        ("pupil_no_timetable", f"pupil {P3[0]}"),
        ("pupil_unknown_tutor", f"pupil {P3[0]}"),
        ("school_no_dsl", "school 900002"),
    ]
    dsl = next(g for g in gaps if g.kind == "school_no_dsl")
    assert "900002" in dsl.message and "Birchwood Academy" in dsl.message
    for gap in gaps:
        for part in P3[2:]:
            assert part not in gap.message


def test_drop_folder_moves_files_never_deletes(db, tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    for path in roster_files(tmp_path):
        (drop / path.name).write_bytes(path.read_bytes())
    (drop / "z_export.csv").write_bytes(csv_bytes(ROLL_CALL_HEADER, [roll_row(P1, "16/11/2026", "AM", "/")]))
    (drop / "notes.txt").write_bytes(b"hello\nworld\n")
    (drop / "copying.csv.part").write_bytes(b"half")
    fresh = drop / "still_writing.csv"  # modified 2 s before `at`: may still be being copied
    fresh.write_bytes(b"Student,UPN\n")
    os.utime(fresh, (AT.timestamp() - 2, AT.timestamp() - 2))
    (drop / "done").mkdir()
    (drop / "done" / "z_export.csv").write_bytes(b"an earlier file of the same name")
    results = import_drop_folder(db, codebook(), RULES, drop, AT)
    assert {r.label: r.ok for r in results} == {
        "calendar.yaml": True, "schools.csv": True, "staff.csv": True, "pupils.csv": True,
        "timetables.csv": True, "z_export.csv": True, "notes.txt": False}
    assert sorted(p.name for p in drop.iterdir() if p.is_file()) == ["copying.csv.part", "still_writing.csv"]
    assert sorted(p.name for p in (drop / "failed").iterdir()) == ["notes.txt"]
    done = sorted(p.name for p in (drop / "done").iterdir())
    assert "z_export.csv" in done and "z_export.1.csv" in done
    assert (drop / "done" / "z_export.csv").read_bytes() == b"an earlier file of the same name"
    with db() as s:
        assert set(s.scalars(select(ImportBatch.source))) == {"drop"}
    assert count(db, SessionMark) == 1
    assert import_drop_folder(db, codebook(), RULES, drop, AT) == []


def test_cli_reports_defects_and_exit_status(tmp_path):
    home = tmp_path / "home"
    files = [str(p) for p in roster_files(tmp_path)]
    export = tmp_path / "export.csv"
    export.write_bytes(csv_bytes(ROLL_CALL_HEADER, [
        roll_row(P1, "16/11/2026", "AM", "ZZ"),
        roll_row(P2, "16/11/2026", "AM", "/"),
    ], bom=True, crlf=True))
    runner = CliRunner()
    ok = runner.invoke(cli, ["--home", str(home), "import", *files, str(export)])
    assert ok.exit_code == 0, ok.output
    lines = ok.output.splitlines()
    assert ("export.csv:2: Mark: unknown_code: 'ZZ' is not a national attendance code "
            f"(pupil {P1[0]}, 2026-11-16 AM); row kept for review") in lines
    assert any(line.startswith("export.csv: roll_call: 2 rows read, 1 imported, 1 changed (1 new), 1 rejected")
               for line in lines)
    assert "data gap: School 900002 Birchwood Academy has no DSL email address" in ok.output
    for part in (P1[2], P1[3], P2[3]):
        assert part not in ok.output
    missing = runner.invoke(cli, ["--home", str(home), "import", str(tmp_path / "nope.csv"), str(export)])
    assert missing.exit_code == 1
    assert "export.csv: roll_call: 2 rows read" in missing.output
    forced = runner.invoke(cli, ["--home", str(home), "import", "--kind", "lessons", str(export)])
    assert forced.exit_code == 1
