"""A small invented data set for the demo and for tests that must run without `../shared`.

Spring term 2027 (Mon 4 Jan - Thu 25 Mar; Good Friday 26 Mar is a bank holiday), half term
15-19 Feb, one INSET closure on Fri 29 Jan. The data covers Mon 4 Jan - Fri 5 Feb 2027, so the
data starts on the first day of the term and no school day before it goes uncounted.

The files use exactly the layouts of the steering team's fixtures (one importer reads both):
roster CSVs in UTF-8 with LF, Arbor exports in UTF-8 with a byte-order mark and CRLF, dates
DD/MM/YYYY, calendar.yaml with ISO dates. Every person, school and identifier is invented;
email domains end in `.example`; UPNs use local authority 999, which no authority has.

Deterministic: the same seed gives byte-identical files (only `random.Random(seed)` is used,
never the global generator or the clock). The seed only varies noise that cannot change who
is seen on which day (which lesson, which note, minutes late, a one-session absence on a day
with another session present), so the scenario dates hold for every seed; they are computed
from the generated marks with the Service's rules, never written down by hand.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from worker.attendance.calendar import DateRange, ServiceCalendar
from worker.attendance.notseen import Episode, Thresholds, not_seen_status
from worker.attendance.world import PupilInfo
from worker.clock import LONDON
from worker.errors import CourierError

# --- the story -------------------------------------------------------------------------------

SERVICE_NAME = "Hospital and Medical Needs Education Service (demo)"
SERVICE_DOMAIN = "mnhes.example"
SERVICE_MAILBOX = f"attendance@{SERVICE_DOMAIN}"

TERM = DateRange(date(2027, 1, 4), date(2027, 3, 25), "Spring 2027")
HALF_TERM = DateRange(date(2027, 2, 15), date(2027, 2, 19))
CLOSURES = (DateRange(date(2027, 1, 29), date(2027, 1, 29), "INSET day (staff training)"),)

DATA_FROM = date(2027, 1, 4)
DATA_TO = date(2027, 2, 5)
# Two overlapping roll-call exports: the newer one changes marks of the week of 25 Jan,
# whose certificates were due on Thu 28 Jan (the INSET Friday moves Friday schools to Thursday).
EXPORT_1 = (date(2027, 1, 4), date(2027, 1, 29))
EXPORT_2 = (date(2027, 1, 25), date(2027, 2, 5))
LESSONS_WEEK = (date(2027, 1, 18), date(2027, 1, 22))
# When the demo should import the newer export: after the week-of-25-Jan certificates went out.
EXPORT_2_IMPORT_AT = datetime(2027, 2, 1, 6, 30, tzinfo=LONDON)

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri")
SESSIONS = ("AM", "PM")
PLACE_LETTERS = {"s": "service", "m": "main_school", "n": "none"}

UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # 23 letters: no I, O or S
LA_NUMBER = "999"  # no English local authority has 999, so no UPN here can be a real child's

# Arbor's descriptions of the codes this data set uses (rules/codes.yaml has the full table).
DESCRIPTIONS = {
    "/": "Present (AM)",
    "\\": "Present (PM)",
    "L": "Late (before registers closed)",
    "I": "Illness (not medical or dental appointment)",
    "M": "Leave of absence: medical or dental appointment",
    "C": "Leave of absence: exceptional circumstances",
    "N": "Reason for absence not yet provided",
    "O": "Absent in other or unknown circumstances",
}
SEEN = frozenset({"/", "\\", "L"})

# The story is written for the shipped rules/thresholds.yaml: an email after 5 unseen school
# days; a welfare check after 5 (safeguarding risk) or 10 (no risk).
THRESHOLDS = Thresholds(not_seen_email=5, welfare_check_risk=5, welfare_check_no_risk=10)


class SampleDataError(CourierError):
    """The generated sample data does not tell the story it is meant to tell."""


@dataclass(frozen=True)
class School:
    urn: str
    name: str
    attendance_email: str
    dsl_email: str
    domains: str
    certificate_day: str
    delivery: str
    establishment: str  # the 4 digits a UPN allocated at this school carries


SCHOOLS = (
    School("990112", "Fellside Primary School", "attendance@fellside-primary.example",
           "dsl@fellside-primary.example", "fellside-primary.example", "Friday", "per_school", "2104"),
    School("990127", "Harrowgate Bridge Academy", "attendance@harrowgate-bridge.example",
           "safeguarding@pennine-learning-trust.example",
           "harrowgate-bridge.example;pennine-learning-trust.example", "Friday", "per_school", "4012"),
    School("990135", "St Aidan's Church of England Primary School", "office@st-aidans-ce.example",
           "dsl@st-aidans-ce.example", "st-aidans-ce.example", "Thursday", "per_school", "3317"),
    School("990148", "Calder Heights High School", "attendance@calder-heights.example",
           "dsl@calder-heights.example", "calder-heights.example", "Friday", "per_pupil", "4158"),
    # No DSL address on record: a data gap the product must report, never guess.
    School("990153", "Ravensworth Community School", "attendance@ravensworth-school.example",
           "", "ravensworth-school.example", "Friday", "per_school", "4226"),
)

STAFF = (
    ("dsl", "Olivia Marsden"),
    ("deputy_dsl", "Kwame Asante"),
    ("attendance_lead", "Bożena Nowicka"),
    ("service_manager", "Martin Crowther"),
    ("tutor", "Aisling Byrne"),
    ("tutor", "Farhan Iqbal"),
    ("tutor", "Megan Lloyd-Davies"),
    ("tutor", "Tariq Osei"),
)


def staff_email(name: str) -> str:
    """'Bożena Nowicka' -> 'bozena.nowicka@mnhes.example' (ASCII local part)."""
    ascii_name = name.lower().replace("ż", "z").replace("ł", "l").replace(" ", ".")
    return f"{ascii_name}@{SERVICE_DOMAIN}"


TUTORS = tuple(staff_email(name) for role, name in STAFF if role == "tutor")


@dataclass(frozen=True)
class PupilSpec:
    ref: str
    forename: str
    surname: str
    urn: str
    tutor: int  # index into TUTORS
    risk: bool
    registration: str
    start: date
    end: date | None
    age: int  # in years on 1 Sep 2026
    # Timetable periods: (valid_from, valid_to, "Mon Tue Wed Thu Fri" as AM/PM place letters).
    timetable: tuple[tuple[date, date | None, str], ...]
    has_upn: bool = True


def _tt(start: date, pattern: str, end: date | None = None) -> tuple[tuple[date, date | None, str], ...]:
    return ((start, end, pattern),)


D = date  # short alias for the tables below
PUPILS = (
    PupilSpec("52806", "Kieran", "O'Donoghue", "990127", 0, True, "K", D(2026, 9, 7), None, 13,
              _tt(D(2026, 9, 7), "ss sm ss sm nn")),
    PupilSpec("61342", "Ellis", "Sutcliffe-Ward", "990148", 1, False, "K", D(2026, 11, 2), None, 14,
              _tt(D(2026, 11, 2), "ss ss sn ss sm")),
    PupilSpec("38475", "Nathaniel", "Brook", "990112", 2, True, "K", D(2026, 9, 7), None, 9,
              _tt(D(2026, 9, 7), "ss ss ss ss ss")),
    PupilSpec("47019", "Siobhán", "Kearney", "990135", 3, False, "K", D(2026, 9, 14), None, 8,
              _tt(D(2026, 9, 14), "sn ss sn ss mm")),
    PupilSpec("29563", "Mateusz", "Wróbel", "990153", 0, False, "D", D(2026, 9, 7), None, 12,
              _tt(D(2026, 9, 7), "ss ss mm ss ss")),
    PupilSpec("70214", "Amelia-Rose", "Pickles", "990112", 1, False, "K", D(2026, 10, 12), None, 7,
              _tt(D(2026, 10, 12), "sn mm sn sn mm")),
    PupilSpec("33890", "Dániel", "Szabó", "990127", 2, False, "D", D(2026, 9, 7), None, 15,
              _tt(D(2026, 9, 7), "ss ss ss ss nn")),
    # A new arrival without a UPN yet: matched on the Arbor Student ID alone.
    PupilSpec("84652", "Ioana", "Mure\u0219an", "990153", 3, False, "K", D(2027, 1, 4), None, 11,
              _tt(D(2027, 1, 4), "ss sn ss sn sm"), has_upn=False),
    PupilSpec("56128", "Reuben", "Ogunleye", "990135", 0, False, "K", D(2027, 1, 25), None, 6,
              _tt(D(2027, 1, 25), "sn sn sn sn mm")),
    PupilSpec("42397", "Hollie", "Dewhirst", "990148", 1, False, "K", D(2026, 9, 7), D(2027, 1, 22), 13,
              _tt(D(2026, 9, 7), "ss mm ss nn ss", D(2027, 1, 22))),
    PupilSpec("65731", "Zaid", "Rahman", "990112", 2, False, "K", D(2026, 9, 21), None, 10,
              _tt(D(2026, 9, 21), "ss ss ss sm sn")),
    PupilSpec("27946", "Freya", "Lindqvist", "990135", 3, False, "K", D(2026, 9, 7), None, 9,
              _tt(D(2026, 9, 7), "ss ss nn ss ss")),
    PupilSpec("73358", "Théo", "Marchand", "990148", 0, True, "K", D(2026, 9, 7), None, 14,
              ((D(2026, 9, 7), D(2027, 1, 22), "ss ss ss ss sn"),
               (D(2027, 1, 25), None, "sn sm mm sn nn"))),
    PupilSpec("19084", "Hafsa", "Noorani", "990153", 1, False, "K", D(2026, 9, 7), None, 10,
              _tt(D(2026, 9, 7), "mm sn mm sn nn")),
    PupilSpec("58219", "Ruairí", "Gallagher", "990127", 2, False, "K", D(2026, 9, 7), None, 12,
              _tt(D(2026, 9, 7), "ss sm sm ss sn")),
)

# What each scenario pupil is here to show (no names: this text is printed by the demo).
SCENARIOS: dict[str, tuple[tuple[str, ...], str]] = {
    "52806": (("S1", "S9"), "safeguarding risk; last seen Tue 19 Jan, then N/O marks: after 5 school "
              "days the not-seen email and the welfare check are due the same morning; the "
              "newer export turns his N marks of Mon 25 Jan into O (amended certificate)"),
    "61342": (("S2",), "no safeguarding risk; last seen Fri 15 Jan: not-seen email after 5 school "
              "days, welfare check after 10 (the INSET Friday does not count); seen again Thu 4 Feb"),
    "38475": (("S3",), "safeguarding risk, full time; ill (I) Tue 19 - Thu 21 Jan, seen Fri 22 Jan: "
              "3 school days, no case"),
    "47019": (("S6", "S8"), "late (L) marks with minutes late: seen and attended (K for the school); "
              "school's certificate day is Thursday"),
    "29563": (("S12",), "registration D: the Main School records D, not K, when the pupil attended; "
              "school has no DSL address (data gap); an N left pending at the end"),
    "33890": (("S12",), "registration D, at the Service Mon-Thu: the Main School records D "
              "(not K) for attended sessions"),
    "84652": (("S15",), "blank UPN (new arrival): matched on Arbor Student ID"),
    "56128": (("S13",), "starts mid-period on Mon 25 Jan 2027: no rows and no counting before"),
    "42397": (("S14",), "leaves on Fri 22 Jan 2027: no rows and no counting after"),
    "65731": (("S7", "S9"), "week of 25 Jan changes between exports: Mon 25 AM N -> I, "
              "Wed 27 PM N -> M: an amended certificate"),
    "27946": (("S7b",), "week of 25 Jan: Tue 26 AM / -> L (Service mark only: K both times)"),
    "73358": (("S10",), "timetable change: old rows end 22/01/2027, new rows from 25/01/2027 with "
              "more Main School and C2 sessions"),
    "19084": (("S4", "S17"), "Service only Tue AM and Thu AM; a note with a comma and double "
              "quotes; an N still pending at the end"),
    "58219": (("S16",), "a 12:15 lunch-club lesson marked / on a morning marked M: outside both "
              "session windows, ignored; the morning stays not seen"),
}


@dataclass(frozen=True)
class Mark:
    code: str
    note: str = ""
    minutes_late: int | None = None


@dataclass(frozen=True)
class Scripted:
    """A mark the story needs; `first` is the older export's version when it differs."""

    ref: str
    day: date
    session: str
    mark: Mark
    first: Mark | None = None


def _s(ref: str, day: tuple[int, int], sessions: str, code: str, note: str = "",
       minutes: int | None = None, first: Mark | None = None) -> list[Scripted]:
    on = date(2027, *day)
    return [Scripted(ref, on, s, Mark(code, note, minutes), first) for s in sessions.split()]


SCRIPT: tuple[Scripted, ...] = tuple(
    # S1: risk pupil last seen Tue 19 Jan AM (Tue PM is at the Main School).
    _s("52806", (1, 20), "AM", "N", "Tutor to call home")
    + _s("52806", (1, 20), "PM", "O", "No contact with family - tutor called home")
    + _s("52806", (1, 21), "AM", "O", "No contact with family - tutor called twice")
    + _s("52806", (1, 25), "AM PM", "O", "No contact with family - tutor left voicemail",
         first=Mark("N"))
    + _s("52806", (1, 26), "AM", "O", "No contact - letter sent home")
    + _s("52806", (1, 27), "AM", "O", "No contact with family")
    + _s("52806", (1, 27), "PM", "I", "Mum called after the school's visit - unwell")
    + _s("52806", (1, 28), "AM", "I", "Mum called - back on Monday")
    # S2: no-risk pupil last seen Fri 15 Jan AM, seen again Thu 4 Feb.
    + _s("61342", (1, 18), "AM PM", "N")
    + _s("61342", (1, 19), "AM", "O", "No contact - letter sent home")
    + _s("61342", (1, 19), "PM", "O")
    + _s("61342", (1, 20), "AM", "O", "No contact with family - tutor called home")
    + _s("61342", (1, 21), "AM PM", "O")
    + _s("61342", (1, 22), "AM", "O", "No contact with family - tutor left voicemail")
    + _s("61342", (1, 25), "AM PM", "O", "No contact with family")
    + _s("61342", (1, 26), "AM PM", "O")
    + _s("61342", (1, 27), "AM", "O", "No contact - tutor called home twice")
    + _s("61342", (1, 28), "AM PM", "O")
    + _s("61342", (2, 1), "AM PM", "O", "No contact with family")
    + _s("61342", (2, 2), "AM PM", "O")
    + _s("61342", (2, 3), "AM", "O", "No contact - letter sent home")
    # S3: ill three days, then seen.
    + _s("38475", (1, 19), "AM PM", "I", "Parent called - unwell")
    + _s("38475", (1, 20), "AM PM", "I", "Mum called - unwell this morning")
    + _s("38475", (1, 21), "AM PM", "I", "Carer called - he\u2019s unwell today")
    # S6: late marks.
    + _s("47019", (1, 5), "AM", "L", "Taxi late", 12)
    + _s("47019", (1, 11), "AM", "L", "Bus late", 25)
    + _s("47019", (1, 14), "AM", "L", "", 8)
    + _s("47019", (1, 19), "PM", "L", "Hospital transport late", 15)
    + _s("47019", (2, 1), "AM", "L", "Bus late", 32)
    + _s("47019", (2, 4), "AM", "L", "", 6)
    # S7 / S7b: the newer export changes the week of 25 Jan.
    + _s("65731", (1, 25), "AM", "I", "Mum called - unwell", first=Mark("N"))
    + _s("65731", (1, 27), "PM", "M", "Hospital appointment",
         first=Mark("N", "Awaiting call back from parent"))
    + _s("27946", (1, 26), "AM", "L", "Taxi late", 10, first=Mark("/"))
    # S12 / pending at the end: D pupil with an N on the last afternoon.
    + _s("29563", (1, 12), "AM PM", "I", "Dad called - unwell")
    + _s("29563", (2, 5), "PM", "N", "Tutor to call home")
    # S4 / S17: sparse timetable, a note with a comma and double quotes, N at the end.
    + _s("19084", (1, 12), "AM", "I", 'Dad called, said "back on Thursday"')
    + _s("19084", (1, 26), "AM", "C", "Family emergency - agreed by Service Manager")
    + _s("19084", (2, 4), "AM", "N")
    # S16: a morning marked M (the afternoon is at the Main School); lunch club in lessons.
    + _s("58219", (1, 20), "AM", "M", "Hospital appointment")
    # S14: the leaver has one appointment in his last week.
    + _s("42397", (1, 18), "AM", "M", "GP appointment")
)

# Noise: one-session absences only on days with another Service session that stays present,
# so noise never changes whether a pupil was seen on a day.
NOISE_ABSENCES = (
    ("I", ("Parent called - unwell", "Dad called - unwell", "Mum called - had a bad night",
           "Grandparent called - unwell")),
    ("M", ("Hospital appointment", "Dentist appointment", "Clinic appointment",
           "Hospital appointment (letter seen)")),
    ("C", ("Family emergency - agreed by Service Manager",)),
    ("O", ("No contact with family - tutor called home", "")),
)
LATE_NOTES = ("Taxi late", "Bus late", "Hospital transport late", "")
NOISE_ABSENCE_RATE = 0.06
NOISE_LATE_RATE = 0.05

SUBJECTS_AM = ("English", "Maths", "Science", "Reading", "Humanities", "Computing")
SUBJECTS_PM = ("PSHE", "Art", "Music", "Wellbeing", "Science")
LESSON_SLOTS = {"AM": (("09:00", "09:50"), ("10:00", "10:50"), ("11:00", "11:50")),
                "PM": (("13:00", "13:50"), ("14:00", "14:50"))}
LUNCH_CLUB = ("58219", date(2027, 1, 20), "12:15", "12:40", "Lunch club", "/")


# --- returned description ----------------------------------------------------------------------

@dataclass(frozen=True)
class ImportStep:
    """A file to import, in order, and the replay moment the demo should import it at."""

    path: Path
    kind: str  # calendar, schools, staff, pupils, timetables, roll_call, lessons
    import_at: datetime  # aware, Europe/London


@dataclass(frozen=True)
class NotSeen:
    """Not-seen counting for one pupil over the data period."""

    pupil_ref: str
    safeguarding_risk: bool
    counted_from: date
    counted_to: date
    last_seen: date | None
    longest_run: int
    school_days_not_seen_at_end: int
    episodes: tuple[Episode, ...]

    @property
    def case_exists(self) -> bool:
        return bool(self.episodes)


@dataclass(frozen=True)
class ScenarioPupil:
    pupil_ref: str
    initials: str
    main_school_urn: str
    scenarios: tuple[str, ...]
    summary: str
    not_seen: NotSeen


@dataclass(frozen=True)
class MarkChange:
    """A session the newer export changes (before = older export's mark)."""

    pupil_ref: str
    day: date
    session: str
    before: Mark
    after: Mark


@dataclass(frozen=True)
class ReplyPlan:
    """A reply the demo drops into the inbox once the case's not-seen email has gone."""

    pupil_ref: str
    at: datetime  # aware, Europe/London
    from_name: str
    from_addr: str
    body: str
    client: str  # outlook | gmail
    expected_kind: str  # as the reply fixtures' `kind`
    expected_outcome: str | None = None


@dataclass(frozen=True)
class SampleInfo:
    folder: Path
    seed: int
    files: tuple[Path, ...]  # in the order to import
    imports: tuple[ImportStep, ...]
    data_from: date
    data_to: date
    replay_from: date
    replay_to: date  # the morning after the data ends ("today" at the end of the replay)
    service_domain: str
    service_mailbox: str
    closures: tuple[date, ...]
    scenarios: dict[str, ScenarioPupil]
    not_seen: dict[str, NotSeen]  # every pupil
    amendments: tuple[MarkChange, ...]
    certificate_due: dict[tuple[str, date], date | None]  # (urn, Monday) -> due date
    lessons_ignored: tuple[tuple[str, date, str, str, str], ...]
    replies: tuple[ReplyPlan, ...] = field(default=())

    def describe(self) -> list[str]:
        """One line per scenario pupil for the demo to print (pupil_ref and initials, no names)."""
        lines = []
        for ref, s in self.scenarios.items():
            line = f"{ref} ({s.initials}) {'/'.join(s.scenarios)}: {s.summary}"
            for e in s.not_seen.episodes:
                line += (f". Expected: not-seen email due {_long(e.not_seen_email_due)}, welfare "
                         f"check due {_long(e.welfare_check_due)}, seen again "
                         f"{_long(e.seen_again_on)}")
            lines.append(line)
        return lines


def _long(day: date | None) -> str:
    return day.strftime("%a %d %b %Y") if day else "not yet"


# --- rules (pure) ------------------------------------------------------------------------------

def service_calendar() -> ServiceCalendar:
    return ServiceCalendar.build(terms=[TERM], half_terms=[HALF_TERM], closures=CLOSURES)


def upn_check_letter(digits: str) -> str:
    """DfE check letter for the 12 digits after it: weights 2..13, sum mod 23, letter table."""
    if len(digits) != 12 or not digits.isdigit():
        raise ValueError(f"a UPN check letter needs 12 digits, got {digits!r}")
    total = sum(int(ch) * weight for ch, weight in zip(digits, range(2, 14), strict=True))
    return UPN_LETTERS[total % 23]


def make_upn(establishment: str, year: int, serial: int) -> str:
    digits = f"{LA_NUMBER}{establishment}{year % 100:02d}{serial:03d}"
    return upn_check_letter(digits) + digits


def place_on(pupil: PupilSpec, day: date, session: str) -> str | None:
    """Where the timetable expects the pupil (None when off roll or no period covers the day)."""
    if day < pupil.start or (pupil.end is not None and day > pupil.end):
        return None
    for start, end, pattern in pupil.timetable:
        if start <= day and (end is None or day <= end):
            pair = pattern.split()[day.weekday()]
            return PLACE_LETTERS[pair[SESSIONS.index(session)]]
    return None


def count_not_seen(pupil: PupilSpec, seen_days: set[date], cal: ServiceCalendar) -> NotSeen:
    """The Service's own not-seen counting (worker/attendance/notseen.py) over the data period."""
    info = PupilInfo(pupil.ref, pupil.forename, pupil.surname, pupil.urn, safeguarding_risk=pupil.risk,
                     start_date=pupil.start, end_date=pupil.end)
    status = not_seen_status(info, cal, seen_days, DATA_FROM, DATA_TO, THRESHOLDS)
    longest = status.longest_run
    return NotSeen(
        pupil_ref=pupil.ref,
        safeguarding_risk=pupil.risk,
        counted_from=status.counted_from or DATA_FROM,
        counted_to=status.counted_to or DATA_TO,
        last_seen=status.last_seen,
        longest_run=longest.school_days if longest else 0,
        school_days_not_seen_at_end=status.school_days_not_seen,
        episodes=tuple(status.episodes),
    )


# --- building the marks ------------------------------------------------------------------------

@dataclass
class _World:
    upns: dict[str, str]
    dobs: dict[str, date]
    final: dict[tuple[str, date, str], Mark]
    first: dict[tuple[str, date, str], Mark]  # the older export's version where it differs


def _present(session: str) -> Mark:
    return Mark("/" if session == "AM" else "\\")


def _build(rng: random.Random, cal: ServiceCalendar) -> _World:
    upns: dict[str, str] = {}
    dobs: dict[str, date] = {}
    used: set[str] = set()
    schools = {s.urn: s for s in SCHOOLS}
    for pupil in PUPILS:
        dob = date(2026 - pupil.age - 1, 9, 1) + timedelta(days=rng.randrange(365))
        dobs[pupil.ref] = dob
        while True:  # draw the serial every time so the rng stream does not depend on luck
            upn = make_upn(schools[pupil.urn].establishment, dob.year + 5, rng.randrange(1, 1000))
            if upn not in used:
                break
        used.add(upn)
        upns[pupil.ref] = upn if pupil.has_upn else ""

    days = cal.school_days(DATA_FROM, DATA_TO)
    scripted = {(s.ref, s.day, s.session): s for s in SCRIPT}
    scripted_days = {(s.ref, s.day) for s in SCRIPT}
    final: dict[tuple[str, date, str], Mark] = {}
    first: dict[tuple[str, date, str], Mark] = {}
    for pupil in PUPILS:
        for day in days:
            service = [s for s in SESSIONS if place_on(pupil, day, s) == "service"]
            for session in service:
                final[(pupil.ref, day, session)] = _present(session)
            if (pupil.ref, day) in scripted_days:
                continue
            # Noise, drawn in a fixed order. An absence only when another session stays present.
            if len(service) == 2 and rng.random() < NOISE_ABSENCE_RATE:
                code, notes = rng.choice(NOISE_ABSENCES)
                final[(pupil.ref, day, rng.choice(service))] = Mark(code, rng.choice(notes))
            elif service and rng.random() < NOISE_LATE_RATE:
                session = service[0]
                final[(pupil.ref, day, session)] = Mark("L", rng.choice(LATE_NOTES), rng.randint(3, 40))
    for key, item in scripted.items():
        if key not in final:
            raise SampleDataError(f"scripted mark for a session not at the Service: {key}")
        final[key] = item.mark
        if item.first is not None:
            first[key] = item.first
    return _World(upns=upns, dobs=dobs, final=final, first=first)


def _lessons(rng: random.Random, world: _World) -> list[tuple[str, date, str, str, str, Mark]]:
    """Lessons for every Service session of LESSONS_WEEK whose best mark is the session mark."""
    rows: list[tuple[str, date, str, str, str, Mark]] = []
    week = sorted(k for k in world.final if LESSONS_WEEK[0] <= k[1] <= LESSONS_WEEK[1])
    for ref, day, session in week:
        mark = world.final[(ref, day, session)]
        slots = LESSON_SLOTS[session]
        count = 1 if mark.code == "L" else rng.randint(1, len(slots))
        present = "/" if session == "AM" else "\\"
        if mark.code in ("/", "\\"):
            pattern = rng.choice(("all", "all", "first_n", "first_l")) if count > 1 else "all"
            codes = [present] * count
            if pattern == "first_n":
                codes[0] = "N"
            elif pattern == "first_l":
                codes[0] = "L"
        elif mark.code == "I" and count > 1:
            codes = ["I"] + ["O"] * (count - 1)  # authorised beats unauthorised: still I
        elif mark.code == "M" and count > 1:
            codes = ["M"] + ["N"] * (count - 1)
        else:
            codes = [mark.code] * count
        subjects = rng.sample(SUBJECTS_AM if session == "AM" else SUBJECTS_PM, count)
        for (start, end), code, subject in zip(slots[:count], codes, subjects, strict=True):
            minutes = (mark.minutes_late if mark.code == "L" else rng.randint(3, 20)) if code == "L" else None
            note = mark.note if code == mark.code else ""
            rows.append((ref, day, start, end, subject, Mark(code, note, minutes)))
    ref, day, start, end, register, code = LUNCH_CLUB
    rows.append((ref, day, start, end, register, Mark(code)))
    return rows


# --- writing -------------------------------------------------------------------------------------

def _ddmmyyyy(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def _csv_bytes(header: list[str], rows: Iterable[list[str]], *, arbor: bool) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n" if arbor else "\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8")
    return b"\xef\xbb\xbf" + data if arbor else data


def _calendar_yaml() -> bytes:
    closures = "".join(
        f"  - date: {c.start.isoformat()}\n    reason: {c.name}\n" for c in CLOSURES
    )
    text = (
        "# Service calendar (SYNTHETIC, demo data set): the Service's own term dates and closures.\n"
        "# Dates are ISO 8601 (YYYY-MM-DD). Bank holidays are NOT listed: take them from the\n"
        "# `holidays` package (GB, ENG). The term ends Thu 25 Mar 2027 because Fri 26 Mar 2027\n"
        "# is Good Friday; no England bank holiday falls inside the term.\n"
        f"service: {SERVICE_NAME}\n"
        "timezone: Europe/London\n"
        "terms:\n"
        f"  - name: {TERM.name}\n"
        f"    start: {TERM.start.isoformat()}\n"
        f"    end: {TERM.end.isoformat()}\n"
        "    half_terms:\n"
        f"      - start: {HALF_TERM.start.isoformat()}\n"
        f"        end: {HALF_TERM.end.isoformat()}\n"
        "closures:\n" + closures
    )
    return text.encode("utf-8")


def _roster_files(world: _World) -> dict[str, bytes]:
    schools = _csv_bytes(
        ["urn", "name", "attendance_email", "dsl_email", "domains", "certificate_day", "delivery"],
        ([s.urn, s.name, s.attendance_email, s.dsl_email, s.domains, s.certificate_day, s.delivery]
         for s in SCHOOLS),
        arbor=False,
    )
    staff = _csv_bytes(["role", "name", "email"],
                       ([role, name, staff_email(name)] for role, name in STAFF), arbor=False)
    ordered = sorted(PUPILS, key=_sort_key)
    pupils = _csv_bytes(
        ["pupil_ref", "upn", "forename", "surname", "date_of_birth", "main_school_urn",
         "key_tutor_email", "safeguarding_risk", "registration", "start_date", "end_date"],
        ([p.ref, world.upns[p.ref], p.forename, p.surname, _ddmmyyyy(world.dobs[p.ref]), p.urn,
          TUTORS[p.tutor], "yes" if p.risk else "no", p.registration, _ddmmyyyy(p.start),
          _ddmmyyyy(p.end)] for p in ordered),
        arbor=False,
    )
    rows = []
    for p in ordered:
        for start, end, pattern in p.timetable:
            for weekday, pair in zip(WEEKDAYS, pattern.split(), strict=True):
                for session, letter in zip(SESSIONS, pair, strict=True):
                    rows.append([p.ref, weekday, session, PLACE_LETTERS[letter],
                                 _ddmmyyyy(start), _ddmmyyyy(end)])
    timetables = _csv_bytes(["pupil_ref", "weekday", "session", "place", "valid_from", "valid_to"],
                            rows, arbor=False)
    return {"roster/schools.csv": schools, "roster/staff.csv": staff,
            "roster/pupils.csv": pupils, "roster/timetables.csv": timetables}


def _student(p: PupilSpec) -> str:
    return f"{p.surname}, {p.forename}"


def _sort_key(p: PupilSpec) -> tuple[str, str]:
    return (p.surname.casefold(), p.forename.casefold())


def _minutes_late(mark: Mark) -> str:
    return "" if mark.minutes_late is None else str(mark.minutes_late)


def _roll_call(world: _World, start: date, end: date, *, older: bool) -> bytes:
    pupils = {p.ref: p for p in PUPILS}
    keys = sorted((k for k in world.final if start <= k[1] <= end),
                  key=lambda k: (k[1], k[2], _sort_key(pupils[k[0]])))
    rows = []
    for key in keys:
        mark = world.first.get(key, world.final[key]) if older else world.final[key]
        p = pupils[key[0]]
        rows.append([_student(p), world.upns[p.ref], p.ref, _ddmmyyyy(key[1]), key[2], mark.code,
                     DESCRIPTIONS[mark.code], _minutes_late(mark), mark.note])
    return _csv_bytes(["Student", "UPN", "Arbor Student ID", "Date", "Roll Call", "Mark",
                       "Mark Description", "Minutes Late", "Note"], rows, arbor=True)


def _lessons_csv(world: _World, lessons: list[tuple[str, date, str, str, str, Mark]]) -> bytes:
    pupils = {p.ref: p for p in PUPILS}
    ordered = sorted(lessons, key=lambda r: (r[1], r[2], _sort_key(pupils[r[0]])))
    rows = [[_student(pupils[ref]), world.upns[ref], ref, _ddmmyyyy(day), start, end, register,
             mark.code, _minutes_late(mark), mark.note]
            for ref, day, start, end, register, mark in ordered]
    return _csv_bytes(["Student", "UPN", "Arbor Student ID", "Date", "Start", "End", "Register",
                       "Mark", "Minutes Late", "Note"], rows, arbor=True)


def _span(prefix: str, span: tuple[date, date]) -> str:
    return f"arbor/{prefix}_{span[0].isoformat()}_{span[1].isoformat()}.csv"


def _initials(p: PupilSpec) -> str:
    return f"{p.forename[0]}.{p.surname[0]}."


def _replies() -> tuple[ReplyPlan, ...]:
    return (
        ReplyPlan(
            pupil_ref="52806",
            at=datetime(2027, 1, 27, 11, 38, tzinfo=LONDON),
            from_name="Pennine Learning Trust Safeguarding",
            from_addr="safeguarding@pennine-learning-trust.example",
            body=("Hello,\n\nWe did a home visit this morning, he was seen and is well. Mum says he "
                  "will be back with you on Monday.\n\nKind regards\nJoanne Whitworth\n"
                  "Trust Safeguarding Lead, Pennine Learning Trust"),
            client="outlook",
            expected_kind="check_done",
            expected_outcome="seen_safe",
        ),
        ReplyPlan(
            pupil_ref="61342",
            at=datetime(2027, 1, 25, 13, 52, tzinfo=LONDON),
            from_name="Mark Ellerby",
            from_addr="dsl@calder-heights.example",
            body=("Hi,\n\nThank you for letting us know. Please can the Service do the welfare "
                  "check? The family have stopped answering the school's calls and mum has asked "
                  "that school staff do not visit the house.\n\nThanks\nMark\n\n--\nMark Ellerby\n"
                  "Designated Safeguarding Lead | Calder Heights High School"),
            client="gmail",
            expected_kind="check_requested",
        ),
    )


def generate_sample(folder: Path, seed: int = 2027) -> SampleInfo:
    """Write the demo data set into `folder` and describe it (files, period, scenarios)."""
    folder = Path(folder)
    rng = random.Random(seed)
    cal = service_calendar()
    world = _build(rng, cal)
    lessons = _lessons(rng, world)

    files: dict[str, bytes] = {"calendar.yaml": _calendar_yaml(), **_roster_files(world)}
    export_1, export_2 = _span("roll_call", EXPORT_1), _span("roll_call", EXPORT_2)
    lessons_name = _span("lessons", LESSONS_WEEK)
    files[export_1] = _roll_call(world, *EXPORT_1, older=True)
    files[lessons_name] = _lessons_csv(world, lessons)
    files[export_2] = _roll_call(world, *EXPORT_2, older=False)
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    start_at = datetime.combine(DATA_FROM, time(6, 0), tzinfo=LONDON)
    kinds = {"calendar.yaml": "calendar", "roster/schools.csv": "schools",
             "roster/staff.csv": "staff", "roster/pupils.csv": "pupils",
             "roster/timetables.csv": "timetables", export_1: "roll_call",
             lessons_name: "lessons", export_2: "roll_call"}
    imports = tuple(
        ImportStep(folder / name, kind, EXPORT_2_IMPORT_AT if name == export_2 else start_at)
        for name, kind in kinds.items()
    )

    not_seen = _not_seen_all(world, cal)
    _check_story(not_seen)
    by_ref = {p.ref: p for p in PUPILS}
    scenarios = {
        ref: ScenarioPupil(ref, _initials(by_ref[ref]), by_ref[ref].urn, ids, summary, not_seen[ref])
        for ref, (ids, summary) in SCENARIOS.items()
    }
    amendments = tuple(
        MarkChange(key[0], key[1], key[2], world.first[key], world.final[key])
        for key in sorted(world.first)
    )
    mondays = sorted({d - timedelta(days=d.weekday()) for d in cal.school_days(DATA_FROM, DATA_TO)})
    due = {(s.urn, monday): cal.certificate_due(monday, s.certificate_day)
           for s in SCHOOLS for monday in mondays}
    ref, day, start, end, register, _ = LUNCH_CLUB
    return SampleInfo(
        folder=folder,
        seed=seed,
        files=tuple(step.path for step in imports),
        imports=imports,
        data_from=DATA_FROM,
        data_to=DATA_TO,
        replay_from=DATA_FROM,
        replay_to=cal.next_school_day(DATA_TO) or DATA_TO,
        service_domain=SERVICE_DOMAIN,
        service_mailbox=SERVICE_MAILBOX,
        closures=tuple(c.start for c in CLOSURES),
        scenarios=scenarios,
        not_seen=not_seen,
        amendments=amendments,
        certificate_due=due,
        lessons_ignored=((ref, day, start, end, register),),
        replies=_replies(),
    )


def _not_seen_all(world: _World, cal: ServiceCalendar) -> dict[str, NotSeen]:
    result = {}
    for p in PUPILS:
        seen = {k[1] for k, m in world.final.items() if k[0] == p.ref and m.code in SEEN}
        result[p.ref] = count_not_seen(p, seen, cal)
    return result


def _check_story(not_seen: dict[str, NotSeen]) -> None:
    """Only S1 and S2 may have a case, and their emails must fall inside the data period."""
    with_case = sorted(ref for ref, ns in not_seen.items() if ns.case_exists)
    if with_case != ["52806", "61342"]:
        raise SampleDataError(f"expected cases for 52806 and 61342 only, got {with_case}")
    for ref in with_case:
        episode = not_seen[ref].episodes[0]
        for due in (episode.not_seen_email_due, episode.welfare_check_due):
            if due is None or not DATA_FROM <= due <= DATA_TO:
                raise SampleDataError(f"{ref}: a due date falls outside the data period: {due}")
