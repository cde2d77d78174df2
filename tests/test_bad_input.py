"""Bad input, on purpose: broken files, hostile mail, wrong settings. Each test is an attack
that once did harm (or would, without the protection it names). The strict xfails are harm
still done by files this module's author could not change: each names the file; when it is
fixed the xfail turns into a failure, and the marker goes.

The rules under attack (developers' guide): bad input gets a clear message naming what and
where, and nothing is lost; pupil data goes only to registered addresses; an unverified
sender never changes a case; no pupil name in a subject or a log line; a failing job is
retried, never ends the loop.

Big inputs are made here, never committed. Quadratic code is caught by a deadline (SIGALRM,
which also interrupts a regular expression), so a regression fails in seconds, not hours.
"""

from __future__ import annotations

import base64
import codecs
import contextlib
import logging
import os
import re
import shutil
import signal
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DataError, OperationalError

from tests.helpers_imports import CALENDAR_YAML
from tests.helpers_instance import (
    ROLL_CALL_HEADER,
    Instance,
    MiniData,
    csv_bytes,
    make_instance,
    mini_instance,
)
from worker.app import App
from worker.attendance.codes import codebook_at
from worker.config import REPO_ROOT, load_settings
from worker.db.models import (
    AuditEntry,
    CalendarPeriod,
    Case,
    CaseEvent,
    InboxMessage,
    LessonMark,
    OutboxMessage,
    Pupil,
    RejectedRow,
    School,
    StaffMember,
)
from worker.errors import ConfigError, ImportFileError, TransportError
from worker.imports import import_bytes, import_drop_folder
from worker.imports.columns import load_column_rules
from worker.imports.parse import _LABEL_LENGTH as calendar_label_length
from worker.imports.parse import Known, PupilKey, known_from, parse_file
from worker.imports.upn import check_letter
from worker.imports.values import MAX_LENGTH
from worker.inbox.classify import MAX_TEXT, classify_message
from worker.inbox.directory import JsonCaseDirectory
from worker.inbox.imap_source import ImapSource
from worker.inbox.parse import parse_message
from worker.inbox.reply_rules import load_reply_rules
from worker.outbox.dispatch import dispatch_pending
from worker.outbox.memory import MemoryTransport
from worker.outbox.smtp import SmtpTransport
from worker.service import run_once

pytest_plugins = ["tests.mailstack"]

RULES_DIR = REPO_ROOT / "rules"
TODAY = date(2026, 11, 17)
SERVICE = "attendance@service.example"


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail (not hang) when the block takes longer: quadratic code on a big input takes hours."""

    def expired(*_: object) -> None:
        raise TimeoutError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- imports: the pure reader --------------------------------------------------------------------

DATA = MiniData()
AVA = DATA.pupil("20001")
ROSTER: Known = known_from(
    [PupilKey(p.ref, p.upn, p.forename, p.surname) for p in DATA.pupils], [s.urn for s in DATA.schools]
)
NAMES = sorted({w for p in DATA.pupils for w in (p.forename, p.surname)})
NAME_RE = re.compile(r"\b(?:" + "|".join(NAMES) + r")\b")


def parse(data: bytes, name: str = "export.csv", kind: str | None = None, known: Known = ROSTER):
    return parse_file(name, data, rules=load_column_rules(str(RULES_DIR)), codebook=codebook_at(str(RULES_DIR)),
                      known=known, kind=kind, today=TODAY)


def mark_row(day: str = "02/11/2026", mark: str = "/", note: str = "", *, student: str | None = None,
             ref: str = AVA.ref, upn: str = AVA.upn, session: str = "AM", late: str = "") -> list[str]:
    return [student or f"{AVA.surname}, {AVA.forename}", upn, ref, day, session, mark, "", late, note]


def roll_call(*rows: list[str]) -> bytes:
    return csv_bytes(ROLL_CALL_HEADER, list(rows), arbor=True)


def errors(parsed) -> list[tuple[int, str, str | None]]:
    return [(d.line, d.defect, d.field) for d in parsed.defects if d.is_error]


def test_files_that_cannot_be_read_at_all_say_why() -> None:
    header_only = roll_call()
    cases = {
        b"": "the file is empty",
        os.urandom(2048).replace(b"\n", b"").replace(b"\r", b""): "not UTF-8",
        codecs.BOM_UTF16_LE + "Student,UPN\r\n".encode("utf-16-le"): "UTF-16",
        header_only.replace(b",", b";"): "separated by semicolons",
        header_only.replace(b",", b"\t"): "separated by tabs",
        b"Student,Year,Registration Form,Attendance %\r\nQuill Ava,7,7A,95\r\n": "header row not recognised",
        header_only.replace(b"Note", b"Mark"): "columns 6 (Mark) and 9 (Mark) are both the Mark column",
        header_only.replace(b"Note", b"Code"): "are both the Mark column",
        header_only.replace(b"Student", b"Stu\x00dent"): "control characters",
    }
    for data, reason in cases.items():
        with pytest.raises(ImportFileError, match=re.escape(reason)):
            parse(data)
    empty = parse(header_only)
    assert (empty.kind, empty.rows_read, empty.rows, empty.defects) == ("roll_call", 0, [], [])


def test_an_open_quote_costs_one_row_and_the_rest_goes_on() -> None:
    data = roll_call(mark_row("02/11/2026"), mark_row("04/11/2026"), mark_row("05/11/2026"))
    broken = data.replace(f'"{AVA.surname}, {AVA.forename}"'.encode(), f'"{AVA.surname}, {AVA.forename}'.encode(), 1)
    parsed = parse(broken)
    assert [r.date for r in parsed.rows] == [date(2026, 11, 4), date(2026, 11, 5)]
    assert [(line, defect) for line, defect, _ in errors(parsed)] == [(2, "missing_column")]
    assert parsed.rejected[0].raw.startswith(f'"{AVA.surname}')


def test_nul_and_control_characters_are_rejected_and_never_stored() -> None:
    parsed = parse(roll_call(mark_row(note="no\x00te"), mark_row("03/11/2026", note="bell\x07"),
                             mark_row("04/11/2026", note="tab\tis fine")))
    assert errors(parsed) == [(2, "control_character", "Note"), (3, "control_character", "Note")]
    assert [r.note for r in parsed.rows] == ["tab\tis fine"]
    for rejected in parsed.rejected:  # PostgreSQL refuses NUL in text: none may reach it
        assert "\x00" not in rejected.raw
        assert all("\x00" not in (d.value or "") + (d.field or "") + d.reason for d in rejected.defects)


def test_a_line_break_is_only_allowed_in_a_note() -> None:
    # A staff name is the From display name of not-seen emails: "Tia\r\nBcc: ..." once made the
    # email library refuse the header, and the cases job failed on every tick for every pupil.
    staff = csv_bytes(["role", "name", "email"], [
        ["tutor", "Tia\r\nBcc: evil@attacker.example", "tia.tutor@service.example"],
        ["tutor", "Theo Tutor", "theo.tutor@service.example"],
    ])
    parsed = parse(staff, "staff.csv")
    assert errors(parsed) == [(2, "line_break", "name")]
    assert [r.name for r in parsed.rows] == ["Theo Tutor"]
    notes = parse(roll_call(mark_row(note="Mum rang.\nIll all week.")))
    assert (errors(notes), notes.rows[0].note) == ([], "Mum rang.\nIll all week.")


def test_values_longer_than_their_column_are_rejected() -> None:
    schools = csv_bytes(["urn", "name", "attendance_email", "dsl_email", "domains"], [
        ["900101", "A" * 201, "office@ashby.example", "dsl@ashby.example", "ashby.example"],
        ["9" * 17, "Long URN School", "office@long.example", "", "long.example"],
        ["900104", "A" * 200, "office@dale.example", "", "dale.example"],
    ])
    parsed = parse(schools, "schools.csv")
    assert errors(parsed) == [(2, "too_long", "name"), (3, "too_long", "urn")]
    assert [r.urn for r in parsed.rows] == ["900104"]


def test_the_length_limits_match_the_database_columns() -> None:
    columns = {"urn": School.urn, "main_school_urn": School.urn, "pupil_ref": Pupil.pupil_ref,
               "name": StaffMember.name, "forename": Pupil.forename, "surname": Pupil.surname,
               "email": StaffMember.email, "key_tutor_email": Pupil.key_tutor_email}
    for key, column in columns.items():
        assert MAX_LENGTH[key] == column.property.columns[0].type.length, key
    assert School.name.property.columns[0].type.length == MAX_LENGTH["name"]
    assert LessonMark.register.property.columns[0].type.length == MAX_LENGTH["register"]
    assert CalendarPeriod.name.property.columns[0].type.length == calendar_label_length


def test_dates_that_cannot_be_or_should_not_be() -> None:
    days = ["29/02/2027", "00/01/2026", "01/01/2999", "31/12/9999", "01/01/1900", "1/1/26", "2026-11-02",
            "29/02/2024", "17/11/2027"]
    parsed = parse(roll_call(*[mark_row(day) for day in days]))
    assert [(line, defect) for line, defect, _ in errors(parsed)] == [
        (2, "impossible_date"), (3, "impossible_date"), (4, "implausible_date"), (5, "implausible_date"),
        (6, "implausible_date"), (7, "bad_date"), (8, "iso_date"),
    ]
    # A real leap day, and a day less than a year ahead (Arbor holds planned absences), are kept.
    assert [r.date for r in parsed.rows] == [date(2024, 2, 29), date(2027, 11, 17)]


def test_marks_lower_case_sub_codes_withdrawn_and_spaced() -> None:
    marks = {"i": "I", "I01": "I", " I ": "I", "c2": "C2", "o": "O", "#": "#"}
    bad = ["H", "F", "J", "Y", "I 0 1", "ZZ", "\\\\"]
    parsed = parse(roll_call(*[mark_row(f"{2 + i:02d}/11/2026", m) for i, m in enumerate([*marks, *bad])]))
    assert [r.mark for r in parsed.rows] == list(marks.values())
    assert [d for _, d, _ in errors(parsed)] == ["unknown_code"] * len(bad)
    assert "withdrawn" in next(d.reason for d in parsed.defects if d.line == 2 + len(marks))


def test_school_addresses_must_be_addresses_and_not_public_mail() -> None:
    header = ["urn", "name", "attendance_email", "dsl_email", "domains"]
    rows = [
        ["900104", "Dale School", "not-an-address", "dsl@dale.example", "dale.example"],
        ["900105", "Elm School", "a@elm.example,b@elm.example", "dsl@elm.example", "elm.example"],
        ["900106", "Fir School", "Office <office@fir.example>", "dsl@fir.example", "fir.example"],
        ["900107", "Gum School", "office@ｇum.example", "dsl@gum.example", "gum.example"],
        ["900108", "Hay School", "office@hay.example", "dsl@hay.example", "hay.example; gmail.com"],
        ["900109", "Ivy School", "office@ivy.example;attendance@ivy.example", "dsl@ivy.example", "@ivy.example"],
    ]
    parsed = parse(csv_bytes(header, rows), "schools.csv")
    assert errors(parsed) == [(2, "bad_email", "attendance_email"), (3, "bad_email", "attendance_email"),
                              (4, "bad_email", "attendance_email"), (5, "bad_email", "attendance_email"),
                              (6, "public_domain", "domains")]
    assert "separate two addresses with ';'" in next(d.reason for d in parsed.defects if d.line == 3)
    (ivy,) = parsed.rows
    assert (ivy.attendance_emails, ivy.domains) == ("office@ivy.example;attendance@ivy.example", "ivy.example")


def test_pupils_unknown_school_bad_upn_and_conflicting_rows() -> None:
    header = ["pupil_ref", "upn", "forename", "surname", "date_of_birth", "main_school_urn", "key_tutor_email",
              "safeguarding_risk", "registration", "start_date", "end_date"]
    body = check_letter("999200126050")[0] + "999200126050"
    wrong_letter = ("A" if body[0] != "A" else "B") + body[1:]

    def row(ref: str, upn: str, school: str = "900101", risk: str = "yes") -> list[str]:
        return [ref, upn, "Zed", "Alpha", "01/03/2013", school, "", risk, "K", "", ""]

    parsed = parse(csv_bytes(header, [
        row("30001", "", "999999"),
        row("30002", wrong_letter),
        row("30003", body[1:]),
        row("30004", "", "900101", "yes"),
        row("30004", "", "900102", "no"),  # the same pupil twice, disagreeing: neither is applied
        row("30005", body), row("30006", body),  # one UPN, two children
        row("30007", AVA.upn),  # the roster's UPN of another pupil: a note
        row("30008", ""), row("30008", ""),  # an exact repeat: read once
        [*row("30009", "")[:4], "31/12/9999", *row("30009", "")[5:]],  # born in the year 9999
    ]), "pupils.csv")
    assert errors(parsed) == [
        (2, "unknown_school", "main_school_urn"), (3, "bad_upn", "upn"), (4, "bad_upn", "upn"),
        (5, "conflicting_rows", "pupil_ref"), (6, "conflicting_rows", "pupil_ref"),
        (7, "upn_clash", "upn"), (8, "upn_clash", "upn"), (12, "implausible_date", "date_of_birth"),
    ]
    notes = [(d.line, d.defect) for d in parsed.defects if not d.is_error]
    assert notes == [(9, "upn_clash"), (11, "duplicate_row")]
    assert [r.pupil_ref for r in parsed.rows] == ["30007", "30008"]
    assert {r.line for r in parsed.rejected} == {2, 3, 4, 5, 6, 7, 8, 12}


def test_timetable_rows_that_disagree_or_overlap() -> None:
    header = ["pupil_ref", "weekday", "session", "place", "valid_from", "valid_to"]
    parsed = parse(csv_bytes(header, [
        ["20001", "Mon", "AM", "service", "03/09/2026", ""],
        ["20001", "Mon", "AM", "none", "03/09/2026", ""],  # same key, other place: both rejected
        ["20001", "Tue", "AM", "service", "03/09/2026", ""],
        ["20001", "Tue", "AM", "main_school", "01/10/2026", ""],  # overlaps: noted, the later applies
        ["20001", "Sat", "AM", "service", "03/09/2026", ""],
    ]), "timetables.csv")
    assert errors(parsed) == [(2, "conflicting_rows", "pupil_ref"), (3, "conflicting_rows", "pupil_ref"),
                              (6, "unknown_value", "weekday")]
    assert [(d.line, d.defect) for d in parsed.defects if not d.is_error] == [(5, "overlapping_dates")]
    assert [(r.weekday, r.place) for r in parsed.rows] == [(1, "service"), (1, "main_school")]


def test_no_pupil_name_in_any_defect_message() -> None:
    student = f"{AVA.surname}, {AVA.forename}"
    parsed = parse(roll_call(
        mark_row(AVA.forename),                      # a name where the date goes
        mark_row(session=AVA.surname),               # ... the roll call
        mark_row(mark=AVA.surname),                  # ... the mark
        mark_row(late=AVA.forename),                 # ... minutes late
        mark_row(ref=AVA.surname),                   # ... the Arbor Student ID (the UPN finds her)
        mark_row(student=f"{AVA.forename} {AVA.surname}x"),  # a name that does not match
        [f"{AVA.surname}", f" {AVA.forename}", AVA.upn, AVA.ref, "02/11/2026", "AM", "/", "", "", ""],
    ))
    assert len(parsed.rejected) == 7
    for defect in parsed.defects:
        assert not NAME_RE.search(defect.text()), defect.text()
    assert "[name]" in next(d.text() for d in parsed.defects if d.defect == "bad_date")
    assert student in parsed.rejected[0].raw  # the raw row is kept whole for a person (database only)


def test_a_huge_header_cell_does_not_make_a_huge_message() -> None:
    parsed = parse(",".join(ROLL_CALL_HEADER).encode() + b"," + b"x" * 1_000_000 + b"\r\n")
    (note,) = parsed.defects
    assert note.defect == "unused_column" and len(note.text()) < 300


def test_reading_a_big_export_is_linear() -> None:
    # 150 000 rows (~9 MB): seconds now; the line reader was once n^2 (this: minutes; 50 MB: hours).
    line = ",".join(f'"{c}"' if "," in c else c for c in mark_row()) + "\r\n"
    data = roll_call() + line.encode() * 150_000
    with deadline(30):
        parsed = parse(data)
    assert parsed.rows_read == 150_000 and len(parsed.rows) == 1
    assert len([d for d in parsed.defects if d.defect == "duplicate_row"]) == 149_999


def test_calendar_files_that_would_close_every_day_or_crash() -> None:
    cases = {
        "terms:\n  - name: A\n    start: 2026-09-03\n    end: [unclosed\n": "not valid YAML at line 5",
        "terms:\n  - name: A\n    start: 2026-12-18\n    end: 2026-09-03\n": "terms[1] ends before it starts",
        "terms:\n  - name: A\n    start: 2026-02-30\n    end: 2026-12-18\n": "day is out of range for month",
        "terms: []\n": "the `terms` list is empty",
        "service: x\n": "needs a `terms` list",
        "terms:\n  - name: A\n    start: 0001-01-01\n    end: 9999-12-31\n": "a term is at most a school year",
        ("terms:\n  - {name: A, start: 2026-09-03, end: 2026-12-18}\n"
         "  - {name: B, start: 2026-11-01, end: 2027-02-01}\n"): "overlaps the term 'A'",
        ("terms:\n  - {name: A, start: 2026-09-03, end: 2026-12-18}\n"
         "closures:\n  - {date: 2026-11-20, reason: \"INSET\\0day\"}\n"): "control characters",
        f"terms:\n  - {{name: '{'x' * 201}', start: 2026-09-03, end: 2026-12-18}}\n": "at most 200 fit",
        "terms: !!python/object/apply:os.system ['true']\n": "could not determine a constructor",
    }
    for body, reason in cases.items():
        with pytest.raises(ImportFileError, match=re.escape(reason)):
            parse(body.encode(), "calendar.yaml")


# --- imports: the database side ------------------------------------------------------------------


@pytest.fixture
def roster(tmp_path: Path) -> Instance:
    inst = make_instance(tmp_path / "home", start="2026-11-17 06:00")
    DATA.load_roster(inst)
    return inst


def _import(inst: Instance, name: str, data: bytes):
    return import_bytes(name, data, inst.app.sessions, inst.app.codebook, inst.app.rules_dir,
                        inst.clock.now(), source="cli")


def test_conflicting_school_rows_never_change_who_gets_pupil_data(roster: Instance) -> None:
    header = ["urn", "name", "attendance_email", "dsl_email", "domains"]
    result = _import(roster, "schools.csv", csv_bytes(header, [
        ["900101", "Ashby Primary School", "office@ashby.example", "dsl@ashby.example", "ashby.example"],
        ["900101", "Ashby Primary School", "office@attacker.example", "dsl@attacker.example", "attacker.example"],
    ]))
    assert (result.ok, result.rejected, result.imported) == (True, 2, 0)
    with roster.app.sessions() as session:
        school = session.get(School, "900101")
        assert (school.attendance_emails, school.dsl_emails) == ("office@ashby.example", "dsl@ashby.example")
        kept = session.scalars(select(RejectedRow.line).where(RejectedRow.import_id == result.import_id)).all()
    assert sorted(kept) == [2, 3]


def test_an_empty_calendar_leaves_the_stored_one(roster: Instance) -> None:
    result = _import(roster, "calendar.yaml", b"terms: []\n")
    assert not result.ok and "empty" in (result.error or "")
    with roster.app.sessions() as session:
        assert session.scalar(select(CalendarPeriod.id).where(CalendarPeriod.kind == "term")) is not None


def test_a_file_the_database_refuses_fails_alone(roster: Instance, monkeypatch: pytest.MonkeyPatch) -> None:
    import worker.imports.runner as runner

    real = runner.write_parsed

    def refusing(session, parsed, batch, at, **kw):
        if parsed.name == "refused.csv":
            raise DataError("INSERT ...", {"forename": AVA.forename}, Exception("value too long for type"))
        return real(session, parsed, batch, at, **kw)

    monkeypatch.setattr(runner, "write_parsed", refusing)
    good = roll_call(mark_row("03/11/2026"))
    results = runner.import_files([("refused.csv", good, None), ("good.csv", good, None)], roster.app.sessions,
                                  roster.app.codebook, roster.app.rules_dir, roster.clock.now())
    assert [r.ok for r in results] == [False, True]
    assert "value too long" in results[0].error and AVA.forename not in results[0].error

    def away(*_args, **_kw):
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    monkeypatch.setattr(runner, "write_parsed", away)
    with pytest.raises(OperationalError):  # the database is away: the job is retried next tick
        runner.import_files([("good.csv", good, None)], roster.app.sessions, roster.app.codebook,
                            roster.app.rules_dir, roster.clock.now())


def test_the_drop_folder_sorts_bad_files_out_and_goes_on(roster: Instance) -> None:
    drop = roster.app.settings.drop_dir
    drop.mkdir(parents=True, exist_ok=True)
    files = {
        "a_empty.csv": b"",
        "b_junk.csv": os.urandom(4096).replace(b"\n", b"\x00"),
        "c_utf16.csv": codecs.BOM_UTF16_LE + "Student\r\n".encode("utf-16-le"),
        "d_nul.csv": roll_call(mark_row("03/11/2026", note="\x00")),
        "e_good.csv": roll_call(mark_row("04/11/2026", "I", "Ill")),
        "f_calendar.yaml": b"terms: []\n",
    }
    for name, data in files.items():
        (drop / name).write_bytes(data)
        os.utime(drop / name, (0, 0))  # long settled
    results = import_drop_folder(roster.app.sessions, roster.app.codebook, roster.app.rules_dir, drop,
                                 roster.clock.now())
    assert {Path(r.name).name: r.ok for r in results} == {
        "a_empty.csv": False, "b_junk.csv": False, "c_utf16.csv": False, "d_nul.csv": True,
        "e_good.csv": True, "f_calendar.yaml": False,
    }
    assert sorted(p.name for p in (drop / "failed").iterdir()) == ["a_empty.csv", "b_junk.csv", "c_utf16.csv",
                                                                   "f_calendar.yaml"]
    assert sorted(p.name for p in (drop / "done").iterdir()) == ["d_nul.csv", "e_good.csv"]
    assert [p.name for p in drop.iterdir() if p.is_file()] == []


# --- PostgreSQL: where a NUL byte or a long label once crashed the whole import ------------------

@pytest.mark.postgres
def test_nul_bytes_and_long_values_are_kept_for_a_person_on_postgres(pg_url: str, tmp_path: Path) -> None:
    inst = make_instance(tmp_path / "home", start="2026-11-17 06:00", config=f'[database]\nurl = "{pg_url}"\n')
    try:
        DATA.load_roster(inst)
        wide = [*ROLL_CALL_HEADER, "Registration Form", "Year Group", "House", "Tutor Group"]
        nasty = {
            "nul.csv": roll_call(mark_row("03/11/2026", note="no\x00te"), mark_row("04/11/2026")),
            "label.csv": csv_bytes(wide, [[f"{AVA.surname}"], mark_row("05/11/2026") + ["", "", "", ""]], arbor=True),
            "schools.csv": csv_bytes(["urn", "name", "attendance_email", "dsl_email", "domains"],
                                     [["900104", "S" * 300, "o@dale.example", "", "dale.example"]]),
            "junk.csv": roll_call() + b"\x00\xff" * 200 + b"\r\n",
        }
        results = {name: _import(inst, name, data) for name, data in nasty.items()}
        assert {n: (r.ok, r.imported, r.rejected) for n, r in results.items()} == {
            "nul.csv": (True, 1, 1), "label.csv": (True, 1, 1), "schools.csv": (True, 0, 1), "junk.csv": (True, 0, 1),
        }
        with inst.app.sessions() as session:
            fields = session.scalars(select(RejectedRow.field)).all()
        assert all(f is None or len(f) <= 100 for f in fields)
    finally:
        inst.app.engine.dispose()


# --- incoming mail -------------------------------------------------------------------------------

DSL = "dsl@ashby.example"


def mail(sender: str, body: str = "We visited today and saw the pupil, safe and well.", *,
         subject: str = "Re: Pupil not seen for one week [NS-1]", in_reply_to: str | None = None,
         headers: dict[str, str] | None = None, raw_from: bytes | None = None) -> bytes:
    msg = EmailMessage()
    if raw_from is None:
        msg["From"] = sender
    msg["To"] = SERVICE
    msg["Subject"] = subject
    msg["Date"] = "Tue, 17 Nov 2026 10:00:00 +0000"
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@mail.example>"
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    data = msg.as_bytes()
    return raw_from + data if raw_from is not None else data


@pytest.fixture(scope="module")
def case_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An instance where pupil 20001 (Ashby, safeguarding risk) is NS-1, emailed on 16 Nov."""
    home = tmp_path_factory.mktemp("case") / "home"
    inst, _ = mini_instance(home, absent_from={"20001": date(2026, 11, 9)}, start="2026-11-13 06:00",
                            data_to=date(2026, 11, 13))
    inst.tick("2026-11-16 07:05")
    inst.app.engine.dispose()
    return home


@pytest.fixture
def inbox(case_home: Path, tmp_path: Path) -> Instance:
    home = tmp_path / "home"
    shutil.copytree(case_home, home)
    return make_instance(home, start="2026-11-17 10:00")


def ns1_message_id(inst: Instance) -> str:
    (row,) = inst.rows(kind="not_seen", case_id=1)
    return row.message_id


def deliver(inst: Instance, messages: dict[str, bytes]) -> None:
    new = inst.app.settings.inbox_dir / "new"
    new.mkdir(parents=True, exist_ok=True)
    for name, raw in messages.items():
        (new / f"{name}.eml").write_bytes(raw)


def items(inst: Instance) -> dict[str, InboxMessage]:
    with inst.app.sessions() as session:
        found = list(session.scalars(select(InboxMessage).order_by(InboxMessage.id)))
        session.expunge_all()
    return {item.uid.split("#")[0].removesuffix(".eml"): item for item in found}


def case_state(inst: Instance) -> tuple[str, list[str]]:
    with inst.app.sessions() as session:
        case = session.get(Case, 1)
        events = session.scalars(select(CaseEvent.event).where(CaseEvent.case_id == 1).order_by(CaseEvent.id)).all()
        return case.state, list(events)


def test_unreadable_mail_is_quarantined_and_the_rest_goes_on(inbox: Instance) -> None:
    nested = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(3000))
    deliver(inbox, {
        "a_zero": b"",
        "b_random": os.urandom(8192).replace(b":", b"").replace(b"\n", b""),
        "c_nested": b"From: dsl@ashby.example\r\nSubject: deep\r\nMIME-Version: 1.0\r\n" + nested + b"x\r\n",
        "d_good": mail(DSL, in_reply_to=ns1_message_id(inbox)),
    })
    inbox.tick("2026-11-17 10:00", only=["inbox", "dispatch"])
    found = items(inbox)
    assert {k: v.status for k, v in found.items()} == {
        "a_zero": "quarantined", "b_random": "quarantined", "c_nested": "quarantined", "d_good": "processed"}
    assert all(v.raw is not None for v in found.values())  # kept whole
    assert list((inbox.app.settings.inbox_dir / "new").iterdir()) == []
    assert case_state(inbox)[0] == "check_reported"
    assert inbox.rows(kind="quarantine_alert"), "the Attendance Lead is told"


def test_huge_and_header_heavy_replies_are_read(inbox: Instance) -> None:
    big = EmailMessage()
    big["From"], big["To"], big["Subject"] = DSL, SERVICE, "Re: Pupil not seen for one week [NS-1]"
    big["Message-ID"], big["In-Reply-To"] = "<big@ashby.example>", ns1_message_id(inbox)
    big.set_content("We visited today and saw the pupil, safe and well.")
    big.add_attachment(os.urandom(15 * 1024 * 1024), maintype="application", subtype="octet-stream",
                       filename="scan.bin")
    headers = b"".join(b"X-Junk-%d: %s\r\n" % (i, b"v" * 50) for i in range(5000))
    many = b"From: dsl@ashby.example\r\nSubject: Re: [NS-1]\r\nMessage-ID: <many@ashby.example>\r\n" + headers
    deliver(inbox, {"big": big.as_bytes(), "many": many + b"\r\nWe saw the pupil at home today, safe and well.\r\n"})
    with deadline(60):
        inbox.tick("2026-11-17 10:00", only=["inbox"])
    assert {k: v.status for k, v in items(inbox).items()} == {"big": "processed", "many": "processed"}


RULES = load_reply_rules(str(RULES_DIR))
DIRECTORY = JsonCaseDirectory({
    "service": {"mailbox": SERVICE, "dsl": "dana.warden@service.example", "own_domain": "service.example"},
    "schools": [{"urn": "900101", "name": "Ashby Primary School", "domains": ["ashby.example"],
                 "registered_contacts": [{"address": DSL, "role": "DSL"},
                                         {"address": "office@ashby.example", "role": "attendance"}]},
                {"urn": "900102", "name": "Brook Academy", "domains": ["brook.example"],
                 "registered_contacts": [{"address": "attendance@brook.example", "role": "attendance"}]}],
    "cases": [{"case_ref": "NS-1", "main_school_urn": "900101"}, {"case_ref": "NS-2", "main_school_urn": "900102"}],
})


def classify(raw: bytes):
    return classify_message(parse_message(raw), DIRECTORY, RULES, secret=b"k")


@pytest.mark.parametrize("unit", [" ", "\t", "\n", "\n\n", "@", "\u00a0", " - ", "1/", "a@b.c ", "> ", "On "])
def test_pathological_bodies_are_read_in_bounded_time(unit: str) -> None:
    # Each of these once took minutes to hours (n^2 regular expressions and loops): one such
    # message held up the whole inbox on every tick, since it was never recorded.
    raw = mail(DSL, "We visited today and saw " + unit * (90_000 // len(unit)) + " x.")
    with deadline(20):
        result = classify(raw)
    assert result.case_ref == "NS-1"


def test_a_very_long_body_is_cut_and_a_person_reads_it() -> None:
    body = "We visited today and saw the pupil, safe and well.\n" + ("Log line " * 10 + "\n") * 30_000
    with deadline(30):
        result = classify(mail(DSL, body))
    assert len(body) > MAX_TEXT and result.needs_review
    assert any(r.startswith("long message") for r in result.review_reasons)


FORGED = {
    "two_addresses": (b"From: dsl@ashby.example, evil@attacker.example\r\n", "does not hold exactly one address"),
    "two_from_headers": (b"From: dsl@ashby.example\r\nFrom: evil@attacker.example\r\n", "2 From headers"),
    "parenthesis_trick": (b"From: dsl@ashby.example)<evil@attacker.example>\r\n", "does not hold exactly one"),
    "unquoted_display": (b"From: dsl@ashby.example <evil@attacker.example>\r\n", "does not hold exactly one"),
    "display_name": (b'From: "dsl@ashby.example" <evil@attacker.example>\r\n', "sender not verified"),
    "homoglyph": ("From: dsl@\u0430shby.example\r\n".encode(), "sender not verified"),
    "punycode": (b"From: dsl@xn--shby-5ve.example\r\n", "sender not verified"),
    "other_school": (b"From: head@brook.example\r\n", "sender not verified"),
    "lookalike_subdomain": (b"From: dsl@ashby.example.attacker.example\r\n", "sender not verified"),
    "trailing_dot": (b"From: dsl@ashby.example.\r\n", "sender not verified"),
    "no_from": (b"Sender: dsl@ashby.example\r\n", "no From header"),
}


@pytest.mark.parametrize("name", sorted(FORGED))
def test_an_unverified_sender_is_never_verified(name: str) -> None:
    from_lines, reason = FORGED[name]
    result = classify(mail("", raw_from=from_lines))
    assert result.case_ref == "NS-1" and result.kind == "check_done"
    assert result.sender_verified is False and result.needs_review
    assert any(reason in r for r in result.review_reasons), result.review_reasons


def test_dmarc_failure_and_a_forged_service_address_go_to_a_person() -> None:
    failed = {"Authentication-Results": "mx.service.example; dmarc=fail (p=none) header.from=ashby.example"}
    assert "dmarc=fail" in classify(mail(DSL, headers=failed)).review_reasons
    forged = {"Authentication-Results": "mx.service.example; dmarc=fail header.from=service.example"}
    staff = classify(mail("dana.warden@service.example", "Closing this, pupil safe.", headers=forged))
    assert staff.needs_review and "dmarc=fail" in staff.review_reasons
    honest = classify(mail("dana.warden@service.example", "Closing this, pupil safe."))
    assert not honest.needs_review  # the Service's own staff, not forged: recorded only


def test_forged_replies_never_change_the_case(inbox: Instance) -> None:
    forged_id = re.sub(r"\.[0-9a-f]{8}@", ".deadbeef@", ns1_message_id(inbox))
    deliver(inbox, {
        **{name: mail("", raw_from=lines) for name, (lines, _) in FORGED.items()},
        "forged_hmac": mail("evil@attacker.example", subject="Re: Pupil not seen for one week",
                            in_reply_to=forged_id),
        "dmarc_fail": mail(DSL, headers={"Authentication-Results": "mx; dmarc=fail header.from=ashby.example"}),
    })
    before = case_state(inbox)
    inbox.tick("2026-11-17 10:00", only=["inbox"])
    found = items(inbox)
    assert len(found) == len(FORGED) + 2
    assert all(item.review_state == "pending" for item in found.values()), {
        k: (v.kind, v.review_state, (v.result or {}).get("review_reasons")) for k, v in found.items()}
    state, events = case_state(inbox)
    assert state == before[0] == "welfare_check_due"
    assert set(events[len(before[1]):]) <= {"review_pending"}
    with inbox.app.sessions() as session:
        assert session.get(Case, 1).school_responded_at is None  # the chaser still goes
    # ... while the real DSL's reply does move it (the test can tell the difference).
    deliver(inbox, {"real": mail(DSL, in_reply_to=ns1_message_id(inbox))})
    inbox.tick("2026-11-17 10:05", only=["inbox"])
    assert case_state(inbox)[0] == "check_reported"


def test_crlf_in_an_encoded_subject_stays_on_one_line() -> None:
    word = base64.b64encode(b"Re: [NS-1]\r\nBcc: evil@attacker.example\r\nX-Injected: yes").decode()
    raw = (f"From: {DSL}\r\nSubject: =?utf-8?b?{word}?=\r\nMessage-ID: <i@ashby.example>\r\n"
           "Content-Type: text/plain\r\n\r\nPlease could the Service do the home visit?\r\n").encode()
    parsed = parse_message(raw)
    assert "\r" not in parsed.subject and "\n" not in parsed.subject
    assert parsed.subject.startswith("Re: [NS-1] Bcc:")
    assert classify(raw).kind == "check_requested"


def test_seen_but_police_called_goes_to_a_person() -> None:
    result = classify(mail(DSL, "We visited today and saw her, safe and well. We called the police."))
    assert result.needs_review and "risk words: police" in result.review_reasons


def _bounce_for_stranger() -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"] = "MAILER-DAEMON@mx.ashby.example", SERVICE
    msg["Subject"], msg["Message-ID"], msg["Return-Path"] = "Undelivered Mail Returned to Sender", "<b1@mx>", "<>"
    msg.set_content("<stranger@elsewhere.example>: host said: 550 5.1.1 User unknown\n\n"
                    "Subject: Pupil not seen for one week [NS-1]\n")
    return msg.as_bytes()


def test_a_bounce_for_an_address_we_never_emailed_is_flagged() -> None:
    result = classify(_bounce_for_stranger())
    assert result.kind == "bounce" and result.failed_recipient == "stranger@elsewhere.example"
    assert "failed recipient is not a registered school contact of NS-1" in result.review_reasons


def test_a_bounce_for_an_address_we_never_emailed_leaves_our_email_alone(inbox: Instance) -> None:
    deliver(inbox, {"bounce": _bounce_for_stranger()})
    inbox.tick("2026-11-17 10:00", only=["inbox"])
    (row,) = inbox.rows(kind="not_seen", case_id=1)
    assert row.state == "sent"
    assert inbox.rows(kind="delivery_failed") == []  # no false "our email failed" to the lead


def test_a_forged_arbor_report_changes_no_mark(case_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(case_home, home)
    inst = make_instance(home, start="2026-11-17 10:00",
                         config='[imports]\narbor_report_senders = ["reports@arbor.example"]\n')
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "reports@arbor.example", SERVICE, "Roll call"
    msg["Message-ID"] = "<forged-report@attacker.example>"
    msg.set_content("Scheduled report")
    present = roll_call(*[mark_row(f"{d:02d}/11/2026", "/" if s == "AM" else "\\", session=s)
                          for d in (9, 10, 11, 12, 13) for s in ("AM", "PM")])
    msg.add_attachment(present, maintype="text", subtype="csv", filename="roll_call.csv")
    deliver(inst, {"forged_report": msg.as_bytes()})
    inst.tick("2026-11-17 10:00", only=["inbox"])
    with inst.app.sessions() as session:
        from worker.db.models import SessionMark

        marks = session.scalars(select(SessionMark.mark).where(SessionMark.pupil_ref == "20001",
                                                               SessionMark.date == date(2026, 11, 10))).all()
    assert set(marks) == {"O"}  # the forged "present" marks were not taken


# --- configuration -------------------------------------------------------------------------------


@pytest.mark.parametrize(("toml", "env", "message"), [
    ("[service\nname = 'x'\n", {}, "Expected ']'"),
    ("[service]\nnmae = 'x'\n", {}, "unknown setting 'nmae'"),
    ("", {"ATTENDANCE_COURIER_SCHEDULE_TICK_SECONDS": "abc"}, "must be a whole number, not 'abc'"),
    ("", {"ATTENDANCE_COURIER_OUTGOING_SMTP_PASSWORD_FILE": "/nonexistent/secret"}, "cannot read /nonexistent"),
    ("", {"ATTENDANCE_COURIER_SCHEDULE_TICK_SECOND": "60"}, "unknown setting in the environment"),
    ("", {"ATTENDANCE_COURIER_SCHEDULE_TICK_SECONDS": "0"}, "schedule.tick_seconds must be between 1"),
    ("", {"ATTENDANCE_COURIER_SCHEDULE_TICK_SECONDS": "-5"}, "schedule.tick_seconds must be between 1"),
    ("[outgoing.smtp]\nport = 99999\n", {}, "outgoing.smtp.port must be between 1 and 65535"),
    ("[outgoing.smtp]\nport = true\n", {}, "port must be a whole number, not True"),
    ("[incoming.imap]\ntimeout_seconds = 2.5\n", {}, "must be a whole number, not 2.5"),
    ("[cases]\nmax_reminders = -1\n", {}, "cases.max_reminders must be between 0"),
    ("[certificates]\nsend_from = 'garbage'\n", {}, "certificates.send_from must be a date YYYY-MM-DD"),
    ("[service]\nmailbox = 'not-an-address'\n", {}, "service.mailbox must be one email address"),
    ("[service]\nmailbox = 'a@x.example, b@x.example'\n", {}, "service.mailbox must be one email address"),
    ("[service]\ndomain = ''\n", {}, "service.domain must be a domain"),
    ("", {"ATTENDANCE_COURIER_SERVICE_LOOP_HEADER": "X Bad: y"}, "service.loop_header must be a header name"),
    ("[imports]\narbor_report_senders = ['reports at arbor']\n", {}, "'reports at arbor' is not an email address"),
    ("[schedule]\ndigest_time = '25:99'\n", {}, "schedule.digest_time must be HH:MM"),
])
def test_bad_settings_stop_the_worker_with_the_key_named(tmp_path: Path, toml: str, env: dict[str, str],
                                                          message: str) -> None:
    (tmp_path / "config.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(tmp_path, environ=env)


def test_good_settings_still_load(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        "[service]\nmailbox = 'a@x.example'\nloop_header = 'X-Our-Loop'\n[certificates]\nsend_from = '2026-11-16'\n"
        "[imports]\narbor_report_senders = 'r@arbor.example, s@arbor.example'\n", encoding="utf-8")
    settings = load_settings(tmp_path, environ={"ATTENDANCE_COURIER_OUTGOING_SMTP_PORT": "2525"})
    assert (settings.outgoing.smtp.port, settings.imports.arbor_report_senders) == (
        2525, ["r@arbor.example", "s@arbor.example"])


def test_unreachable_mail_servers_are_logged_and_retried(inbox: Instance, caplog: pytest.LogCaptureFixture) -> None:
    with inbox.app.sessions.begin() as session:  # everything sent once goes again, to a dead server
        for row in session.scalars(select(OutboxMessage)):
            row.state, row.attempts = "pending", 0
    home = inbox.home
    app = App(settings=load_settings(home, environ={}), clock=inbox.clock,
              transport_override=SmtpTransport("127.0.0.1", 1, security="none", timeout=3),
              source_override=ImapSource("127.0.0.1", 1, security="none", timeout=3, sleep=lambda _s: None,
                                         max_retries=1))
    caplog.set_level(logging.WARNING)
    for minute in range(3):
        report = run_once(app, inbox.at(f"2026-11-17 10:0{minute}"), only=["inbox", "dispatch"])
        # both jobs show as failing (status says so); the server's failure is not held against an email
        assert set(report.errors) == {"inbox", "dispatch"}
        assert "Connection refused" in report.errors["inbox"] and "Connection" in report.errors["dispatch"]
    with app.sessions() as session:
        rows = list(session.scalars(select(OutboxMessage)))
        assert rows and {(r.state, r.attempts) for r in rows} == {("pending", 0)}
    assert "emails wait for the next tick" in caplog.text


class _DownTransport:
    """An SMTP relay that is down (connection refused) for as long as the test likes."""

    name = "down"

    def send(self, raw: bytes, sender: str, recipients: list[str]) -> dict[str, str]:
        raise TransportError("127.0.0.1:25: ConnectionRefusedError", permanent=False, stage="connect")


def test_a_long_relay_outage_loses_no_email(inbox: Instance) -> None:
    with inbox.app.sessions.begin() as session:
        for row in session.scalars(select(OutboxMessage)):
            row.state = "pending"
    for tick in range(120):  # two hours of one-minute ticks against a dead relay
        dispatch_pending(inbox.app.sessions, _DownTransport(), inbox.clock.now() + timedelta(minutes=tick))
    with inbox.app.sessions() as session:
        assert set(session.scalars(select(OutboxMessage.state))) == {"pending"}



@pytest.mark.mailstack
def test_a_wrong_smtp_password_loses_no_email(mailstack, inbox: Instance) -> None:
    with inbox.app.sessions.begin() as session:
        for row in session.scalars(select(OutboxMessage)):
            row.state = "pending"
    user = mailstack.address("service.example")
    wrong = SmtpTransport("127.0.0.1", mailstack.smtp_plain_port, security="none", username=user,
                          password="wrong", timeout=10)
    dispatch_pending(inbox.app.sessions, wrong, inbox.clock.now())
    right = SmtpTransport("127.0.0.1", mailstack.smtp_plain_port, security="none", username=user,
                          password=mailstack.password, timeout=10)
    dispatch_pending(inbox.app.sessions, right, inbox.clock.now())
    with inbox.app.sessions() as session:
        assert set(session.scalars(select(OutboxMessage.state))) == {"sent"}


@pytest.mark.mailstack
def test_a_wrong_imap_password_fails_the_job_and_it_is_tried_again(mailstack, inbox: Instance) -> None:
    user = mailstack.address("service.example")
    mailstack.deliver_lmtp(mail(DSL, in_reply_to=ns1_message_id(inbox)), user)
    settings = load_settings(inbox.home, environ={})

    def app(password: str) -> App:
        return App(settings=settings, clock=inbox.clock, transport_override=MemoryTransport(),
                   source_override=ImapSource("127.0.0.1", mailstack.imap_port, security="none", username=user,
                                              password=password, timeout=10, sleep=lambda _s: None))

    report = run_once(app("wrong"), inbox.at("2026-11-17 10:00"), only=["inbox"])
    assert "login refused" in report.errors["inbox"]
    report = run_once(app(mailstack.password), inbox.at("2026-11-17 10:01"), only=["inbox"])
    assert report.errors == {} and case_state(inbox)[0] == "check_reported"


# --- privacy after the attacks -------------------------------------------------------------------


def test_after_the_attacks_no_name_in_logs_or_subjects_and_no_stranger_emailed(
    inbox: Instance, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    drop = inbox.app.settings.drop_dir
    drop.mkdir(parents=True, exist_ok=True)
    (drop / "names.csv").write_bytes(roll_call(
        mark_row(AVA.forename), mark_row(mark=AVA.surname), mark_row(ref=AVA.surname), mark_row("18/11/2026", "I")))
    (drop / "staff.csv").write_bytes(csv_bytes(["role", "name", "email"],
                                               [["tutor", "Evil\r\nBcc: evil@attacker.example", "evil@attacker.example"]]))
    (drop / "calendar.yaml").write_bytes(CALENDAR_YAML)
    for path in drop.iterdir():
        os.utime(path, (0, 0))
    deliver(inbox, {
        **{name: mail("", f"We visited and saw {AVA.forename} {AVA.surname}, safe and well.", raw_from=lines)
           for name, (lines, _) in FORGED.items()},
        "zero": b"",
        "bounce": _bounce_for_stranger(),
        "police": mail(DSL, f"We saw {AVA.forename} today. We called the police.", in_reply_to=ns1_message_id(inbox)),
        "request": mail(DSL, f"Please could the Service visit {AVA.forename}?"),
    })
    for when in ("2026-11-17 10:00", "2026-11-18 07:35", "2026-11-18 08:35", "2026-11-20 15:45", "2026-11-23 07:05"):
        inbox.tick(when)
    assert not NAME_RE.search(caplog.text), NAME_RE.search(caplog.text)
    rows = inbox.rows()
    assert len(rows) > 5
    for row in rows:
        assert not NAME_RE.search(row.subject), row.subject
    for sent in inbox.outbox_files():
        assert not NAME_RE.search(sent.subject), sent.subject
    with inbox.app.sessions() as session:
        staff = {a.lower() for a in session.scalars(select(StaffMember.email))}
        schools = {s.urn: {a.lower() for a in [*s.attendance_list, *s.dsl_list]} for s in session.scalars(select(School))}
        case_school = {c.id: session.get(Pupil, c.pupil_ref).school_urn for c in session.scalars(select(Case))}
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "outbox.sent")).all()
    assert "evil@attacker.example" not in staff
    for row in rows:  # Service staff, or the registered contacts of the one school the email is about
        urn = row.school_urn or case_school.get(row.case_id)
        allowed = staff | {SERVICE} | schools.get(urn, set())
        assert set(row.to_addrs) | set(row.cc_addrs) <= allowed, (row.kind, row.to_addrs, row.cc_addrs)
    assert len(audit) == len([r for r in rows if r.state in ("sent", "bounced")])


def test_a_case_is_not_closed_or_noted_without_words(inbox: Instance) -> None:
    from click.testing import CliRunner

    from worker.cli import cli

    runner = CliRunner()
    for args, message in ((["cases", "close", "NS-1", "--note", "  "], "must say why"),
                          (["cases", "note", "NS-1", ""], "the note is empty")):
        result = runner.invoke(cli, ["--home", str(inbox.home), *args])
        assert result.exit_code == 2 and message in result.output
    state, events = case_state(inbox)
    assert state != "closed" and "note" not in events
    result = runner.invoke(cli, ["--home", str(inbox.home), "cases", "close", "NS-1", "--note", "Seen at home by DSL"])
    assert result.exit_code == 0 and case_state(inbox)[0] == "closed"
