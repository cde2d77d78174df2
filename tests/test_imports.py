"""The pure import core: reading bytes, columns, values, UPNs and row defects (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.helpers_imports import (
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
    roll_row,
)
from worker.attendance.marks import load_session_rules
from worker.errors import ImportFileError
from worker.imports.columns import load_column_rules
from worker.imports.csvread import records
from worker.imports.defects import BadValue
from worker.imports.parse import Known, PupilKey, detect_kind, parse_file
from worker.imports.upn import CHECK_LETTERS, check_letter, is_valid_upn
from worker.imports.values import parse_date, parse_minutes, parse_time

RULESET = load_column_rules(str(RULES))
WINDOWS = load_session_rules(RULES).windows
KNOWN = Known(
    {p[0]: PupilKey(p[0], p[1] or None, p[2], p[3]) for p in (P1, P2, P3)},
    frozenset({"900001", "900002"}),
)
PUPIL_NAMES = [part for p in (P1, P2, P3) for part in (p[2], p[3])]


def parse(data: bytes, name: str = "export.csv", kind: str | None = None):
    return parse_file(name, data, rules=RULESET, codebook=codebook(), known=KNOWN,
                      windows=WINDOWS, kind=kind)


def found(parsed) -> list[tuple[int, str, str | None, str | None]]:
    return [(d.line, d.defect, d.field, d.value) for d in parsed.errors]


# --- reading bytes ------------------------------------------------------------------------------


def test_bom_crlf_quotes_and_a_newline_inside_a_quoted_field():
    data = (
        b"\xef\xbb\xbfa,b,c\r\n"
        b'"Smith, Jr",plain,"she said ""hi"""\r\n'
        b'x,"two\r\nlines",z\r\n'
        b"\r\n"
        b"last,row,here\r\n"
    )
    got = [(r.line, r.fields) for r in records(data)]
    assert got == [
        (1, ["a", "b", "c"]),
        (2, ["Smith, Jr", "plain", 'she said "hi"']),
        (3, ["x", "two\nlines", "z"]),
        (6, ["last", "row", "here"]),
    ]


def test_one_windows_1252_byte_spoils_only_its_own_line():
    data = "h1,h2\nok,caf\u00e9\n".encode() + b"bad,she\x92s\nok2,fine\n"
    got = list(records(data))
    assert [r.bad_bytes for r in got] == [False, False, True, False]
    assert got[1].fields == ["ok", "caf\u00e9"]
    assert got[2].raw == "bad,she\\x92s"
    assert got[3].fields == ["ok2", "fine"]


def test_an_unbalanced_quote_does_not_swallow_the_rest_of_the_file():
    data = b'a,b,c\n"broken,1,2\nx,y,z\np,q,r\n'
    width = [None]
    got = []
    for rec in records(data, lambda: width[0]):
        width[0] = 3
        got.append((rec.line, len(rec.fields)))
    assert got[0] == (1, 3)
    assert (3, 3) in got and (4, 3) in got
    assert got[1][0] == 2


# --- values -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "defect"),
    [("31/02/2026", "impossible_date"), ("2026-11-18", "iso_date"), ("18.11.2026", "bad_date"),
     ("18/11/26", "bad_date")],
)
def test_bad_dates(text, defect):
    with pytest.raises(BadValue) as info:
        parse_date(text)
    assert info.value.defect == defect


def test_good_values():
    assert parse_date("03/09/2026") == date(2026, 9, 3)
    assert parse_time("9:05") == "09:05"
    assert parse_minutes("10") == 10
    with pytest.raises(BadValue):
        parse_minutes("ten")
    with pytest.raises(BadValue):
        parse_time("25:00")


# --- UPN ---------------------------------------------------------------------------------------


FIXTURE_UPNS = ["A999432714589", "L999435615891", "P999238820966", "J999233922701", "N999432715079"]


@pytest.mark.parametrize("upn", FIXTURE_UPNS)
def test_valid_upns_pass_and_every_other_check_letter_fails(upn):
    assert is_valid_upn(upn)
    assert check_letter(upn[1:]) == upn[0]
    for letter in CHECK_LETTERS:
        if letter != upn[0]:
            assert not is_valid_upn(letter + upn[1:])


def test_upn_shape():
    assert not is_valid_upn("A99943271458")  # 12 characters
    assert not is_valid_upn("1999432714589")
    # a transposition of two digits changes the weighted sum
    assert not is_valid_upn("A999423714589")


# --- columns ------------------------------------------------------------------------------------


def test_header_variant_from_columns_yaml_is_recognised():
    header = ["arbor student id", "  Session ", "Date", "Code", "Student Name", "Notes", "Mins Late",
              "Extra Arbor column"]
    data = csv_bytes(header, [[P1[0], "am", "16/11/2026", "I01", f"{P1[3]}, {P1[2]}", "unwell", "", "x"]])
    parsed = parse(data)
    assert parsed.kind == "roll_call"
    assert found(parsed) == []
    (row,) = parsed.rows
    assert (row.pupil_ref, row.session, row.mark, row.note) == (P1[0], "AM", "I", "unwell")
    infos = [d for d in parsed.defects if not d.is_error]
    assert [(d.defect, d.field) for d in infos] == [("unused_column", "Extra Arbor column")]


def test_unrecognised_header_is_a_file_error():
    with pytest.raises(ImportFileError, match="not recognised"):
        parse(csv_bytes(["foo", "bar"], [["1", "2"]]))
    with pytest.raises(ImportFileError, match="Roll Call"):
        parse(csv_bytes(["Student", "Arbor Student ID", "Date", "Mark"], []), kind="roll_call")
    with pytest.raises(ImportFileError, match="empty"):
        parse(b"")


def test_detect_kind():
    assert detect_kind("cal.yaml", CALENDAR_YAML, RULESET) == "calendar"
    assert detect_kind("x.csv", csv_bytes(LESSONS_HEADER, []), RULESET) == "lessons"
    assert detect_kind("x.csv", csv_bytes(ROLL_CALL_HEADER, [], bom=True, crlf=True), RULESET) == "roll_call"


# --- roll-call rows ------------------------------------------------------------------------------


def test_roll_call_defects_each_on_their_own_line():
    rows = [
        roll_row(P1, "16/11/2026", "AM", "/"),  # 2 good
        roll_row(P2, "16/11/2026", "AM", "I01", note='said "unwell", stayed home'),  # 3 good, blank UPN
        roll_row(P1, "16/11/2026", "PM", "H"),  # 4 withdrawn code
        roll_row(P1, "17/11/2026", "EVE", "/"),  # 5 unknown roll call
        roll_row(P1, "17/11/2026", "AM", "L", late="ten"),  # 6 minutes late
        roll_row(P1, "17/11/2026", "PM", ""),  # 7 blank mark
        ["Someone, Else", P1[1], P1[0], "18/11/2026", "AM", "/", "", "", ""],  # 8 name
        [f"{P1[3]}, {P1[2]}", "L999435615891", P1[0], "18/11/2026", "PM", "/", "", "", ""],  # 9 UPN
        ["Nobody, Known", "", "99999", "18/11/2026", "AM", "/", "", "", ""],  # 10 unknown pupil
        roll_row(P3, "19/11/2026", "AM", "Y"),  # 11 plain Y is withdrawn
        roll_row(P3, "19/11/2026", "PM", "L", late="5"),  # 12 good
    ]
    parsed = parse(csv_bytes(ROLL_CALL_HEADER, rows, bom=True, crlf=True))
    assert found(parsed) == [
        (4, "unknown_code", "Mark", "H"),
        (5, "unknown_roll_call", "Roll Call", "EVE"),
        (6, "bad_minutes_late", "Minutes Late", "ten"),
        (7, "blank_mark", "Mark", ""),
        (8, "name_mismatch", "Student", "Someone, Else"),
        (9, "upn_mismatch", "UPN", "L999435615891"),
        (10, "unknown_pupil", "Arbor Student ID", "99999"),
        (11, "unknown_code", "Mark", "Y"),
    ]
    assert [(r.line, r.mark, r.minutes_late) for r in parsed.rows] == [(2, "/", None), (3, "I", None), (12, "L", 5)]
    assert parsed.rows[1].note == 'said "unwell", stayed home'
    assert parsed.rows_read == 11 and len(parsed.rejected) == 8
    text = "\n".join(d.text() for d in parsed.defects)
    assert "withdrawn" in text and "row kept for review" in text
    for name in PUPIL_NAMES + ["Someone", "Nobody"]:
        assert name not in text


def test_missing_and_extra_columns_are_named():
    rows = [
        [f"{P1[3]}, {P1[2]}", P1[1], P1[0], "16/11/2026", "/", "Present (AM)", "", ""],  # no Roll Call
        [f"{P1[3]}, {P1[2]}", P1[1], P1[0], "16/11/2026", "AM", "/", "Present (AM)", ""],  # no Note
        roll_row(P1, "16/11/2026", "PM", "M") + ["SURPLUS"],
        [f"{P1[3]}, {P1[2]}", P1[1], P1[0], "X", "17/11/2026", "AM", "/", "", "", ""],  # extra inside
    ]
    parsed = parse(csv_bytes(ROLL_CALL_HEADER, rows))
    assert found(parsed) == [
        (2, "missing_column", "Roll Call", None),
        (3, "missing_column", "Note", None),
        (4, "extra_column", None, "SURPLUS"),
        (5, "extra_column", None, "X"),
    ]
    assert parsed.rows == []


def test_not_utf8_names_the_column_and_escapes_the_raw_line():
    good = csv_bytes(ROLL_CALL_HEADER, [roll_row(P2, "16/11/2026", "AM", "I")], bom=True, crlf=True)
    bad = f'"{P1[3]}, {P1[2]}",{P1[1]},{P1[0]},16/11/2026,AM,I,,,'.encode() + b"Mum said she\x92s ill\r\n"
    parsed = parse(good + bad)
    assert found(parsed) == [(3, "not_utf8", "Note", "byte 0x92 (Windows-1252 apostrophe)")]
    assert parsed.rejected[0].raw.endswith("Mum said she\\x92s ill")
    assert len(parsed.rows) == 1


# --- lessons -------------------------------------------------------------------------------------


def test_lessons_outside_the_windows_are_kept_and_noted():
    rows = [
        lesson_row(P1, "23/11/2026", "09:00", "09:50", "Maths", "N"),
        lesson_row(P1, "23/11/2026", "12:15", "12:40", "Lunch club", "/"),
        lesson_row(P1, "23/11/2026", "13:00", "12:00", "Art", "/"),
    ]
    parsed = parse(csv_bytes(LESSONS_HEADER, rows, bom=True, crlf=True))
    assert parsed.kind == "lessons"
    assert [(r.start, r.register) for r in parsed.rows] == [("09:00", "Maths"), ("12:15", "Lunch club")]
    notes = [(d.line, d.defect, d.field) for d in parsed.defects if not d.is_error]
    assert notes == [(3, "outside_windows", "Start")]
    assert found(parsed) == [(4, "bad_time", "End", "12:00")]


# --- roster ------------------------------------------------------------------------------------


def test_pupil_rows_check_upn_school_and_choices():
    header = ["pupil_ref", "upn", "forename", "surname", "date_of_birth", "main_school_urn",
              "key_tutor_email", "safeguarding_risk", "registration", "start_date", "end_date"]
    rows = [
        ["1", "A999432714589", "A", "B", "01/01/2014", "900001", "t@service.example", "yes", "K", "03/09/2026", ""],
        ["2", "B999432714589", "A", "B", "01/01/2014", "900001", "", "no", "D", "", ""],
        ["3", "", "A", "B", "01/01/2014", "123456", "", "no", "K", "", ""],
        ["4", "", "A", "B", "01/01/2014", "900001", "", "maybe", "Q", "", ""],
        ["5", "", "A", "B", "01/01/2014", "900001", "", "no", "K", "10/10/2026", "01/10/2026"],
    ]
    parsed = parse(csv_bytes(header, rows), name="pupils.csv")
    assert parsed.kind == "pupils"
    assert [(line, defect, field) for line, defect, field, _ in found(parsed)] == [
        (3, "bad_upn", "upn"),
        (4, "unknown_school", "main_school_urn"),
        (5, "unknown_value", "safeguarding_risk"),
        (5, "unknown_value", "registration"),
        (6, "end_before_start", "end_date"),
    ]
    (row,) = parsed.rows
    assert row.safeguarding_risk is True and row.start_date == date(2026, 9, 3) and row.end_date is None


def test_timetable_weekdays_and_places():
    header = ["pupil_ref", "weekday", "session", "place", "valid_from", "valid_to"]
    rows = [
        [P1[0], "Wed", "PM", "none", "03/09/2026", "13/11/2026"],
        [P1[0], "Sat", "AM", "service", "03/09/2026", ""],
        [P1[0], "Mon", "AM", "hospital", "03/09/2026", ""],
        ["424242", "Mon", "AM", "service", "03/09/2026", ""],
    ]
    parsed = parse(csv_bytes(header, rows), name="timetables.csv")
    assert [(r.weekday, r.session, r.place) for r in parsed.rows] == [(2, "PM", "none")]
    assert [(line, defect) for line, defect, _, _ in found(parsed)] == [
        (3, "unknown_value"), (4, "unknown_value"), (5, "unknown_pupil"),
    ]


def test_calendar():
    parsed = parse(CALENDAR_YAML, name="calendar.yaml")
    assert [(p.kind, p.start, p.end) for p in parsed.rows] == [
        ("term", date(2026, 9, 3), date(2026, 12, 18)),
        ("half_term", date(2026, 10, 26), date(2026, 10, 30)),
        ("closure", date(2026, 11, 20), date(2026, 11, 20)),
    ]
    assert parsed.rows[2].name == "INSET day"
    with pytest.raises(ImportFileError, match="half_terms"):
        parse(CALENDAR_YAML.replace(b"2026-10-30", b"2027-10-30"), name="calendar.yaml")
    with pytest.raises(ImportFileError, match="not a date"):
        parse(CALENDAR_YAML.replace(b"2026-11-20", b"20/11/2026"), name="calendar.yaml")
