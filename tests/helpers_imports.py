"""Small project-held data for the import tests: a synthetic roster and exports built in code.

UPNs are from the synthetic fixtures (local authority 999, which does not exist), names are
invented, addresses use .example domains.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from worker.attendance.codes import codebook_at
from worker.db.session import make_engine, migrate, session_factory

REPO = Path(__file__).resolve().parents[1]
RULES = REPO / "rules"
AT = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)

# (pupil_ref, upn, forename, surname): valid DfE check letters, LA 999
P1 = ("10001", "A999432714589", "Zoë", "O'Brien-Hale")
P2 = ("10002", "", "Ana", "Lăcătuș")  # no UPN yet (new arrival)
P3 = ("10003", "L999435615891", "Sam", "Smith, Jr")  # a comma inside the surname

ROLL_CALL_HEADER = ["Student", "UPN", "Arbor Student ID", "Date", "Roll Call", "Mark",
                    "Mark Description", "Minutes Late", "Note"]
LESSONS_HEADER = ["Student", "UPN", "Arbor Student ID", "Date", "Start", "End", "Register",
                  "Mark", "Minutes Late", "Note"]


def codebook():
    return codebook_at(str(RULES))


def csv_bytes(header: list[str], rows: list[list[str]], *, bom: bool = False, crlf: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = out.getvalue().encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if bom else data


def student(pupil: tuple[str, str, str, str]) -> str:
    return f"{pupil[3]}, {pupil[2]}"


def roll_row(pupil, day: str, session: str, mark: str, late: str = "", note: str = "") -> list[str]:
    return [student(pupil), pupil[1], pupil[0], day, session, mark, "", late, note]


def lesson_row(pupil, day: str, start: str, end: str, register: str, mark: str) -> list[str]:
    return [student(pupil), pupil[1], pupil[0], day, start, end, register, mark, "", ""]


def schools_csv() -> bytes:
    return csv_bytes(
        ["urn", "name", "attendance_email", "dsl_email", "domains", "certificate_day", "delivery"],
        [
            ["900001", "Alderbank Primary School", "office@alderbank.example", "dsl@alderbank.example",
             "alderbank.example", "Friday", "per_school"],
            ["900002", "Birchwood Academy", "attendance@birchwood.example", "",
             "birchwood.example;birch-trust.example", "Thursday", "per_pupil"],
        ],
    )


def staff_csv() -> bytes:
    return csv_bytes(
        ["role", "name", "email"],
        [
            ["dsl", "Dee Ess", "dee.ess@service.example"],
            ["attendance_lead", "Al Lead", "al.lead@service.example"],
            ["tutor", "Tess Tutor", "tess.tutor@service.example"],
        ],
    )


def pupils_csv() -> bytes:
    header = ["pupil_ref", "upn", "forename", "surname", "date_of_birth", "main_school_urn",
              "key_tutor_email", "safeguarding_risk", "registration", "start_date", "end_date"]
    return csv_bytes(
        header,
        [
            [P1[0], P1[1], P1[2], P1[3], "01/02/2014", "900001", "tess.tutor@service.example",
             "yes", "K", "03/09/2026", ""],
            [P2[0], P2[1], P2[2], P2[3], "15/06/2012", "900002", "tess.tutor@service.example",
             "no", "D", "09/11/2026", ""],
            [P3[0], P3[1], P3[2], P3[3], "30/11/2010", "900002", "gone.tutor@service.example",
             "no", "K", "03/09/2026", "13/11/2026"],
        ],
    )


def timetables_csv() -> bytes:
    rows = []
    for pupil in (P1, P2):
        for day in ("Mon", "Tue", "Wed", "Thu", "Fri"):
            for session in ("AM", "PM"):
                place = "service" if session == "AM" else "main_school"
                rows.append([pupil[0], day, session, place, "03/09/2026", ""])
    return csv_bytes(["pupil_ref", "weekday", "session", "place", "valid_from", "valid_to"], rows)


CALENDAR_YAML = b"""\
service: Test Service
timezone: Europe/London
terms:
  - name: Autumn 2026
    start: 2026-09-03
    end: 2026-12-18
    half_terms:
      - start: 2026-10-26
        end: 2026-10-30
closures:
  - date: 2026-11-20
    reason: INSET day
"""


def roster_files(tmp: Path) -> list[Path]:
    """The small roster written to disk, in shell-glob order (pupils before schools)."""
    files = {
        "pupils.csv": pupils_csv(),
        "schools.csv": schools_csv(),
        "staff.csv": staff_csv(),
        "timetables.csv": timetables_csv(),
        "calendar.yaml": CALENDAR_YAML,
    }
    out = []
    for name, data in files.items():
        path = tmp / name
        path.write_bytes(data)
        out.append(path)
    return out


def make_db(tmp: Path):
    engine = make_engine(f"sqlite:///{tmp / 'test.db'}")
    migrate(engine)
    return session_factory(engine)
