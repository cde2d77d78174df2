"""The demo data set and reply builder: runs everywhere (no ../shared needed).

Everything the generator claims is re-derived here from the written files with small,
independent readers and counters, so a wrong claim fails; only the story's intended dates
(worked by hand in comments) are written down.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import holidays
import pytest
import yaml

from tests.conftest import shared_path
from worker.demo.generate import SampleInfo, generate_sample
from worker.demo.replies import build_reply

ROSTER_HEADERS = {
    "roster/schools.csv": ["urn", "name", "attendance_email", "dsl_email", "domains",
                           "certificate_day", "delivery"],
    "roster/staff.csv": ["role", "name", "email"],
    "roster/pupils.csv": ["pupil_ref", "upn", "forename", "surname", "date_of_birth",
                          "main_school_urn", "key_tutor_email", "safeguarding_risk",
                          "registration", "start_date", "end_date"],
    "roster/timetables.csv": ["pupil_ref", "weekday", "session", "place", "valid_from", "valid_to"],
}
ROLL_CALL_HEADER = ["Student", "UPN", "Arbor Student ID", "Date", "Roll Call", "Mark",
                    "Mark Description", "Minutes Late", "Note"]
LESSONS_HEADER = ["Student", "UPN", "Arbor Student ID", "Date", "Start", "End", "Register",
                  "Mark", "Minutes Late", "Note"]
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri"]
SEEN = {"/", "\\", "L"}
RANK = [{"/", "\\", "L"}, {"K", "V", "P", "W", "B"},
        {"C1", "M", "J1", "S", "C2", "C", "T", "R", "I", "E"}, {"G", "N", "O", "U"}]
HEALTH_WORDS = ("asthma", "diabet", "epilep", "cancer", "anxiety", "depress", "surgery",
                "diagnos", "mental", "leukaemia", "autis", "adhd", "fracture", "infection")


# --- independent helpers -------------------------------------------------------------------

def upn_ok(upn: str) -> bool:
    """DfE check letter: sum of digit x weight (2..13) over characters 2-13, mod 23."""
    if not re.fullmatch(r"[A-Z]\d{12}", upn):
        return False
    letters = "ABCDEFGHJKLMNPQRTUVWXYZ"
    return letters[sum(int(c) * w for c, w in zip(upn[1:], range(2, 14), strict=True)) % 23] == upn[0]


def dmy(text: str) -> date | None:
    return datetime.strptime(text, "%d/%m/%Y").date() if text else None


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))


class Calendar:
    """A tiny Service calendar read straight from calendar.yaml plus England bank holidays."""

    def __init__(self, path: Path) -> None:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        self.terms = [(t["start"], t["end"]) for t in data["terms"]]
        self.halves = [(h["start"], h["end"]) for t in data["terms"] for h in t.get("half_terms", [])]
        self.closures = {c["date"] for c in data["closures"]}
        self.bank = holidays.country_holidays("GB", subdiv="ENG", years=[2026, 2027])

    def open(self, day: date) -> bool:
        return (day.weekday() < 5 and any(a <= day <= b for a, b in self.terms)
                and not any(a <= day <= b for a, b in self.halves)
                and day not in self.closures and day not in self.bank)

    def next_open(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.open(day):
            day += timedelta(days=1)
        return day

    def open_days(self, start: date, end: date) -> list[date]:
        return [start + timedelta(days=n) for n in range((end - start).days + 1)
                if self.open(start + timedelta(days=n))]


def final_marks(info: SampleInfo) -> dict[tuple[str, date, str], dict[str, str]]:
    """Roll-call rows in import order, later export wins (registers never close)."""
    marks: dict[tuple[str, date, str], dict[str, str]] = {}
    for path in info.files:
        if path.name.startswith("roll_call_"):
            for row in read_csv(path):
                marks[(row["Arbor Student ID"], dmy(row["Date"]), row["Roll Call"])] = row
    return marks


def not_seen_counter(days: list[date], seen: set[date], risk: bool, cal: Calendar) -> list[dict]:
    """Episodes of >= 5 school days unseen: email due after 5, welfare after 5 (risk) or 10."""
    episodes, run, current = [], 0, None
    for day in days:
        if day in seen:
            if current:
                current["seen_again_on"] = day
                episodes.append(current)
            run, current = 0, None
            continue
        run += 1
        if run == 5:
            current = {"email": cal.next_open(day), "welfare": None, "seen_again_on": None}
        if current is not None and run == (5 if risk else 10):
            current["welfare"] = cal.next_open(day)
    if current:
        episodes.append(current)
    return episodes


# --- fixtures ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleInfo:
    return generate_sample(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def cal(sample: SampleInfo) -> Calendar:
    return Calendar(sample.folder / "calendar.yaml")


@pytest.fixture(scope="module")
def pupils(sample: SampleInfo) -> dict[str, dict[str, str]]:
    return {row["pupil_ref"]: row for row in read_csv(sample.folder / "roster/pupils.csv")}


# --- determinism and file formats -----------------------------------------------------------

def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files(tmp_path: Path, sample: SampleInfo) -> None:
    again = generate_sample(tmp_path / "again")
    assert _tree(tmp_path / "again") == _tree(sample.folder)
    assert again.scenarios == sample.scenarios


def test_another_seed_changes_noise_but_not_the_story(tmp_path: Path, sample: SampleInfo) -> None:
    other = generate_sample(tmp_path / "other", seed=7)
    assert _tree(tmp_path / "other") != _tree(sample.folder)
    assert other.scenarios == sample.scenarios
    assert other.not_seen == sample.not_seen


def test_files_listed_in_import_order_and_all_written(sample: SampleInfo) -> None:
    names = [str(p.relative_to(sample.folder)) for p in sample.files]
    assert names[:5] == ["calendar.yaml", *ROSTER_HEADERS]
    roll_calls = [n for n in names if n.startswith("arbor/roll_call_")]
    assert len(roll_calls) == 2 and roll_calls == sorted(roll_calls)
    assert sorted(names) == sorted(_tree(sample.folder))
    assert [s.path for s in sample.imports] == list(sample.files)
    assert all(s.import_at.tzinfo is not None for s in sample.imports)
    assert [s.import_at for s in sample.imports] == sorted(s.import_at for s in sample.imports)


def test_roster_files_utf8_lf_no_bom_exact_headers(sample: SampleInfo) -> None:
    for name, header in ROSTER_HEADERS.items():
        data = (sample.folder / name).read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf"), name
        assert b"\r" not in data and data.endswith(b"\n"), name
        text = data.decode("utf-8")
        assert next(csv.reader(io.StringIO(text))) == header, name


def test_arbor_exports_utf8_with_bom_crlf_exact_headers(sample: SampleInfo) -> None:
    arbor = sorted((sample.folder / "arbor").iterdir())
    assert any(p.name.startswith("lessons_") for p in arbor)
    for path in arbor:
        data = path.read_bytes()
        assert data.startswith(b"\xef\xbb\xbf"), path.name
        assert data.endswith(b"\r\n") and data.count(b"\n") == data.count(b"\r\n"), path.name
        header = next(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        assert header == (LESSONS_HEADER if path.name.startswith("lessons_") else ROLL_CALL_HEADER)
        # The name carries the inclusive date range of the rows.
        first, last = re.fullmatch(r"\w+?_(\d{4}-\d\d-\d\d)_(\d{4}-\d\d-\d\d)\.csv", path.name).groups()
        days = {dmy(row["Date"]) for row in read_csv(path)}
        assert min(days) >= date.fromisoformat(first) and max(days) <= date.fromisoformat(last)


def test_calendar_yaml_iso_dates_and_no_bank_holiday_collision(sample: SampleInfo) -> None:
    data = (sample.folder / "calendar.yaml").read_bytes()
    assert b"\r" not in data
    cal = yaml.safe_load(data.decode("utf-8"))
    assert cal["timezone"] == "Europe/London"
    (term,) = cal["terms"]
    assert isinstance(term["start"], date) and term["start"].weekday() == 0
    bank = holidays.country_holidays("GB", subdiv="ENG", years=[term["start"].year])
    assert not [d for d in bank if term["start"] <= d <= term["end"]]
    (closure,) = cal["closures"]
    assert closure["date"].weekday() == 4  # a Friday: Friday certificates move to Thursday
    assert sample.data_from <= closure["date"] <= sample.data_to
    assert sample.data_from == term["start"]  # no school day before the data goes uncounted
    (half,) = term["half_terms"]
    assert half["start"].weekday() == 0 and (half["end"] - half["start"]).days == 4


def test_dates_in_roster_and_exports_are_dd_mm_yyyy(sample: SampleInfo) -> None:
    pattern = re.compile(r"\d\d/\d\d/\d{4}")
    for path in sample.files:
        if path.suffix != ".csv":
            continue
        for row in read_csv(path):
            for key, value in row.items():
                if value and (key.lower().endswith(("date", "_from", "_to")) or key in (
                        "date_of_birth", "start_date", "end_date")):
                    assert pattern.fullmatch(value), (path.name, key, value)
                    dmy(value)


# --- the roster ----------------------------------------------------------------------------

def test_schools_cover_the_special_cases(sample: SampleInfo) -> None:
    schools = read_csv(sample.folder / "roster/schools.csv")
    assert 4 <= len(schools) <= 5
    assert [s["certificate_day"] for s in schools].count("Thursday") == 1
    assert [s["delivery"] for s in schools].count("per_pupil") == 1
    assert [s["dsl_email"] for s in schools].count("") == 1
    two = [s for s in schools if ";" in s["domains"]]
    assert len(two) == 1
    first, second = two[0]["domains"].split(";")
    assert two[0]["attendance_email"].endswith("@" + first)
    assert two[0]["dsl_email"].endswith("@" + second)
    for s in schools:
        assert re.fullmatch(r"\d{6}", s["urn"])
        for address in (s["attendance_email"], s["dsl_email"]):
            if address:
                assert address.split("@")[1] in s["domains"].split(";")
        assert all(d.endswith(".example") for d in s["domains"].split(";"))


def test_staff_roles_and_service_domain(sample: SampleInfo) -> None:
    staff = read_csv(sample.folder / "roster/staff.csv")
    roles = [s["role"] for s in staff]
    for role in ("dsl", "deputy_dsl", "attendance_lead", "service_manager"):
        assert roles.count(role) == 1
    assert 3 <= roles.count("tutor") <= 4
    assert all(s["email"].endswith("@" + sample.service_domain) for s in staff)
    assert sample.service_mailbox.endswith("@" + sample.service_domain)
    assert sample.service_domain.endswith(".example")


def test_pupils_upns_and_special_cases(sample: SampleInfo, pupils: dict) -> None:
    rows = list(pupils.values())
    assert 12 <= len(rows) <= 16
    upns = [p["upn"] for p in rows if p["upn"]]
    assert len(upns) == len(rows) - 1 and len(set(upns)) == len(upns)
    assert all(upn_ok(u) and u[1:4] == "999" for u in upns)
    assert sum(p["registration"] == "D" for p in rows) == 2
    starts = [dmy(p["start_date"]) for p in rows]
    assert sum(sample.data_from < d <= sample.data_to for d in starts) == 1
    ends = [dmy(p["end_date"]) for p in rows if p["end_date"]]
    assert len(ends) == 1 and sample.data_from <= ends[0] < sample.data_to
    names = " ".join(p["forename"] + " " + p["surname"] for p in rows)
    assert "'" in names and "-" in names and any(ord(c) > 127 for c in names)
    tutors = {s["email"] for s in read_csv(sample.folder / "roster/staff.csv") if s["role"] == "tutor"}
    urns = {s["urn"] for s in read_csv(sample.folder / "roster/schools.csv")}
    for p in rows:
        assert p["key_tutor_email"] in tutors and p["main_school_urn"] in urns
        assert p["safeguarding_risk"] in ("yes", "no")
        age = (sample.data_from - dmy(p["date_of_birth"])).days / 365.25
        assert 5 <= age <= 16.9


def test_upn_check_letter_against_the_steering_fixtures() -> None:
    """The same independent check must accept every UPN of ../shared (when it is here)."""
    shared = shared_path()
    if shared is None:
        pytest.skip("../shared is not here (it only exists in CI)")
    upns = [p["upn"] for p in read_csv(shared / "fixtures/roster/pupils.csv") if p["upn"]]
    assert len(upns) > 30 and all(upn_ok(u) for u in upns)
    assert not upn_ok(upns[0][0] + upns[0][1:12] + str((int(upns[0][12]) + 1) % 10))


def _timetable(sample: SampleInfo) -> dict[str, list[dict[str, str]]]:
    table = defaultdict(list)
    for row in read_csv(sample.folder / "roster/timetables.csv"):
        table[row["pupil_ref"]].append(row)
    return table


def _on_roll(pupil: dict[str, str], day: date) -> bool:
    end = dmy(pupil["end_date"])
    return dmy(pupil["start_date"]) <= day and (end is None or day <= end)


def _place(rows: list[dict[str, str]], day: date, session: str) -> list[str]:
    return [r["place"] for r in rows
            if r["weekday"] == WEEKDAYS[day.weekday()] and r["session"] == session
            and dmy(r["valid_from"]) <= day and (not r["valid_to"] or day <= dmy(r["valid_to"]))]


def test_one_timetable_row_per_weekday_session_and_day_on_roll(sample: SampleInfo, pupils: dict) -> None:
    table = _timetable(sample)
    assert set(table) == set(pupils)
    changed = 0
    for ref, pupil in pupils.items():
        periods = {(r["valid_from"], r["valid_to"]) for r in table[ref]}
        changed += len(periods) > 1
        day = max(dmy(pupil["start_date"]), sample.data_from)
        while day <= (dmy(pupil["end_date"]) or sample.data_to) and day <= sample.data_to:
            if day.weekday() < 5:
                for session in ("AM", "PM"):
                    assert len(_place(table[ref], day, session)) == 1, (ref, day, session)
            day += timedelta(days=1)
        places = {r["place"] for r in table[ref]}
        assert places <= {"service", "main_school", "none"} and "service" in places
    assert changed >= 1
    assert sum({"service", "main_school", "none"} <= {r["place"] for r in rows}
               for rows in table.values()) >= 3  # part-time timetables mixing all three


# --- the marks -----------------------------------------------------------------------------

def test_marks_only_on_open_days_service_sessions_on_roll(sample: SampleInfo, cal: Calendar,
                                                          pupils: dict) -> None:
    table = _timetable(sample)
    marks = final_marks(sample)
    for (ref, day, session), row in marks.items():
        assert cal.open(day), (ref, day)
        assert _on_roll(pupils[ref], day), (ref, day)
        assert _place(table[ref], day, session) == ["service"], (ref, day, session)
        assert row["UPN"] == pupils[ref]["upn"]
        assert row["Student"] == f"{pupils[ref]['surname']}, {pupils[ref]['forename']}"
        assert (row["Minutes Late"] != "") == (row["Mark"] == "L")
        if row["Mark"] in SEEN:
            assert row["Mark"] != "/" or session == "AM"
            assert row["Mark"] != "\\" or session == "PM"
    # ... and every Service session on an open day while on roll has a mark.
    for ref, pupil in pupils.items():
        for day in cal.open_days(sample.data_from, sample.data_to):
            for session in ("AM", "PM"):
                if _on_roll(pupil, day) and _place(table[ref], day, session) == ["service"]:
                    assert (ref, day, session) in marks, (ref, day, session)


def test_marks_cover_the_required_kinds(sample: SampleInfo) -> None:
    rows = list(final_marks(sample).values())
    codes = [r["Mark"] for r in rows]
    assert codes.count("L") >= 4
    assert any(r["Mark"] == "N" for r in rows)  # pending at the end
    absences = [r for r in rows if r["Mark"] not in SEEN]
    assert sum(bool(r["Note"]) for r in absences) > len(absences) / 2
    notes = [r["Note"] for r in rows]
    assert any("," in n and '"' in n for n in notes) and any("\u2019" in n for n in notes)
    for note in notes:
        assert not any(word in note.lower() for word in HEALTH_WORDS), note


def test_newer_export_changes_only_the_listed_sessions(sample: SampleInfo, cal: Calendar) -> None:
    older, newer = (p for p in sample.files if p.name.startswith("roll_call_"))
    old = {(r["Arbor Student ID"], dmy(r["Date"]), r["Roll Call"]): r for r in read_csv(older)}
    new = {(r["Arbor Student ID"], dmy(r["Date"]), r["Roll Call"]): r for r in read_csv(newer)}
    overlap = set(old) & set(new)
    assert overlap
    changed = {k for k in overlap if old[k] != new[k]}
    listed = {(c.pupil_ref, c.day, c.session) for c in sample.amendments}
    assert changed == listed and len(listed) >= 3
    for change in sample.amendments:
        key = (change.pupil_ref, change.day, change.session)
        assert (old[key]["Mark"], new[key]["Mark"]) == (change.before.code, change.after.code)
    # The changed week was already certified when the newer export arrives.
    import_at = {s.path: s.import_at for s in sample.imports}[newer]
    for change in sample.amendments:
        monday = change.day - timedelta(days=change.day.weekday())
        for (_urn, week), due in sample.certificate_due.items():
            if week == monday:
                assert due is not None and due < import_at.date()
    # Some change is one the Main School sees (N pending -> a final code).
    assert any(c.before.code == "N" and c.after.code != "N" for c in sample.amendments)


def test_certificate_due_moves_to_thursday_in_the_inset_week(sample: SampleInfo, cal: Calendar) -> None:
    schools = {s["urn"]: s for s in read_csv(sample.folder / "roster/schools.csv")}
    (closure,) = sample.closures
    for (urn, monday), due in sample.certificate_due.items():
        wanted = monday + timedelta(days=["Monday", "Tuesday", "Wednesday", "Thursday",
                                          "Friday"].index(schools[urn]["certificate_day"]))
        while not cal.open(wanted) and wanted >= monday:
            wanted -= timedelta(days=1)
        assert due == (wanted if wanted >= monday else None)
        if monday <= closure <= monday + timedelta(days=4):
            assert due == closure - timedelta(days=1)


# --- lessons -------------------------------------------------------------------------------

def _best(codes: list[str]) -> str:
    def rank(code: str) -> tuple[int, int]:
        category = next(i for i, group in enumerate(RANK) if code in group)
        return (category, 1 if code == "L" else 0)
    return min(codes, key=rank)


def test_lessons_derive_exactly_the_roll_call_marks(sample: SampleInfo) -> None:
    (path,) = (p for p in sample.files if p.name.startswith("lessons_"))
    marks = final_marks(sample)
    sessions: dict[tuple[str, date, str], list[str]] = defaultdict(list)
    ignored = []
    for row in read_csv(path):
        start = row["Start"]
        session = "AM" if "08:30" <= start < "12:00" else "PM" if "12:45" <= start < "15:30" else None
        key = (row["Arbor Student ID"], dmy(row["Date"]), session)
        if session is None:
            ignored.append(key)
            continue
        assert (row["Minutes Late"] != "") == (row["Mark"] == "L")
        sessions[key].append(row["Mark"])
    assert len(ignored) == 1
    assert [(r, d) for r, d, *_ in sample.lessons_ignored] == [(r, d) for r, d, _ in ignored]
    first, last = re.search(r"(\d{4}-\d\d-\d\d)_(\d{4}-\d\d-\d\d)", path.name).groups()
    week = {k for k in marks if date.fromisoformat(first) <= k[1] <= date.fromisoformat(last)}
    assert set(sessions) == week
    for key, codes in sessions.items():
        assert _best(codes) == marks[key]["Mark"], (key, codes)
    assert sum(len(set(codes)) > 1 for codes in sessions.values()) >= 3
    # The ignored lunch-club lesson is on a morning that was not a seen session.
    ref, day, _ = ignored[0]
    assert marks[(ref, day, "AM")]["Mark"] not in SEEN


# --- not seen: computed here, independently ---------------------------------------------------

def test_not_seen_dates_computed_independently(sample: SampleInfo, cal: Calendar, pupils: dict) -> None:
    marks = final_marks(sample)
    for ref, pupil in pupils.items():
        start = max(dmy(pupil["start_date"]), sample.data_from)
        end = min(dmy(pupil["end_date"]) or sample.data_to, sample.data_to)
        seen = {d for (r, d, _), row in marks.items() if r == ref and row["Mark"] in SEEN}
        episodes = not_seen_counter(cal.open_days(start, end), seen, pupil["safeguarding_risk"] == "yes", cal)
        claimed = sample.not_seen[ref].episodes
        assert [(e["email"], e["welfare"], e["seen_again_on"]) for e in episodes] == [
            (c.not_seen_email_due, c.welfare_check_due, c.seen_again_on) for c in claimed
        ], ref
        if ref in sample.scenarios:
            assert sample.scenarios[ref].not_seen == sample.not_seen[ref]
    with_case = {ref for ref, ns in sample.not_seen.items() if ns.case_exists}
    assert len(with_case) == 2


def test_the_story_dates(sample: SampleInfo, pupils: dict) -> None:
    """Worked by hand: school days Mon-Fri, Fri 29 Jan 2027 closed (INSET)."""
    cases = {ref: sample.not_seen[ref] for ref in sample.scenarios if sample.not_seen[ref].case_exists}
    risk = next(ns for ns in cases.values() if ns.safeguarding_risk)
    no_risk = next(ns for ns in cases.values() if not ns.safeguarding_risk)
    (r,) = risk.episodes
    # Last seen Tue 19 Jan; unseen Wed 20, Thu 21, Fri 22, Mon 25, Tue 26 -> due Wed 27.
    assert r.last_seen_before == date(2027, 1, 19)
    assert r.not_seen_email_due == r.welfare_check_due == date(2027, 1, 27)
    (n,) = no_risk.episodes
    # Last seen Fri 15 Jan; 5th unseen day Fri 22 -> email Mon 25; 10th: 25-28 Jan (29 closed),
    # Mon 1 Feb -> welfare check Tue 2 Feb.
    assert n.last_seen_before == date(2027, 1, 15)
    assert n.not_seen_email_due == date(2027, 1, 25)
    assert n.welfare_check_due == date(2027, 2, 2)
    for ns in (risk, no_risk):
        (e,) = ns.episodes
        assert sample.replay_from <= e.not_seen_email_due <= e.welfare_check_due <= sample.replay_to
    # The pupil ill for 3 days: a run of exactly 3, no case.
    ill = [ref for ref, s in sample.scenarios.items() if "S3" in s.scenarios]
    assert len(ill) == 1 and sample.not_seen[ill[0]].longest_run == 3
    assert not sample.not_seen[ill[0]].case_exists
    assert pupils[ill[0]]["safeguarding_risk"] == "yes"
    # Scenario summaries are printed by the demo: no pupil names in them.
    for s in sample.scenarios.values():
        name = pupils[s.pupil_ref]
        assert name["forename"] not in s.summary and name["surname"] not in s.summary


def test_planned_replies_come_from_the_registered_school_addresses(sample: SampleInfo,
                                                                   pupils: dict) -> None:
    schools = {s["urn"]: s for s in read_csv(sample.folder / "roster/schools.csv")}
    assert {r.client for r in sample.replies} == {"outlook", "gmail"}
    for reply in sample.replies:
        school = schools[pupils[reply.pupil_ref]["main_school_urn"]]
        assert reply.from_addr.split("@")[1] in school["domains"].split(";")
        (episode,) = sample.not_seen[reply.pupil_ref].episodes
        assert reply.at.date() >= episode.not_seen_email_due


# --- replies -------------------------------------------------------------------------------

ORIGINAL_ID = "<ns.7.2027w04.1a2b3c4d@mnhes.example>"


@pytest.mark.parametrize("client", ["outlook", "gmail"])
def test_reply_threads_quotes_and_uses_crlf(client: str) -> None:
    at = datetime(2027, 1, 27, 11, 38, tzinfo=UTC)
    sent = datetime(2027, 1, 27, 7, 0, tzinfo=UTC)
    body = "We did a home visit this morning, he was seen and is well.\n\nJoanne Whitworth"
    raw = build_reply(original_message_id=ORIGINAL_ID, case_ref="NS-7",
                      from_addr="safeguarding@pennine-learning-trust.example",
                      to_addr="attendance@mnhes.example", body=body, date=at, client=client,
                      from_name="Bożena Ní Bhriain", original_date=sent)
    assert raw.count(b"\n") == raw.count(b"\r\n") and b"\r\n\r\n" in raw
    assert raw == build_reply(original_message_id=ORIGINAL_ID, case_ref="NS-7",
                              from_addr="safeguarding@pennine-learning-trust.example",
                              to_addr="attendance@mnhes.example", body=body, date=at,
                              client=client, from_name="Bożena Ní Bhriain", original_date=sent)
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["In-Reply-To"] == ORIGINAL_ID and msg["References"] == ORIGINAL_ID
    assert re.fullmatch(r"re: pupil not seen for one week \[NS-7\]", msg["Subject"], re.IGNORECASE)
    assert msg["From"].addresses[0].display_name == "Bożena Ní Bhriain"
    assert msg["From"].addresses[0].addr_spec == "safeguarding@pennine-learning-trust.example"
    assert msg["To"].addresses[0].addr_spec == "attendance@mnhes.example"
    assert msg["Message-ID"] and msg["Message-ID"] != ORIGINAL_ID
    assert msg["Date"].datetime == at
    text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    answer, _, rest = text.partition("\n\n")
    assert answer == body.split("\n\n")[0]
    assert "Reference: NS-7" in rest
    if client == "outlook":
        assert "\n________________________________\nFrom: " in text
        assert "\nSent: Wednesday, 27 January 2027 07:00\n" in text
        assert "\nSubject: Pupil not seen for one week [NS-7]\n" in text
        assert "\n> " not in text
    else:
        assert "On Wed, 27 Jan 2027 at 07:00, " in text and " wrote:" in text
        assert "\n> Reference: NS-7" in text
        assert "home visit" in msg.get_body(("html",)).get_content()


def test_reply_quotes_the_given_original_and_honours_subject() -> None:
    raw = build_reply(original_message_id="ns.9.2027w04.00000000@mnhes.example", case_ref="NS-9",
                      from_addr="dsl@calder-heights.example", to_addr="attendance@mnhes.example",
                      body="Please can the Service do the welfare check?",
                      date=datetime(2027, 1, 25, 13, 52, tzinfo=UTC), client="gmail",
                      subject="Re: [NS-9] welfare", original_text="Dear colleagues,\nLine two")
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["Subject"] == "Re: [NS-9] welfare"
    assert msg["In-Reply-To"] == "<ns.9.2027w04.00000000@mnhes.example>"
    text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "> Dear colleagues,\n> Line two" in text


def test_reply_rejects_naive_dates_and_unknown_clients() -> None:
    args = dict(original_message_id=ORIGINAL_ID, case_ref="NS-1", from_addr="a@b.example",
                to_addr="c@d.example", body="x")
    with pytest.raises(ValueError):
        build_reply(**args, date=datetime(2027, 1, 1, 9, 0))
    with pytest.raises(ValueError):
        build_reply(**args, date=datetime(2027, 1, 1, 9, 0, tzinfo=UTC), client="thunderbird")


# --- the project's importer reads the data set without a defect ------------------------------

def test_importer_reads_every_file_with_zero_defects(tmp_path: Path, sample: SampleInfo) -> None:
    imports = pytest.importorskip("worker.imports")
    from tests.conftest import REPO
    from worker.attendance.codes import codebook_at
    from worker.db.session import make_engine, migrate, session_factory, transaction

    engine = make_engine(f"sqlite:///{tmp_path / 'demo.sqlite'}")
    migrate(engine)
    factory = session_factory(engine)
    rules = REPO / "rules"
    results = imports.import_paths(sample.files, factory, codebook_at(str(rules)), rules,
                                   datetime(2027, 1, 4, 6, 0, tzinfo=UTC))
    assert [Path(r.name) for r in results] == list(sample.files)
    for result in results:
        assert result.ok, result.summary()
        assert result.rejected == 0 and result.imported == result.rows_read, result.summary()
        assert not [d.text() for d in result.defects if d.is_error]
    notes = [d for r in results for d in r.defects]
    # The only note: the lunch-club lesson outside both session windows, kept but ignored.
    assert [(d.defect, d.field) for d in notes] == [("outside_windows", "Start")]
    newer = results[-1]
    assert newer.kind == "roll_call" and newer.changed == len(sample.amendments)
    schools = {s["urn"]: s for s in read_csv(sample.folder / "roster/schools.csv")}
    no_dsl = [urn for urn, s in schools.items() if not s["dsl_email"]]
    with transaction(factory) as session:
        gaps = imports.data_gaps(session)
    assert [(g.kind, g.subject) for g in gaps] == [("school_no_dsl", f"school {no_dsl[0]}")]


def test_describe_prints_the_expected_dates_without_names(sample: SampleInfo, pupils: dict) -> None:
    lines = sample.describe()
    assert len(lines) == len(sample.scenarios)
    text = "\n".join(lines)
    for ns in sample.not_seen.values():
        for e in ns.episodes:
            assert e.not_seen_email_due.strftime("%a %d %b %Y") in text
            assert e.welfare_check_due.strftime("%a %d %b %Y") in text
    for p in pupils.values():
        assert p["forename"] not in text and p["surname"] not in text
