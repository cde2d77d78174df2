"""The case commands a DSL uses: cases list / show / export / close / note, review list / decide.

Run through click's CliRunner on an instance built with the real jobs and a fixed clock, and
once through the installed `attendance-courier` command.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from datetime import date

import pytest
from click.testing import CliRunner

from tests.helpers_instance import Instance, mini_instance, ticks, weekdays
from tests.test_cases_job import record_reply
from worker.clock import local, parse_local

NOV = {day: date(2026, 11, day) for day in range(1, 31)}
NOW = "2026-11-27 10:00"


@pytest.fixture
def inst(tmp_path, monkeypatch) -> Instance:
    """Cases NS-1 (20001, risk) and NS-2 (20002) opened 16 Nov; a reply on NS-2 waits for a person."""
    from worker.app import App
    from worker.clock import FixedClock
    from worker.config import load_settings

    inst, _ = mini_instance(tmp_path / "home", absent_from={"20001": NOV[9], "20002": NOV[9]})
    ticks(inst, weekdays(NOV[2], NOV[26]), ("07:00", "12:00"), only=["cases", "dispatch"])
    inst.at("2026-11-26 16:20")
    record_reply(inst, inst.case_for("20002"), {
        "kind": "check_done", "needs_review": True, "sender_verified": True, "from_service": False,
        "outcome": None, "check_date": None, "review_reasons": ["outcome not stated"],
        "reply_text": "Our attendance officer visited on Friday."}, sender="dsl@ashby.example")
    at = parse_local(NOW)
    monkeypatch.setattr(App, "from_home", classmethod(
        lambda cls, home, clock=None: cls(settings=load_settings(home, environ={}), clock=clock or FixedClock(at))))
    return inst


def cli(inst: Instance, *args: str, ok: bool = True):
    from worker.cli import cli as root

    result = CliRunner().invoke(root, ["--home", str(inst.home), *args])
    if ok:
        assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_cases_list_shows_open_cases(inst):
    out = cli(inst, "cases", "list").output.splitlines()
    assert len(out) == 2
    ns1, ns2 = out
    assert ns1.startswith("NS-1 ") and "pupil 20001" in ns1 and "RISK" in ns1 and "welfare check due" in ns1
    assert ns2.startswith("NS-2 ") and "pupil 20002" in ns2 and "RISK" not in ns2
    assert "last seen 2026-11-06" in ns1 and "opened 2026-11-16" in ns1 and "Ashby Primary School" in ns1
    assert cli(inst, "cases").output == cli(inst, "cases", "list").output  # the default view


def test_cases_show_gives_the_pupil_and_the_chronology(inst):
    out = cli(inst, "cases", "show", "ns-1").output
    assert out.startswith("NS-1: welfare check due\n")
    assert "pupil 20001: Ava Quill" in out and inst.app.settings.service.mailbox not in out
    assert "safeguarding risk yes" in out and "Main School 900101 Ashby Primary School" in out
    assert "email due 2026-11-16; welfare check due 2026-11-16" in out
    chronology = out.split("chronology:\n", 1)[1].splitlines()
    events = [line.split()[2] for line in chronology]
    assert events[:4] == ["open", "welfare", "welfare", "email"]
    assert chronology[0].lstrip().startswith("16/11/2026 07:00")


def test_cases_export_is_a_chronology_for_cpoms(inst):
    case = inst.case_for("20002")
    out = cli(inst, "cases", "export", "NS-2").output
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["date", "time", "event", "by", "detail"]
    events = inst.events(case.id)
    assert len(rows) == len(events)
    for row, event in zip(rows, events, strict=True):
        when = local(event.at)
        assert (row["date"], row["time"]) == (when.strftime("%d/%m/%Y"), when.strftime("%H:%M"))
        assert row["event"] == event.event.replace("_", " ")
        assert row["by"] == f"{event.actor} ({event.cause})"
    assert rows[0]["event"] == "open" and "-> open" in rows[0]["detail"]
    assert any(r["event"] == "review pending" and r["time"] == "16:20" for r in rows)
    text = cli(inst, "cases", "export", "NS-2", "--format", "text").output.splitlines()
    assert len(text) == len(events) and text[0].startswith("16/11/2026 07:00 | open | worker (timer) |")


def test_review_list_and_decide_a_welfare_check_done(inst):
    listed = cli(inst, "review", "list").output.splitlines()
    assert len(listed) == 1
    item_id = int(listed[0].split()[0])
    assert "pending" in listed[0] and "NS-2" in listed[0] and "dsl@ashby.example" in listed[0]
    assert "outcome not stated" in listed[0]
    out = cli(inst, "review", "decide", str(item_id), "--as", "check_done", "--outcome", "seen_safe",
              "--date", "2026-11-27", "--note", "Phoned the school: EWO visited, pupil seen and safe",
              "--by", "dana.warden").output
    assert "NS-2" in out and "check_reported" in out
    case = inst.case_for("20002")
    assert (case.state, case.check_outcome, case.check_date) == ("check_reported", "seen_safe", NOV[27])
    events = inst.events(case.id)
    decided = [e for e in events if e.event == "review_decided"]
    assert len(decided) == 1 and decided[0].actor == "dana.warden" and decided[0].cause == "person"
    assert decided[0].detail["note"] == "Phoned the school: EWO visited, pupil seen and safe"
    assert events[-1].event == "check_reported" and events[-1].cause == "person"
    assert local(events[-1].at) == local(parse_local(NOW))
    assert cli(inst, "review", "list").output.strip() == "nothing waiting for review"
    assert "decided" in cli(inst, "review", "list", "--all").output
    again = cli(inst, "review", "decide", str(item_id), "--as", "pupil_seen", ok=False)
    assert again.exit_code != 0 and "already decided" in str(again.exception)


def test_review_decide_needs_an_outcome_for_a_check(inst):
    item_id = cli(inst, "review", "list").output.split()[0]
    result = cli(inst, "review", "decide", item_id, "--as", "check_done", "--date", "2026-11-27", ok=False)
    assert result.exit_code != 0 and "--outcome" in str(result.exception)
    assert inst.case_for("20002").state == "welfare_check_due"
    bad_date = cli(inst, "review", "decide", item_id, "--as", "check_done", "--outcome", "seen_safe",
                   "--date", "27/11/2026", ok=False)
    assert bad_date.exit_code == 2 and "YYYY-MM-DD" in bad_date.output


def test_close_and_note_by_a_person(inst):
    cli(inst, "cases", "note", "NS-1", "Rang home, no answer", "--by", "dana.warden")
    out = cli(inst, "cases", "close", "NS-1", "--note", "Family moved abroad, confirmed by the LA", "--by",
              "dana.warden").output
    assert "NS-1 closed" in out
    case = inst.case_for("20001")
    assert (case.state, case.closed_reason) == ("closed", "closed_by_person")
    assert [e.event for e in inst.events(case.id)][-2:] == ["note", "closed_by_person"]
    assert [line.split()[0] for line in cli(inst, "cases", "list").output.splitlines()] == ["NS-2"]
    assert "NS-1" in cli(inst, "cases", "list", "--all").output
    again = cli(inst, "cases", "close", "NS-1", "--note", "twice", ok=False)
    assert again.exit_code != 0 and "cannot take event" in str(again.exception)


def test_the_installed_command_reports_an_unknown_case(inst):
    exe = shutil.which("attendance-courier") or str(
        __import__("pathlib").Path(sys.executable).with_name("attendance-courier"))
    done = subprocess.run([exe, "--home", str(inst.home), "cases", "show", "NS-99"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1 and "error: no case NS-99" in done.stderr
    listed = subprocess.run([exe, "--home", str(inst.home), "cases", "list"], capture_output=True, text=True,
                            timeout=120)
    assert listed.returncode == 0 and listed.stdout.startswith("NS-1 ")


def test_review_decide_places_an_unmatched_reply_and_alerts_the_dsl(inst):
    """A reply the worker could not tie to a case: the DSL names the case and what it asks for."""
    from email.utils import make_msgid

    from worker.cases.replies import apply_reply
    from worker.db.models import InboxMessage

    received = parse_local("2026-06-10 15:30")  # British Summer Time: shown as 15:30, not 14:30 UTC
    with inst.app.sessions.begin() as session:
        item = InboxMessage(mailbox="INBOX", uidvalidity=1, uid="u-1", message_id=make_msgid(), received_at=received,
                            status="processed", sender="office@ashby.example", kind="other", case_id=None,
                            result={"kind": "other", "needs_review": True, "review_reasons": ["no case matched"],
                                    "reply_text": "Please could your team do the home visit for B.R.?"})
        session.add(item)
        session.flush()
        assert apply_reply(inst.app, session, item, item.result, received) == "no case"
        item_id = item.id
    listed = [line for line in cli(inst, "review", "list").output.splitlines() if line.split()[0] == str(item_id)]
    assert len(listed) == 1 and "no case" in listed[0] and "2026-06-10 15:30" in listed[0]
    out = cli(inst, "review", "decide", str(item_id), "--as", "check_requested", "--case", "NS-2",
              "--note", "School asked by email", "--by", "dana.warden").output
    assert "NS-2 check_requested" in out
    case = inst.case_for("20002")
    assert case.state == "check_requested"
    [alert] = inst.rows(kind="check_requested_alert")
    assert alert.to_addrs == ["dana.warden@service.example"] and alert.subject.endswith("[NS-2]")
    from tests.helpers_instance import parse_eml, plain_body

    text = plain_body(parse_eml(alert.raw))
    assert "Received: 10/06/2026 15:30" in text and "home visit for B.R." in text
