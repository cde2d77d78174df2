"""The DSL's daily digest and the key tutors' prompts, on small project-held data.

Digest: 07:30 each school day, once; open cases by urgency (risk first, then days not seen);
welfare checks due or overdue; replies waiting for a person; bounced and unanswered emails;
data gaps; `digest --print` shows exactly what is emailed.
Prompts: 08:30; pupils not seen for 3+ school days before the not-seen email goes; on the day
before a school's certificates are due, absences that still have no reason.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from click.testing import CliRunner

from tests.helpers_instance import (
    Instance,
    attendance,
    make_instance,
    mini_instance,
    parse_eml,
    plain_body,
    school_days_2026,
    ticks,
    weekdays,
)
from worker.clock import local, parse_local

NOV = {day: date(2026, 11, day) for day in range(1, 31)}
JOBS = ["cases", "digest", "tutor_prompts", "dispatch"]


def run_days(inst: Instance, first: date, last: date, times=("07:00", "08:45", "12:00")) -> None:
    ticks(inst, weekdays(first, last), times, only=JOBS)


def digest_text(inst: Instance, day: date) -> str:
    [row] = [r for r in inst.rows(kind="digest") if local(r.created_at).date() == day]
    return plain_body(parse_eml(row.raw))


def section(text: str, title: str) -> str:
    """The lines under a digest heading, up to the next heading."""
    match = re.search(rf"^{re.escape(title)} \(\d+\)[^\n]*\n(.*?)(?=^[A-Z][A-Z -]+ \(\d+\)|\Z)", text, re.S | re.M)
    assert match, f"no section {title!r} in:\n{text}"
    return match.group(1)


# --- the digest -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def staggered(tmp_path_factory):
    """20001 (risk) absent from 16 Nov, 20002 from 9 Nov, 20003 (Cedar, no addresses) from 9 Nov,
    20004 (Brook, no DSL address) from 11 Nov; ticks 2-25 Nov."""
    inst, data = mini_instance(tmp_path_factory.mktemp("digest") / "home", absent_from={
        "20001": NOV[16], "20002": NOV[9], "20003": NOV[9], "20004": NOV[11]})
    run_days(inst, NOV[2], NOV[20])
    # a reply for a person to read, and a not-seen email that bounced
    from tests.test_cases_job import record_reply

    inst.at("2026-11-23 06:00")
    record_reply(inst, inst.case_for("20004"), {"kind": "other", "needs_review": True, "sender_verified": True,
                                                "review_reasons": ["risk words: harm"], "from_service": False},
                 sender="attendance@brook.example")
    from worker.db.models import OutboxMessage

    with inst.app.sessions.begin() as session:
        row = session.get(OutboxMessage, next(r.id for r in inst.rows(kind="not_seen") if r.pupil_ref == "20002"))
        row.state = "bounced"
    run_days(inst, NOV[23], NOV[25])
    return inst, data


def test_one_digest_each_school_day_from_0730(staggered):
    inst, _ = staggered
    rows = inst.rows(kind="digest")
    days = [local(r.created_at).date() for r in rows]
    assert days == [d for d in school_days_2026(NOV[2], NOV[25])]  # not on Fri 20 Nov (INSET)
    assert all(local(r.created_at).strftime("%H:%M") == "08:45" for r in rows)  # the first tick after 07:30
    assert [r.subject for r in rows][:1] == ["Daily safeguarding digest – 02/11/2026"]
    assert all(r.to_addrs == ["dana.warden@service.example"] for r in rows)


def test_open_cases_are_listed_risk_first_then_by_days_not_seen(staggered):
    inst, _ = staggered
    text = digest_text(inst, NOV[24])
    cases = section(text, "OPEN NOT-SEEN CASES")
    refs = {c.pupil_ref: c.ref for c in inst.cases()}
    order = [m.group(1) for m in re.finditer(r"\(pupil (\d+)\)", cases)]
    # 24 Nov, as of the end of 23 Nov: 20001 risk 5 days; 20002 and 20003 10 days; 20004 8 days
    assert order == ["20001", "20002", "20003", "20004"]
    for ref, days in (("20001", 5), ("20002", 10), ("20003", 10), ("20004", 8)):
        line = cases[cases.index(f"{refs[ref]} "):]
        assert f"{days} school days not seen" in line.split("\n")[1]
    assert cases.index("RISK") < cases.index("(pupil 20002)")


def test_welfare_checks_due_or_overdue(staggered):
    inst, _ = staggered
    welfare = section(digest_text(inst, NOV[24]), "WELFARE CHECKS DUE OR OVERDUE")
    refs = {c.pupil_ref: c.ref for c in inst.cases()}
    # no risk: 10 school days from 9 Nov complete on 23 Nov -> due 24 Nov; risk 20001: due with its email
    assert refs["20001"] in welfare and refs["20002"] in welfare and refs["20003"] in welfare
    assert refs["20004"] not in welfare  # 8 days only
    earlier = section(digest_text(inst, NOV[23]), "WELFARE CHECKS DUE OR OVERDUE")
    assert earlier.strip() == "none"
    cases = section(digest_text(inst, NOV[25]), "OPEN NOT-SEEN CASES")
    assert "welfare check overdue since 24/11" in cases


def test_replies_waiting_bounces_unanswered_and_gaps(staggered):
    inst, _ = staggered
    text = digest_text(inst, NOV[23])
    refs = {c.pupil_ref: c.ref for c in inst.cases()}
    reviews = section(text, "SCHOOL REPLIES WAITING FOR A PERSON")
    assert refs["20004"] in reviews and "attendance@brook.example" in reviews and "risk words" in reviews
    bounced = section(text, "BOUNCED OR FAILED EMAILS")
    assert f"[{refs['20002']}]" in bounced and "bounced" in bounced
    unanswered = section(text, "UNANSWERED BY THE SCHOOL")
    # 20002's email went on 16 Nov and nobody answered; 20004's school answered (for review)
    assert refs["20002"] in unanswered and refs["20004"] not in unanswered
    gaps = section(text, "DATA GAPS")
    assert "900102 Brook Academy has no DSL email address" in gaps
    assert "900103 Cedar High School has no DSL email address" in gaps
    assert "900103 Cedar High School has no attendance email address" in gaps


def test_a_case_whose_email_never_went_stays_flagged(staggered):
    inst, _ = staggered
    ref = inst.case_for("20003").ref
    for day in (NOV[16], NOV[24], NOV[25]):  # before and after its welfare check fell due
        cases = section(digest_text(inst, day), "OPEN NOT-SEEN CASES")
        entry = cases[cases.index(ref):].split("\n  NS-")[0]
        assert "not-seen email not sent" in entry and "no registered address" in entry, (day, entry)


def test_no_pupil_name_in_any_subject(staggered):
    inst, data = staggered
    for row in inst.rows():
        for pupil in data.pupils:
            assert pupil.forename not in row.subject and pupil.surname not in row.subject, row.subject


def test_digest_print_shows_what_is_emailed(tmp_path, monkeypatch):
    from worker.app import App
    from worker.cli import cli
    from worker.clock import FixedClock
    from worker.config import load_settings

    inst, _ = mini_instance(tmp_path / "home", absent_from={"20001": NOV[9], "20002": NOV[10]})
    run_days(inst, NOV[2], NOV[17])
    at = parse_local("2026-11-17 08:45")
    monkeypatch.setattr(App, "from_home", classmethod(
        lambda cls, home, clock=None: cls(settings=load_settings(home, environ={}), clock=clock or FixedClock(at))))
    result = CliRunner().invoke(cli, ["--home", str(inst.home), "digest", "--print"])
    assert result.exit_code == 0, result.output
    emailed = next(r for r in inst.rows(kind="digest") if local(r.created_at).date() == NOV[17])
    assert result.output.startswith(emailed.subject + "\n\n")
    assert result.output[len(emailed.subject) + 2:].rstrip("\n") == plain_body(parse_eml(emailed.raw)).rstrip("\n")
    assert "NS-1" in result.output and "NS-2" in result.output


# --- tutor prompts -----------------------------------------------------------------------------------------


def prompts(inst: Instance, day: date, tutor: str) -> list[str]:
    return [plain_body(parse_eml(r.raw)) for r in inst.rows(kind="tutor_prompt")
            if local(r.created_at).date() == day and r.to_addrs == [tutor]]


def test_a_tutor_is_prompted_from_three_school_days_until_the_email_goes(tmp_path):
    inst, _ = mini_instance(tmp_path / "home", absent_from={"20002": NOV[9]})
    ticks(inst, weekdays(NOV[2], NOV[11]), ("07:00", "08:45"), only=JOBS)
    inst.tick("2026-11-12 08:29", only=JOBS)
    assert prompts(inst, NOV[12], "theo.tutor@service.example") == []  # not before 08:30
    ticks(inst, weekdays(NOV[12], NOV[17]), ("08:31", "09:00", "12:00"), only=JOBS)
    theo = "theo.tutor@service.example"
    assert prompts(inst, NOV[11], theo) == []  # 2 school days: 9, 10 Nov
    [thursday] = prompts(inst, NOV[12], theo)  # 3 days, once however many ticks
    assert "Ben Rook (pupil 20002), Ashby Primary School: 3 school days" in thursday
    [friday] = prompts(inst, NOV[13], theo)
    assert "(pupil 20002), Ashby Primary School: 4 school days" in friday
    # Monday 16 Nov: 5 days, the case is open and the school emailed: no more prompts about it
    assert all("20002" not in text for text in prompts(inst, NOV[16], theo) + prompts(inst, NOV[17], theo))
    assert prompts(inst, NOV[12], "tia.tutor@service.example") == []  # her pupils were all seen
    rows = inst.rows(kind="tutor_prompt")
    assert all(local(r.created_at).strftime("%H:%M") == "08:31" for r in rows)
    assert all(r.subject.startswith("Attendance prompts for your pupils – ") for r in rows)


def test_the_day_before_certificates_absences_without_a_reason_are_listed(tmp_path):
    from tests.helpers_instance import MiniData

    inst = make_instance(tmp_path / "home", start="2026-11-02 06:00")
    data = MiniData()
    data.load_roster(inst)
    marks = [m for m in attendance([p.ref for p in data.pupils], NOV[2], NOV[20])
             if (m[0], m[1], m[2]) != ("20005", NOV[9], "PM")]  # no mark at all
    fixed = {("20005", NOV[10], "AM"): ("N", ""),  # reason not yet known
             ("20005", NOV[11], "PM"): ("O", ""),  # absent, no note
             ("20005", NOV[12], "AM"): ("I", "Dad rang: unwell"),  # explained
             ("20004", NOV[10], "AM"): ("M", ""),  # Brook pupil, due Thursday
             ("20001", NOV[17], "AM"): ("N", "")}  # next week: INSET Friday, so due Thursday 19 Nov
    marks = [(r, d, s, *fixed.get((r, d, s), (c, n))) for r, d, s, c, n in marks]
    inst.import_bytes("roll_call.csv", data.roll_call_csv(marks))
    ticks(inst, weekdays(NOV[2], NOV[20]), ("08:45",), only=["tutor_prompts", "dispatch"])
    tia, theo = "tia.tutor@service.example", "theo.tutor@service.example"
    # Ashby certifies on Friday 13 Nov: Tia is told on Thursday 12 Nov, only then
    [thursday] = prompts(inst, NOV[12], tia)
    assert "Eve Umber (pupil 20005): 09/11/2026 PM, no mark" in thursday
    assert "Eve Umber (pupil 20005): 10/11/2026 AM, N with no reason" in thursday
    assert "Eve Umber (pupil 20005): 11/11/2026 PM, O with no reason" in thursday
    assert "12/11/2026" not in thursday  # explained
    assert all(prompts(inst, day, tia) == [] for day in (NOV[9], NOV[10], NOV[11], NOV[13]))
    # Brook certifies on Thursday: Theo is told on Wednesday 11 Nov about 20004
    [wednesday] = prompts(inst, NOV[11], theo)
    assert "Dan Thorn (pupil 20004): 10/11/2026 AM, M with no reason" in wednesday
    assert prompts(inst, NOV[12], theo) == []
    # week of 16 Nov: Friday 20 Nov is an INSET day, so both schools certify on Thursday 19 Nov
    [wednesday] = prompts(inst, NOV[18], tia)
    assert "Ava Quill (pupil 20001): 17/11/2026 AM, N with no reason" in wednesday
    assert prompts(inst, NOV[19], tia) == []
