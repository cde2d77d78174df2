"""A worker instance on a temporary home for end-to-end tests: import, tick, read what was sent.

`Instance` wraps `App(settings=load_settings(home), clock=FixedClock(...))` and runs the real
`run_once` at replayed local times, the way `attendance-courier run --once --at ...` does.
Outgoing mail goes to the default DirectoryTransport (`.eml` files in `outbox/`) unless a
transport is handed in.

`MiniData` is a small project-held data set (autumn 2026 calendar, three Main Schools, five
pupils on full-time Service timetables), built as CSV bytes, so the case, digest and prompt
tests need nothing from ../shared. Names are invented, addresses use .example, and UPNs use
local authority 999, which no English local authority has.
"""

from __future__ import annotations

import email
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tests.helpers_imports import CALENDAR_YAML, ROLL_CALL_HEADER
from tests.helpers_imports import csv_bytes as roster_or_export_bytes
from worker.app import App
from worker.clock import FixedClock, local, parse_local
from worker.config import load_settings
from worker.db.models import Case, CaseEvent, OutboxMessage
from worker.imports import import_bytes, import_paths
from worker.service import TickReport, run_once

SERVICE_MAILBOX = "attendance@service.example"


# --- reading what was sent --------------------------------------------------------------------


def parse_eml(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


def addresses(msg: EmailMessage, header: str) -> list[str]:
    """Bare addresses of a header, lower-cased, in order."""
    values = msg.get_all(header) or []
    return [addr.lower() for _, addr in getaddresses([str(v) for v in values]) if addr]


def sent_at(msg: EmailMessage) -> datetime:
    return parsedate_to_datetime(str(msg["Date"]))


def plain_body(msg: EmailMessage) -> str:
    """The text part with plain newlines (the bytes on the wire end lines with CRLF)."""
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content().replace("\r\n", "\n") if part is not None else ""


def html_body(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("html",))
    return part.get_content().replace("\r\n", "\n") if part is not None else ""


def attachment_names(msg: EmailMessage) -> list[str]:
    return [part.get_filename() or "" for part in msg.iter_attachments()]


@dataclass
class Sent:
    """One email as the recipient would see it, with the file it came from."""

    name: str
    msg: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.msg["Subject"])

    @property
    def date(self) -> datetime:
        return sent_at(self.msg)

    @property
    def local_day(self) -> date:
        return local(self.date).date()

    @property
    def to(self) -> list[str]:
        return addresses(self.msg, "To")

    @property
    def cc(self) -> list[str]:
        return addresses(self.msg, "Cc")

    @property
    def text(self) -> str:
        return plain_body(self.msg)

    @property
    def html(self) -> str:
        return html_body(self.msg)

    @property
    def attachments(self) -> list[str]:
        return attachment_names(self.msg)


# --- the instance -------------------------------------------------------------------------------


class BaseInstance:
    """What every test instance (this module's and tests/helpers_e2e.py's) does the same way: set
    the clock, tick, import, read rows back. The subclass holds `app`, `clock` and `reports`."""

    app: App
    clock: FixedClock
    reports: list[TickReport]

    def at(self, when: str | datetime) -> datetime:
        at = parse_local(when) if isinstance(when, str) else when
        self.clock.set(at)
        return at

    def tick(self, when: str | datetime, only: list[str] | None = None, *, allow_errors: bool = False) -> TickReport:
        """One `run --once --at WHEN`; a failing job fails the test unless allowed."""
        at = self.at(when)
        report = run_once(self.app, at, only=only)
        self.reports.append(report)
        if report.errors and not allow_errors:
            raise AssertionError(f"jobs failed at {when}: {report.errors}")
        return report

    def import_paths(self, paths: list[Path], when: str | datetime | None = None):
        at = self.at(when) if when is not None else self.clock.now()
        results = import_paths(paths, self.app.sessions, self.app.codebook, self.app.rules_dir, at)
        bad = [r.summary() for r in results if not r.ok]
        assert not bad, bad
        return results

    # reading the database --------------------------------------------------------------------
    def _all(self, query) -> list[Any]:
        with self.app.sessions() as session:
            rows = list(session.scalars(query))
            session.expunge_all()
            return rows

    def cases(self) -> list[Case]:
        return self._all(select(Case).order_by(Case.id))

    def events(self, case_id: int | None = None) -> list[CaseEvent]:
        query = select(CaseEvent).order_by(CaseEvent.id)
        if case_id is not None:
            query = query.where(CaseEvent.case_id == case_id)
        return self._all(query)

    def outbox(self, **where: Any) -> list[OutboxMessage]:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        return self._all(query)

    rows = outbox  # the name the MiniData tests use


@dataclass
class Instance(BaseInstance):
    home: Path
    app: App
    clock: FixedClock
    reports: list[TickReport] = field(default_factory=list)

    def import_bytes(self, name: str, data: bytes, when: str | datetime | None = None):
        at = self.at(when) if when is not None else self.clock.now()
        result = import_bytes(name, data, self.app.sessions, self.app.codebook, self.app.rules_dir, at,
                              source="cli")
        assert result.ok, result.summary()
        assert not result.defects, [d.text() for d in result.defects]
        return result

    # what went out ------------------------------------------------------------------------
    def outbox_files(self) -> list[Sent]:
        folder = self.app.settings.outbox_dir
        if not folder.is_dir():
            return []
        return [Sent(p.name, parse_eml(p.read_bytes())) for p in sorted(folder.glob("*.eml"))]

    def memory_sent(self) -> list[Sent]:
        transport = self.app.transport
        return [Sent(f"memory-{i}", parse_eml(m.raw)) for i, m in enumerate(transport.sent)]

    def case_for(self, pupil_ref: str) -> Case | None:
        found = [c for c in self.cases() if c.pupil_ref == pupil_ref]
        return found[-1] if found else None


def make_instance(
    home: Path, *, start: str = "2026-11-02 06:00", transport: Any = None, config: str = ""
) -> Instance:
    """A fresh instance folder with an optional config.toml; the database is created on first use."""
    home.mkdir(parents=True, exist_ok=True)
    if config:
        (home / "config.toml").write_text(config, encoding="utf-8")
    clock = FixedClock(parse_local(start))
    app = App(settings=load_settings(home, environ={}), clock=clock, transport_override=transport)
    return Instance(home=home, app=app, clock=clock)


def weekdays(first: date, last: date) -> list[date]:
    days, day = [], first
    while day <= last:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


# --- small project-held data -------------------------------------------------------------------

def _upn(serial: int) -> str:
    from worker.imports.upn import check_letter

    digits = f"9992001{26:02d}{serial:03d}"
    return check_letter(digits) + digits


def csv_bytes(header: list[str], rows: list[list[str]], *, arbor: bool = False) -> bytes:
    """An Arbor export (byte-order mark, CRLF) when `arbor`, else a roster file (UTF-8, LF)."""
    return roster_or_export_bytes(header, rows, bom=arbor, crlf=arbor)


@dataclass(frozen=True)
class MiniSchool:
    urn: str
    name: str
    attendance: str
    dsl: str
    domains: str
    certificate_day: str = "Friday"
    delivery: str = "per_school"


@dataclass(frozen=True)
class MiniPupil:
    ref: str
    upn: str
    forename: str
    surname: str
    school: str
    tutor: str
    risk: bool
    start: str = "03/09/2026"
    end: str = ""


class MiniData:
    """Three schools: Ashby (all contacts), Brook (no DSL address), Cedar (no address at all)."""

    schools = (
        MiniSchool("900101", "Ashby Primary School", "office@ashby.example", "dsl@ashby.example",
                   "ashby.example"),
        MiniSchool("900102", "Brook Academy", "attendance@brook.example", "", "brook.example",
                   "Thursday", "per_pupil"),
        MiniSchool("900103", "Cedar High School", "", "", "cedar.example"),
    )
    staff = (
        ("dsl", "Dana Warden", "dana.warden@service.example"),
        ("deputy_dsl", "Dev Warden", "dev.warden@service.example"),
        ("attendance_lead", "Alma Register", "alma.register@service.example"),
        ("service_manager", "Sol Manager", "sol.manager@service.example"),
        ("tutor", "Tia Tutor", "tia.tutor@service.example"),
        ("tutor", "Theo Tutor", "theo.tutor@service.example"),
    )
    pupils = (
        MiniPupil("20001", _upn(1), "Ava", "Quill", "900101", "tia.tutor@service.example", True),
        MiniPupil("20002", _upn(2), "Ben", "Rook", "900101", "theo.tutor@service.example", False),
        MiniPupil("20003", _upn(3), "Cara", "Sedge", "900103", "tia.tutor@service.example", False),
        MiniPupil("20004", _upn(4), "Dan", "Thorn", "900102", "theo.tutor@service.example", False),
        MiniPupil("20005", _upn(5), "Eve", "Umber", "900101", "tia.tutor@service.example", False),
    )

    def __init__(self) -> None:
        self.ends: dict[str, str] = {}

    def pupil(self, ref: str) -> MiniPupil:
        return next(p for p in self.pupils if p.ref == ref)

    def school(self, urn: str) -> MiniSchool:
        return next(s for s in self.schools if s.urn == urn)

    def schools_csv(self) -> bytes:
        return csv_bytes(
            ["urn", "name", "attendance_email", "dsl_email", "domains", "certificate_day", "delivery"],
            [[s.urn, s.name, s.attendance, s.dsl, s.domains, s.certificate_day, s.delivery]
             for s in self.schools],
        )

    def staff_csv(self) -> bytes:
        return csv_bytes(["role", "name", "email"], [list(row) for row in self.staff])

    def pupils_csv(self) -> bytes:
        header = ["pupil_ref", "upn", "forename", "surname", "date_of_birth", "main_school_urn",
                  "key_tutor_email", "safeguarding_risk", "registration", "start_date", "end_date"]
        return csv_bytes(header, [
            [p.ref, p.upn, p.forename, p.surname, "01/03/2013", p.school, p.tutor,
             "yes" if p.risk else "no", "K", p.start, self.ends.get(p.ref, p.end)]
            for p in self.pupils
        ])

    def timetables_csv(self) -> bytes:
        rows = [
            [p.ref, day, session, "service", "03/09/2026", ""]
            for p in self.pupils for day in ("Mon", "Tue", "Wed", "Thu", "Fri") for session in ("AM", "PM")
        ]
        return csv_bytes(["pupil_ref", "weekday", "session", "place", "valid_from", "valid_to"], rows)

    def roll_call_csv(self, marks: list[tuple[str, date, str, str, str]]) -> bytes:
        """marks: (pupil_ref, day, AM|PM, code, note)."""
        rows = []
        for ref, day, session, code, note in marks:
            p = self.pupil(ref)
            rows.append([f"{p.surname}, {p.forename}", p.upn, p.ref, day.strftime("%d/%m/%Y"), session,
                         code, "", "", note])
        return csv_bytes(ROLL_CALL_HEADER, rows, arbor=True)

    def load_roster(self, inst: Instance) -> None:
        inst.import_bytes("calendar.yaml", CALENDAR_YAML)
        inst.import_bytes("schools.csv", self.schools_csv())
        inst.import_bytes("staff.csv", self.staff_csv())
        inst.import_bytes("pupils.csv", self.pupils_csv())
        inst.import_bytes("timetables.csv", self.timetables_csv())


def school_days_2026(first: date, last: date) -> list[date]:
    """Service school days of the mini calendar (no bank holidays in autumn 2026)."""
    closed = {date(2026, 11, 20)} | {date(2026, 10, 26) + timedelta(days=i) for i in range(5)}
    return [d for d in weekdays(first, last) if d not in closed and date(2026, 9, 3) <= d <= date(2026, 12, 18)]


def attendance(
    refs: list[str], first: date, last: date, *, absent_from: dict[str, date] | None = None,
    code: str = "O", note: str = "No contact with family",
) -> list[tuple[str, date, str, str, str]]:
    """Marks for every school day: present (/ AM, \\ PM), or `code` from the pupil's absent_from day on."""
    absent_from = absent_from or {}
    marks = []
    for day in school_days_2026(first, last):
        for ref in refs:
            gone = ref in absent_from and day >= absent_from[ref]
            for session in ("AM", "PM"):
                if gone:
                    marks.append((ref, day, session, code, note))
                else:
                    marks.append((ref, day, session, "/" if session == "AM" else "\\", ""))
    return marks


def mini_instance(
    home: Path, *, absent_from: dict[str, date] | None = None, data_to: date = date(2026, 12, 4),
    start: str = "2026-11-02 06:00", transport: Any = None, config: str = "",
    code: str = "O", note: str = "No contact with family",
) -> tuple[Instance, MiniData]:
    """An instance with the mini roster and roll-call marks from 2 Nov to `data_to`."""
    inst = make_instance(home, start=start, transport=transport, config=config)
    data = MiniData()
    data.load_roster(inst)
    refs = [p.ref for p in data.pupils]
    marks = attendance(refs, date(2026, 11, 2), data_to, absent_from=absent_from, code=code, note=note)
    inst.import_bytes("roll_call_2026-11-02.csv", data.roll_call_csv(marks))
    return inst, data


def ticks(inst: Instance, days: list[date], times: tuple[str, ...], **kw: Any) -> None:
    for day in days:
        for hhmm in times:
            inst.tick(f"{day.isoformat()} {hhmm}", **kw)
