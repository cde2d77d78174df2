"""Replaying the autumn fixtures, 16 Nov - 3 Dec 2026, as `run --once --at` five times each weekday.

A fresh instance imports the calendar, the roster and the older roll-call export, ticks five
times every weekday (the newer export is imported on Mon 23 Nov) with the default
DirectoryTransport, and the `.eml` files in outbox/ are read back and checked against
../shared/fixtures/expected/*.json, computed generally from the expected files and the roster:

* issue 4: exactly one not-seen email per expected case on its due date, to the school's DSL and
  attendance contacts, the Service DSL and Attendance Lead in Cc, naming the UPN, no name in the
  subject; the first "Welfare check due" alert to the Service DSL on its due date; nothing for
  anyone else; one reminder; the digest and the tutor prompts;
* issue 3: one certificate per pupil on roll per week on its due day after 15:30, amended ones
  exactly for the pupil-weeks whose school record changed, the Service-mark-only change listed
  in the run report instead;
* every Date header is the replayed `--at` time, and nothing is sent twice.

The same replay with other tick times must send the same emails on the same days; a few ticks
go through the installed command to prove the command path gives the same result.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from tests.conftest import shared_path
from tests.helpers_instance import Instance, Sent, make_instance, parse_eml, weekdays
from worker.clock import local, parse_local

pytestmark = [pytest.mark.slow, pytest.mark.fixtures]

FIRST, LAST = date(2026, 11, 16), date(2026, 12, 3)
NEWER_ON = date(2026, 11, 23)
OLDER = "arbor/roll_call_2026-09-03_2026-11-20.csv"
NEWER = "arbor/roll_call_2026-11-16_2026-12-02.csv"
TIMES = ("07:00", "08:45", "12:00", "15:45", "18:00")
OTHER_TIMES = ("06:30", "10:00", "13:00", "16:00", "17:30")
MAILBOX = "attendance@service.example"

NOT_SEEN = re.compile(r"^Pupil not seen for one week \[(NS-\d+)\]$")
REMINDER = re.compile(r"^Reminder: we are waiting for your reply about a pupil we have not seen \[(NS-\d+)\]$")
WELFARE = re.compile(r"^Welfare check due \[(NS-\d+)\]$")
CERTIFICATE = re.compile(r"^Attendance certificate – week commencing (\d\d/\d\d/\d{4}) \[[^\]]+\]$")
AMENDED = re.compile(r"^AMENDED attendance certificate – week commencing (\d\d/\d\d/\d{4}) \[[^\]]+\]$")
ATTACHMENT = re.compile(r"^certificate-(\w+)-(\d{4}-\d\d-\d\d)\.pdf$")


# --- the fixtures, read independently of the product ---------------------------------------------------


@dataclass
class Fixtures:
    folder: Path
    cases: dict
    certificates: dict
    pupils: dict[str, dict[str, str]]
    schools: dict[str, dict[str, str]]
    staff: list[dict[str, str]]
    school_days: set[date]

    def staff_emails(self, role: str) -> list[str]:
        return [s["email"].lower() for s in self.staff if s["role"] == role]

    def staff_name(self, email: str) -> str:
        return next(s["name"] for s in self.staff if s["email"].lower() == email.lower())

    def school_of(self, ref: str) -> dict[str, str]:
        return self.schools[self.pupils[ref]["main_school_urn"]]

    def on_roll_in_week(self, ref: str, monday: date) -> bool:
        p = self.pupils[ref]
        start = _ddmmyyyy(p["start_date"])
        end = _ddmmyyyy(p["end_date"]) if p["end_date"] else None
        return (start is None or start <= monday + timedelta(days=4)) and (end is None or end >= monday)

    def school_days_between(self, first: date, last: date) -> list[date]:
        return sorted(d for d in self.school_days if first <= d <= last)


def _ddmmyyyy(text: str) -> date | None:
    return datetime.strptime(text, "%d/%m/%Y").date() if text else None


def _csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def _school_days(calendar_file: Path) -> set[date]:
    import holidays

    data = yaml.safe_load(calendar_file.read_text(encoding="utf-8"))
    bank = holidays.country_holidays("GB", subdiv="ENG", years=range(2026, 2028))
    closed = {c["date"] for c in data.get("closures", [])}
    days = set()
    for term in data["terms"]:
        day = term["start"]
        while day <= term["end"]:
            in_half = any(h["start"] <= day <= h["end"] for h in term.get("half_terms", []))
            if day.weekday() < 5 and not in_half and day not in closed and day not in bank:
                days.add(day)
            day += timedelta(days=1)
    return days


def load_fixtures() -> Fixtures:
    shared = shared_path()
    if shared is None:
        pytest.skip("../shared is not here (it only exists in CI)")
    folder = shared / "fixtures"
    return Fixtures(
        folder=folder,
        cases=json.loads((folder / "expected/cases.json").read_text(encoding="utf-8")),
        certificates=json.loads((folder / "expected/certificates.json").read_text(encoding="utf-8")),
        pupils={row["pupil_ref"]: row for row in _csv(folder / "roster/pupils.csv")},
        schools={row["urn"]: row for row in _csv(folder / "roster/schools.csv")},
        staff=_csv(folder / "roster/staff.csv"),
        school_days=_school_days(folder / "calendar.yaml"),
    )


# --- the replay ----------------------------------------------------------------------------------------------


@dataclass
class Replay:
    fx: Fixtures
    inst: Instance
    times: tuple[str, ...]
    ticks: list[datetime]
    sent: list[Sent]
    seconds: float
    logs: list[str] = field(default_factory=list)

    def matching(self, pattern: re.Pattern) -> list[tuple[Sent, re.Match]]:
        return [(s, m) for s in self.sent if (m := pattern.match(s.subject))]

    def case_of(self, ref: str) -> str | None:
        """The case token of a pupil's not-seen email (None when none was sent)."""
        tokens = {m.group(1) for s, m in self.matching(NOT_SEEN) if pupil_named(self.fx, s) == ref}
        assert len(tokens) <= 1
        return next(iter(tokens), None)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def run_replay(home: Path, fx: Fixtures, times: tuple[str, ...]) -> Replay:
    collect = _Collect()
    worker_log = logging.getLogger("worker")
    old_level = worker_log.level
    worker_log.addHandler(collect)
    worker_log.setLevel(logging.DEBUG)
    started = time.perf_counter()
    try:
        inst = make_instance(home, start=f"{FIRST} 06:00")
        roster = [fx.folder / "calendar.yaml", *sorted((fx.folder / "roster").glob("*.csv"))]
        inst.import_paths([*roster, fx.folder / OLDER], when=f"{FIRST} 06:00")
        instants = []
        for day in weekdays(FIRST, LAST):
            if day == NEWER_ON:
                inst.import_paths([fx.folder / NEWER], when=f"{day} 06:00")
            for hhmm in times:
                instants.append(parse_local(f"{day} {hhmm}"))
                inst.tick(instants[-1])
    finally:
        worker_log.removeHandler(collect)
        worker_log.setLevel(old_level)
    seconds = time.perf_counter() - started
    print(f"\nreplay {FIRST}..{LAST} at {', '.join(times)}: {len(instants)} ticks in {seconds:.1f} s")
    return Replay(fx, inst, times, instants, inst.outbox_files(), seconds, collect.lines)


@pytest.fixture(scope="module")
def fx() -> Fixtures:
    return load_fixtures()


@pytest.fixture(scope="module")
def replay(fx, tmp_path_factory) -> Replay:
    return run_replay(tmp_path_factory.mktemp("replay") / "home", fx, TIMES)


@pytest.fixture(scope="module")
def other_replay(fx, tmp_path_factory) -> Replay:
    """The same with other tick times; PDFs are stubbed (their content is checked in `replay`)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("worker.certificates.job.render_certificate_pdf",
                      lambda content, context, templates: b"%PDF-1.7\n% stub for the tick-time variant\n")
        return run_replay(tmp_path_factory.mktemp("replay_other") / "home", fx, OTHER_TIMES)


def pupil_named(fx: Fixtures, sent: Sent) -> str:
    """The one pupil an email's body names by UPN (or, without a UPN, by pupil reference)."""
    text = sent.text
    found = [ref for ref, p in fx.pupils.items()
             if (p["upn"] and p["upn"] in text) or (not p["upn"] and f"pupil {ref})" in text)]
    assert len(found) == 1, (sent.subject, found)
    return found[0]


def expected_cases(fx: Fixtures) -> dict[str, dict]:
    """Pupils whose not-seen email falls due in the replayed days (a late one goes on the first day)."""
    due = {}
    for p in fx.cases["pupils"]:
        if not p["case_exists"] or not p["not_seen_email_due"]:
            continue
        when = date.fromisoformat(p["not_seen_email_due"])
        if when <= LAST:
            due[p["pupil_ref"]] = {**p, "email_on": max(when, fx.school_days_between(FIRST, LAST)[0])}
    return due


def school_address_set(school: dict[str, str]) -> set[str]:
    return {a.lower() for a in (school["dsl_email"], school["attendance_email"]) if a}


# --- issue 4: the not-seen procedure ---------------------------------------------------------------------


def test_one_not_seen_email_per_expected_case_on_its_due_date(replay):
    fx = replay.fx
    expected = expected_cases(fx)
    assert expected, "the fixtures should hold at least one case in the replayed days"
    by_pupil: dict[str, list[Sent]] = {}
    for sent, match in replay.matching(NOT_SEEN):
        by_pupil.setdefault(pupil_named(fx, sent), []).append(sent)
        assert sent.msg["X-MNHES-Case"] == match.group(1)
    assert set(by_pupil) == set(expected), "a not-seen email for a pupil without a case, or a case without one"
    for ref, case in expected.items():
        [sent] = by_pupil[ref]
        assert sent.local_day == case["email_on"], ref
        school = fx.school_of(ref)
        assert set(sent.to) == school_address_set(school), ref
        assert set(fx.staff_emails("dsl")) | set(fx.staff_emails("attendance_lead")) <= set(sent.cc)
        assert not set(sent.to) & set(sent.cc)


def test_not_seen_emails_come_from_the_service_for_the_key_tutor_and_can_be_answered(replay):
    fx = replay.fx
    for sent, match in replay.matching(NOT_SEEN):
        ref = pupil_named(fx, sent)
        pupil = fx.pupils[ref]
        sender = sent.msg["From"].addresses[0]
        assert sender.addr_spec == MAILBOX
        assert fx.staff_name(pupil["key_tutor_email"]) in sender.display_name
        assert [a.addr_spec for a in sent.msg["Reply-To"].addresses] == [MAILBOX]
        assert sent.msg.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in sent.msg.iter_parts()] == ["text/plain", "text/html"]
        assert pupil["upn"] in sent.text and pupil["upn"] in sent.html
        links = re.findall(r"mailto:\S+", sent.text)
        hrefs = re.findall(r'href="(mailto:[^"]+)"', sent.html)
        assert len(links) == 2 and len(hrefs) == 2
        assert all(link.startswith(f"mailto:{MAILBOX}?") and match.group(1) in link for link in links + hrefs)


def test_first_welfare_alert_to_the_service_dsl_on_its_due_date(replay):
    fx = replay.fx
    alerts: dict[str, list[Sent]] = {}
    for sent, match in replay.matching(WELFARE):
        alerts.setdefault(match.group(1), []).append(sent)
    expected = {ref: c for ref, c in expected_cases(fx).items()
                if c["welfare_check_due"] and date.fromisoformat(c["welfare_check_due"]) <= LAST}
    assert expected
    assert set(alerts) == {replay.case_of(ref) for ref in expected}
    for ref, case in expected.items():
        first = min(alerts[replay.case_of(ref)], key=lambda s: s.date)
        assert first.local_day == max(date.fromisoformat(case["welfare_check_due"]), FIRST), ref
        assert set(first.to) == set(fx.staff_emails("dsl"))
        assert pupil_named(fx, first) == ref


def test_one_reminder_after_two_school_days_never_two_a_day(replay):
    fx = replay.fx
    reminders: dict[str, list[Sent]] = {}
    for sent, match in replay.matching(REMINDER):
        reminders.setdefault(match.group(1), []).append(sent)
    cases = {replay.case_of(ref): c for ref, c in expected_cases(fx).items()}
    assert set(reminders) <= set(cases)
    for token, case in cases.items():
        chasers = reminders.get(token, [])
        assert len(chasers) <= 1
        after = fx.school_days_between(case["email_on"] + timedelta(days=1), case["email_on"] + timedelta(days=30))
        if after[1] <= LAST:  # nobody answered in the replay: the chaser is due on the 2nd school day after
            assert [s.local_day for s in chasers] == [after[1]], token
            ns = next(s for s, m in replay.matching(NOT_SEEN) if m.group(1) == token)
            assert set(chasers[0].to) == set(ns.to) and set(chasers[0].cc) == set(ns.cc)
        else:
            assert chasers == []


def test_subjects_and_logs_never_name_a_pupil(replay):
    names = []
    for p in replay.fx.pupils.values():
        names.append(re.compile(rf"\b{re.escape(p['forename'])}\s+{re.escape(p['surname'])}\b"))
        names.append(re.compile(rf"\b{re.escape(p['surname'])}\b"))
    assert replay.logs, "the worker logged nothing: the check below would be empty"
    for sent in replay.sent:
        assert not any(n.search(sent.subject) for n in names), sent.subject
    for line in replay.logs:
        assert not any(n.search(line) for n in names), line
    with replay.inst.app.sessions() as session:
        from sqlalchemy import select

        from worker.db.models import OutboxMessage

        for subject in session.scalars(select(OutboxMessage.subject)):
            assert not any(n.search(subject) for n in names), subject


def test_a_digest_each_school_day_with_the_cases_by_urgency_and_the_gaps(replay):
    fx = replay.fx
    digests = [s for s in replay.sent if s.subject.startswith("Daily safeguarding digest – ")]
    days = [s.local_day for s in digests]
    assert days == fx.school_days_between(FIRST, LAST)
    slot = {day: min(t for t in replay.ticks if local(t).date() == day and local(t).strftime("%H:%M") >= "07:30")
            for day in days}
    for sent in digests:
        assert sent.subject == f"Daily safeguarding digest – {sent.local_day:%d/%m/%Y}"
        assert sent.date == slot[sent.local_day]
        assert set(sent.to) == set(fx.staff_emails("dsl"))
        no_dsl = [s for s in fx.schools.values() if not s["dsl_email"]]
        assert no_dsl and all(f"{s['urn']} {s['name']} has no DSL" in sent.text for s in no_dsl)
    # on the last day every case is open: risk first, then by days not seen
    last = digests[-1].text
    open_part = last.split("WELFARE CHECKS")[0]
    cases = expected_cases(fx)
    order = sorted(cases, key=lambda ref: (fx.pupils[ref]["safeguarding_risk"] != "yes",
                                           -cases[ref]["school_days_not_seen_at_end"]))
    positions = [open_part.index(f"{replay.case_of(ref)} ") for ref in order]
    assert positions == sorted(positions)
    for ref in order:
        line = open_part[open_part.index(f"{replay.case_of(ref)} "):].split("\n")[1]
        assert f"{cases[ref]['school_days_not_seen_at_end']} school days not seen" in line
    welfare = last.split("WELFARE CHECKS DUE OR OVERDUE")[1].split("SCHOOL REPLIES")[0]
    assert all(replay.case_of(ref) in welfare for ref in cases if cases[ref]["welfare_check_due"])


def test_tutors_are_prompted_from_three_school_days_until_the_email_goes(replay):
    fx = replay.fx
    prompts = [s for s in replay.sent if s.subject.startswith("Attendance prompts for your pupils – ")]
    assert prompts and all(local(s.date).strftime("%H:%M") >= "08:30" for s in prompts)
    tutors = set(fx.staff_emails("tutor"))
    assert all(set(s.to) <= tutors and len(s.to) == 1 for s in prompts)
    for ref, case in expected_cases(fx).items():
        episode = case["episodes"][-1]
        counting_from = date.fromisoformat(episode["counting_from"])
        tutor = fx.pupils[ref]["key_tutor_email"].lower()
        for day in fx.school_days_between(FIRST, LAST):
            days = len(fx.school_days_between(counting_from, day - timedelta(days=1)))
            listed = [int(m.group(1)) for s in prompts if s.local_day == day and s.to == [tutor]
                      for m in re.finditer(rf"\(pupil {ref}\), [^\n]*: (\d+) school days", s.text)]
            assert listed == ([days] if 3 <= days < 5 else []), (ref, day, days, listed)


# --- issue 3: certificates --------------------------------------------------------------------------------------


def certificate_emails(replay: Replay, pattern: re.Pattern) -> list[tuple[Sent, date, list[tuple[str, date]]]]:
    out = []
    for sent, match in replay.matching(pattern):
        week = datetime.strptime(match.group(1), "%d/%m/%Y").date()
        names = []
        for name in sent.attachments:
            m = ATTACHMENT.match(name)
            assert m, name
            names.append((m.group(1), date.fromisoformat(m.group(2))))
        out.append((sent, week, names))
    return out


def test_one_certificate_per_pupil_on_roll_per_week_on_its_due_day(replay):
    fx = replay.fx
    due_by = fx.certificates["certificate_due_by_week_and_school"]
    seen: Counter = Counter()
    for sent, week, names in certificate_emails(replay, CERTIFICATE):
        assert names, sent.subject
        [urn] = {fx.pupils[ref]["main_school_urn"] for ref, _ in names}
        school = fx.schools[urn]
        assert sent.to == [school["attendance_email"].lower()] and sent.cc == []
        assert sent.local_day == date.fromisoformat(due_by[week.isoformat()][urn])
        assert local(sent.date).strftime("%H:%M") >= "15:30"
        if school["delivery"] == "per_pupil":
            assert len(names) == 1
        for ref, attached_week in names:
            assert attached_week == week
            seen[(ref, week)] += 1
    expected = set()
    monday = FIRST - timedelta(days=FIRST.weekday() + 7)  # from the week before: its certificates are history
    while monday <= LAST:
        for ref, pupil in fx.pupils.items():
            due = due_by.get(monday.isoformat(), {}).get(pupil["main_school_urn"])
            if due and FIRST <= date.fromisoformat(due) <= LAST and fx.on_roll_in_week(ref, monday):
                expected.add((ref, monday))
        monday += timedelta(days=7)
    assert set(seen) == expected
    assert set(seen.values()) == {1}


def test_amended_certificates_exactly_where_the_school_record_changed(replay):
    fx = replay.fx
    changed = {(a["pupil_ref"], date.fromisoformat(a["week_start"])): a
               for a in fx.certificates["amended_certificates"] if a["school_record_changed"]}
    service_only = [a for a in fx.certificates["amended_certificates"] if not a["school_record_changed"]]
    assert changed and service_only
    amended = certificate_emails(replay, AMENDED)
    got = Counter(key for _, _, names in amended for key in names)
    assert set(got) == set(changed) and set(got.values()) == {1}
    first_run = min(t for t in replay.ticks if local(t).date() >= NEWER_ON and local(t).strftime("%H:%M") >= "15:30"
                    and local(t).date() in fx.school_days)
    for sent, week, [(ref, attached_week)] in amended:
        assert week == attached_week
        assert sent.date == first_run
        assert sent.to == [fx.school_of(ref)["attendance_email"].lower()]
        for line in changed[(ref, week)]["changes"]:
            assert line in sent.text, (ref, line)
    reports = [s for s in replay.sent if s.subject.startswith("Certificate run report – ")]
    [report] = [s for s in reports if s.date == first_run]
    recorded = report.text.split("Changes recorded but not re-sent")[1].split("Bounced")[0]
    for a in service_only:
        week = date.fromisoformat(a["week_start"])
        assert f"pupil {a['pupil_ref']}, week {week:%d/%m/%Y}: {'; '.join(a['changes'])}" in recorded
        assert (a["pupil_ref"], week) not in got
    for key in changed:
        assert f"pupil {key[0]}," not in recorded


def test_certificate_pdfs_show_what_the_expected_content_says(replay):
    import pypdf

    fx = replay.fx
    files: dict[tuple[str, date], list[tuple[datetime, bytes]]] = {}
    for sent in replay.sent:
        for part in sent.msg.iter_attachments():
            m = ATTACHMENT.match(part.get_filename() or "")
            if m:
                files.setdefault((m.group(1), date.fromisoformat(m.group(2))), []).append((sent.date, part.get_content()))
    checked = 0
    for cert in fx.certificates["certificates"]:
        key = (cert["pupil"]["pupil_ref"], date.fromisoformat(cert["week_start"]))
        if key not in files:
            assert not FIRST <= date.fromisoformat(cert["certificate_due"]) <= LAST, key
            continue
        versions = sorted(files[key])
        wanted = [cert["before_amendment"]["totals"], cert["totals"]] if cert["amended"] else [cert["totals"]]
        assert len(versions) == len(wanted), key
        for (_, pdf), totals in zip(versions, wanted, strict=True):
            assert pdf.startswith(b"%PDF-")
            text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
            assert cert["pupil"]["upn"] in text
            figures = f"{totals['sessions_offered']} {totals['sessions_attended']} "
            if totals["attendance_percent"] is not None:
                figures += f"{totals['attendance_percent']:.1f}% {totals['pending_sessions']}"
            assert figures in text, (key, figures)
        checked += 1
    assert checked >= 3


def test_a_run_report_after_each_certificate_run(replay):
    fx = replay.fx
    runs = {s.date for s in replay.sent if CERTIFICATE.match(s.subject) or AMENDED.match(s.subject)}
    reports = [s for s in replay.sent if s.subject.startswith("Certificate run report – ")]
    assert {s.date for s in reports} == runs and len(reports) == len(runs)
    for report in reports:
        assert report.subject == f"Certificate run report – {report.local_day:%d/%m/%Y}"
        assert set(report.to) == set(fx.staff_emails("attendance_lead"))
        sent_count = sum(1 for s in replay.sent if s.date == report.date and CERTIFICATE.match(s.subject))
        assert f"Sent ({sent_count}):" in report.text


# --- the whole run -------------------------------------------------------------------------------------------------


def test_every_date_header_is_the_replayed_time_and_nothing_went_twice(replay):
    from sqlalchemy import select

    from worker.db.models import AuditEntry, OutboxMessage

    ticks = set(replay.ticks)
    assert all(s.date in ticks for s in replay.sent)
    with replay.inst.app.sessions() as session:
        rows = list(session.scalars(select(OutboxMessage)))
        sends = Counter(a.detail["message_id"] for a in session.scalars(
            select(AuditEntry).where(AuditEntry.action == "outbox.sent")))
    assert rows and {r.state for r in rows} == {"sent"}
    for row in rows:
        assert row.created_at == row.sent_at, row.idem_key
        assert sends[row.message_id] == 1, row.idem_key
        assert parse_eml(row.raw)["Date"] and local(row.sent_at) == local(parse_eml(row.raw)["Date"].datetime)
    assert len(replay.sent) == len(rows)  # one .eml per row: no message replaced another


def test_other_tick_times_send_the_same_emails_on_the_same_days(replay, other_replay):
    def summary(r: Replay) -> Counter:
        return Counter((s.subject, s.local_day, tuple(sorted(s.to)), tuple(sorted(s.cc)), tuple(s.attachments))
                       for s in r.sent)

    assert summary(other_replay) == summary(replay)
    assert all(s.date in set(other_replay.ticks) for s in other_replay.sent)
    print(f"\nin-process replay: {replay.seconds:.1f} s ({OTHER_TIMES} with stubbed PDFs: {other_replay.seconds:.1f} s)")


def test_the_command_path_gives_the_same_emails(replay, tmp_path):
    """`attendance-courier import` and `run --once --at` as separate processes, for the first ticks."""
    fx = replay.fx
    exe = shutil.which("attendance-courier") or str(Path(sys.executable).with_name("attendance-courier"))
    home = tmp_path / "home"
    roster = [str(fx.folder / "calendar.yaml"), *map(str, sorted((fx.folder / "roster").glob("*.csv")))]
    done = subprocess.run([exe, "--home", str(home), "import", *roster, str(fx.folder / OLDER)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    instants = [f"{day} {hhmm}" for day in ("2026-11-16", "2026-11-17") for hhmm in TIMES[:2]]
    for when in instants:
        done = subprocess.run([exe, "--home", str(home), "run", "--once", "--at", when, "--strict"],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (when, done.stdout, done.stderr)
        assert done.stdout.startswith(f"{when} GMT: ran "), done.stdout
    cli_sent = [Sent(p.name, parse_eml(p.read_bytes())) for p in sorted((home / "outbox").glob("*.eml"))]
    wanted = {parse_local(w) for w in instants}
    in_process = [s for s in replay.sent if s.date in wanted]

    def summary(sent: list[Sent]) -> Counter:
        return Counter((s.subject, s.date, tuple(sorted(s.to)), tuple(sorted(s.cc)), s.text) for s in sent)

    assert in_process and any(NOT_SEEN.match(s.subject) for s in cli_sent)
    assert summary(cli_sent) == summary(in_process)
