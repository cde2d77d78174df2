"""Ingest: what incoming mail does to the instance (issue 5), without servers.

A demo instance (worker/demo: NS-1 opens for pupil 61342 on Mon 25 Jan 2027, its not-seen
email goes to Calder Heights' DSL and attendance contact) with a MemorySource for the
Service mailbox and a MemoryTransport for what goes out. The review and replay steps use the
real `attendance-courier` commands on the same instance folder.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.helpers_e2e import (
    ATTENDANCE_LEAD,
    CALDER_ATTENDANCE,
    CALDER_DSL,
    NS1_PUPIL,
    Instance,
    bounce,
    config_toml,
    demo_instance,
    out_of_office,
    parse_eml,
    plain_text,
    reply_to,
    simple_mail,
    with_attachment,
)
from worker.cli import cli
from worker.inbox import ingest as ingest_module
from worker.inbox.ingest import content_sha, ingest, replay
from worker.inbox.memory_source import MemorySource
from worker.inbox.source import RawMessage
from worker.outbox.memory import MemoryTransport

ARBOR = "reports@arbor-scheduled.example"
DONE = "Hello,\n\nHome visit done this morning, seen and well.\n\nKind regards\nMark Ellerby"


@pytest.fixture
def inst(tmp_path: Path) -> Instance:
    """NS-1 open and its not-seen email sent (Mon 25 Jan 2027, 07:00)."""
    source = MemorySource()
    inst = demo_instance(tmp_path / "home", transport=MemoryTransport(), source=source,
                         config=config_toml("", arbor_senders=[ARBOR]))
    inst.tick("2027-01-25 07:00")
    case = inst.case_for(NS1_PUPIL)
    assert case.state == "school_notified"
    return inst


def source_of(inst: Instance) -> MemorySource:
    return inst.app.source


def not_seen_row(inst: Instance):
    (row,) = inst.outbox(kind="not_seen", case_id=inst.case_for(NS1_PUPIL).id)
    return row


def deliver(inst: Instance, *messages: bytes) -> None:
    for raw in messages:
        source_of(inst).add(raw)


def cli_run(inst: Instance, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--home", str(inst.home), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def case_snapshot(inst: Instance) -> tuple:
    case = inst.case_for(NS1_PUPIL)
    return (case.state, case.check_date, case.check_outcome, case.next_steps, case.school_responded_at,
            case.closed_at)


# --- a school's reply, once --------------------------------------------------------------------


def test_a_reply_is_stored_whole_processed_once_and_moved_out(inst: Instance) -> None:
    raw = reply_to(not_seen_row(inst), from_addr=CALDER_DSL, to_addr=inst.mailbox, body=DONE,
                   at=inst.at("2027-01-25 11:38"))
    deliver(inst, raw)
    inst.tick("2027-01-25 12:00")
    (item,) = inst.inbox()
    assert (item.status, item.kind, item.raw, item.sha256) == ("processed", "check_done", raw, content_sha(raw))
    case = inst.case_for(NS1_PUPIL)
    assert (case.state, case.check_outcome, case.check_date) == ("check_reported", "seen_safe", date(2027, 1, 25))
    assert source_of(inst).messages == [] and len(source_of(inst).processed) == 1
    # The same message again (a second copy, a new UIDVALIDITY): recorded once, changes nothing.
    again = RawMessage("INBOX", 2, "1", raw)
    with_trace = RawMessage("INBOX", 2, "2", b"Received: from mx2.example by mx.example;\r\n"
                                             b" Mon, 25 Jan 2027 11:40:00 +0000\r\nDelivered-To: dsl@x.example\r\n" + raw)
    deliver(inst, again.raw)
    source_of(inst).add(again)
    source_of(inst).add(with_trace)
    result = ingest(inst.app, inst.at("2027-01-25 12:05"))
    assert (result.processed, result.duplicates) == (0, 3)
    assert len(inst.inbox()) == 1 and source_of(inst).messages == []
    assert [e.event for e in inst.events(case.id)].count("check_reported") == 1


def test_a_message_without_message_id_delivered_twice_is_recorded_once(inst: Instance) -> None:
    bare = simple_mail(from_addr="parent@home.example", to_addr=inst.mailbox, subject="Timetable",
                       body="When does he start on Monday?", at=inst.at("2027-01-25 09:00"), message_id="")
    assert bare["Message-ID"] is None
    raw = bare.as_bytes()
    deliver(inst,
            b"Delivered-To: attendance@mnhes.example\r\nReceived: from a by mx1; Mon, 25 Jan 2027 09:00:01 +0000\r\n" + raw,
            b"Delivered-To: office@mnhes.example\r\nReceived: from a by mx2;\r\n\tMon, 25 Jan 2027 09:00:02 +0000\r\n" + raw)
    result = ingest(inst.app, inst.at("2027-01-25 09:05"))
    assert (result.processed, result.duplicates) == (1, 1)
    (item,) = inst.inbox()
    assert item.message_id == f"<sha256-{content_sha(raw)}@synthesised.invalid>"


def test_a_message_recorded_but_not_moved_before_a_crash_is_moved_on_the_next_poll(inst: Instance) -> None:
    """A crash between the commit and the move: the next poll moves it and does nothing else."""
    raw = reply_to(not_seen_row(inst), from_addr=CALDER_DSL, to_addr=inst.mailbox, body=DONE,
                   at=inst.at("2027-01-25 11:38"))
    deliver(inst, raw)
    source = source_of(inst)
    moves = source.mark_processed

    def crash(message: RawMessage) -> None:
        raise KeyboardInterrupt("killed between the commit and the move")

    source.mark_processed = crash
    with pytest.raises(KeyboardInterrupt):
        ingest(inst.app, inst.at("2027-01-25 12:00"))
    assert len(inst.inbox()) == 1 and len(source.messages) == 1  # recorded, still in the inbox
    source.mark_processed = moves
    result = ingest(inst.app, inst.at("2027-01-25 12:01"))
    assert (result.processed, result.duplicates, result.moved_late) == (0, 0, 1)
    assert source.messages == [] and len(inst.inbox()) == 1
    case = inst.case_for(NS1_PUPIL)
    assert [e.event for e in inst.events(case.id)].count("check_reported") == 1


def test_a_message_that_cannot_be_moved_does_not_hold_up_the_others(inst: Instance) -> None:
    from worker.errors import SourceError

    first = reply_to(not_seen_row(inst), from_addr=CALDER_DSL, to_addr=inst.mailbox, body=DONE,
                     at=inst.at("2027-01-25 11:38"))
    second = simple_mail(from_addr="someone@elsewhere.example", to_addr=inst.mailbox, subject="Hello",
                         body="A question about a pupil.", at=inst.at("2027-01-25 11:39")).as_bytes()
    deliver(inst, first, second)
    source = source_of(inst)
    moves = source.mark_processed

    def stuck_first(message: RawMessage) -> None:
        if message.uid == "1":
            raise SourceError("the server said NO")
        moves(message)

    source.mark_processed = stuck_first
    with pytest.raises(SourceError, match="could not be moved"):
        ingest(inst.app, inst.at("2027-01-25 12:00"))
    assert len(inst.inbox()) == 2 and [m.uid for m in source.messages] == ["1"]


def test_a_message_id_reused_for_other_content_is_kept_and_shown_to_a_person(inst: Instance) -> None:
    first = simple_mail(from_addr=CALDER_DSL, to_addr=inst.mailbox, subject="Re: [NS-1]", message_id="<same@calder.example>",
                        body=DONE, at=inst.at("2027-01-25 11:38")).as_bytes()
    other = simple_mail(from_addr=CALDER_DSL, to_addr=inst.mailbox, subject="Re: [NS-1]", message_id="<same@calder.example>",
                        body="Something else entirely.", at=inst.at("2027-01-25 11:40")).as_bytes()
    deliver(inst, first, other)
    inst.tick("2027-01-25 12:00")
    items = inst.inbox()
    assert [i.message_id for i in items] == ["<same@calder.example>", f"<same@calder.example>#{content_sha(other)[:12]}"]
    assert items[1].review_state == "pending"
    assert "Message-ID reused with different content" in items[1].result["review_reasons"]


def test_a_failure_half_way_through_a_case_change_leaves_no_half_change(
    inst: Instance, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reply is quarantined; the case event written before the failure is rolled back."""
    from worker.cases import replies, store

    def half_then_fail(app, session, item, result, at, **kw):
        case = session.get(ingest_module.Case, item.case_id)
        store.apply(session, case, "check_reported", at=at, cause="reply", actor="worker")
        case.check_outcome = "seen_safe"
        raise RuntimeError("bug after the first write")

    monkeypatch.setattr(ingest_module, "apply_reply", half_then_fail)
    before = case_snapshot(inst)
    events_before = len(inst.events())
    deliver(inst, reply_to(not_seen_row(inst), from_addr=CALDER_DSL, to_addr=inst.mailbox, body=DONE,
                           at=inst.at("2027-01-25 11:38")))
    inst.tick("2027-01-25 12:00")
    (item,) = inst.inbox()
    assert item.status == "quarantined" and "bug after the first write" in item.error
    assert item.kind is None and item.case_id is None
    assert case_snapshot(inst) == before and len(inst.events()) == events_before
    assert replies.apply_reply is not half_then_fail


# --- 5: a spoofed reply and a webmail "head teacher" go to a person ------------------------------


def test_spoofed_and_webmail_replies_change_no_case_and_wait_in_review_list(inst: Instance) -> None:
    row = not_seen_row(inst)
    case = inst.case_for(NS1_PUPIL)
    spoofed = reply_to(row, from_addr=CALDER_DSL, to_addr=inst.mailbox, body=DONE, at=inst.at("2027-01-25 09:12"),
                       headers={"Authentication-Results": "mx1.mnhes.example; spf=fail smtp.mailfrom=calder-heights.example;"
                                " dkim=none; dmarc=fail (p=QUARANTINE) header.from=calder-heights.example"})
    webmail = simple_mail(
        from_addr="alan.whitcombe.home@gmail.example", from_name="Alan Whitcombe", to_addr=inst.mailbox,
        subject=f"Re: Pupil not seen for one week [{case.ref}]", at=inst.at("2027-01-25 09:30"),
        body="Dear colleagues,\n\nI am the head teacher at Calder Heights. I called at the house this morning; "
             "he was there with his mum and was seen and well. Please close the case.\n\nAlan Whitcombe\n",
    ).as_bytes()
    before = case_snapshot(inst)
    deliver(inst, spoofed, webmail)
    inst.tick("2027-01-25 10:00")
    assert case_snapshot(inst) == before  # no state, no check, no "the school answered"
    spoof_item, webmail_item = inst.inbox()
    assert (spoof_item.case_id, webmail_item.case_id) == (case.id, case.id)
    assert "dmarc=fail" in spoof_item.result["review_reasons"]
    assert "sender not verified for the Main School" in webmail_item.result["review_reasons"]
    moved = [e for e in inst.events(case.id) if e.from_state != e.to_state and e.cause == "reply"]
    assert moved == []

    listing = cli_run(inst, "review", "list")
    lines = {int(line.split()[0]): line for line in listing.splitlines() if line.strip()[:1].isdigit()}
    assert set(lines) == {spoof_item.id, webmail_item.id}
    assert "dmarc=fail" in lines[spoof_item.id] and case.ref in lines[spoof_item.id]
    assert "alan.whitcombe.home@gmail.example" in lines[webmail_item.id]

    # A person rings the head teacher, then decides; the case moves and says who decided.
    out = cli_run(inst, "review", "decide", str(webmail_item.id), "--as", "check_done", "--outcome", "seen_safe",
                  "--date", "2027-01-25", "--by", "Olivia Marsden", "--note", "confirmed by phone with the head")
    assert case.ref in out
    after = inst.case_for(NS1_PUPIL)
    assert (after.state, after.check_outcome, after.check_date) == ("check_reported", "seen_safe", date(2027, 1, 25))
    assert inst.item(webmail_item.id).review_state == "decided"
    shown = cli_run(inst, "cases", "show", case.ref)
    chronology = shown.split("chronology:")[1]
    moved = [line for line in chronology.splitlines() if "check reported" in line]
    assert moved and all("Olivia Marsden (person)" in line for line in moved), shown
    assert "review decided" in chronology
    waiting = [line.split()[0] for line in cli_run(inst, "review", "list").splitlines() if line.strip()]
    assert waiting == [str(spoof_item.id)]  # the spoofed one still waits for a person


# --- 6: Arbor scheduled reports by email ------------------------------------------------------------


PASS = {"Authentication-Results": "mx1.mnhes.example; dkim=pass; dmarc=pass header.from=arbor-scheduled.example"}


def arbor_mail(inst: Instance, sender: str, **headers: str) -> bytes:
    export = max(inst.info.imports, key=lambda step: step.import_at).path  # the newer roll-call export
    msg = simple_mail(from_addr=sender, to_addr=inst.mailbox, subject="Scheduled report: Roll call export",
                      body="Your scheduled report is attached.\n", at=inst.clock.now(), headers=headers)
    return with_attachment(msg, export.name, export.read_bytes())


def test_an_arbor_report_from_a_configured_sender_is_imported_like_a_dropped_file(inst: Instance) -> None:
    inst.at("2027-02-01 06:30")
    before = len(inst.imports())
    deliver(inst, arbor_mail(inst, ARBOR, **PASS))
    inst.tick("2027-02-01 06:45", only=["inbox"])
    batches = inst.imports()[before:]
    assert len(batches) == 1 and batches[0].source == "email" and batches[0].kind == "roll_call"
    (item,) = inst.inbox()
    assert (item.status, item.kind, item.review_state) == ("processed", "arbor_report", None)
    assert "roll_call" in item.result["imported"][0] and "rejected" in item.result["imported"][0]

    # The same again (a new UIDVALIDITY): recorded once, not imported twice.
    source_of(inst).add(RawMessage("INBOX", 9, "1", item.raw))
    inst.tick("2027-02-01 06:50", only=["inbox"])
    assert len(inst.imports()) == before + 1 and len(inst.inbox()) == 1


@pytest.mark.parametrize("sender, headers", [
    ("someone@calder-heights.example", PASS),
    (ARBOR, {"Authentication-Results": "mx1.mnhes.example; dmarc=fail header.from=arbor-scheduled.example"}),
    (ARBOR, {}),
], ids=["another sender", "configured sender failing DMARC", "configured sender, no DMARC result"])
def test_an_arbor_report_from_anyone_else_is_not_imported(inst: Instance, sender: str, headers: dict) -> None:
    inst.at("2027-02-01 06:30")
    before = len(inst.imports())
    deliver(inst, arbor_mail(inst, sender, **headers))
    inst.tick("2027-02-01 06:45", only=["inbox"])
    assert len(inst.imports()) == before
    (item,) = inst.inbox()
    assert item.kind != "arbor_report" and item.review_state == "pending"


# --- 7: machine mail is recorded and never counts as the school's answer ----------------------------


def test_out_of_office_and_bounce_are_recorded_the_reminder_still_goes_and_the_lead_is_told(inst: Instance) -> None:
    row = not_seen_row(inst)
    case = inst.case_for(NS1_PUPIL)
    deliver(
        inst,
        out_of_office(row, from_addr=CALDER_ATTENDANCE, to_addr=inst.mailbox, at=inst.at("2027-01-25 07:01")),
        bounce(row, failed=CALDER_DSL, service_mailbox=inst.mailbox, at=inst.at("2027-01-25 07:02")),
    )
    transport: MemoryTransport = inst.app.transport
    sent_before = len(transport.sent)
    inst.tick("2027-01-25 08:00")
    ooo, dsn = inst.inbox()
    assert (ooo.kind, ooo.case_id, dsn.kind, dsn.case_id) == ("auto_reply", case.id, "bounce", case.id)
    events = [e.event for e in inst.events(case.id)]
    assert "auto_reply_recorded" in events and "bounce_recorded" in events
    after = inst.case_for(NS1_PUPIL)
    assert after.state == "school_notified" and after.school_responded_at is None
    assert inst.outbox(id=row.id)[0].state == "bounced"

    # The Attendance Lead hears which contact failed.
    to_lead = [parse_eml(m.raw) for m in transport.sent[sent_before:] if ATTENDANCE_LEAD in m.recipients]
    (notice,) = [m for m in to_lead if "did not reach" in plain_text(m)]
    text = plain_text(notice)
    assert f"Failed:     {CALDER_DSL} (DSL)" in text and "Calder Heights High School" in text
    assert str(notice["To"]) == ATTENDANCE_LEAD and case.ref in text
    assert (inst.outbox(kind="delivery_failed")[0].state, inst.outbox(kind="delivery_failed")[0].case_id) == ("sent", case.id)

    # Two school days later nobody at the school has answered: the reminder goes.
    inst.tick("2027-01-27 07:00")
    (reminder,) = inst.outbox(kind="reminder", case_id=case.id)
    assert reminder.state == "sent" and CALDER_ATTENDANCE in reminder.to_addrs
    assert "reminder_sent" in [e.event for e in inst.events(case.id)]


# --- 8: our own mail coming back ---------------------------------------------------------------------


def test_a_message_with_our_loop_header_is_dropped_with_a_log_line(inst: Instance, caplog: pytest.LogCaptureFixture) -> None:
    digest = inst.outbox(kind="not_seen")[0].raw  # our own email, as a mail loop would return it
    looped = digest.replace(b"Message-ID: <", b"Message-ID: <loop.", 1)
    before = (case_snapshot(inst), len(inst.events()), len(inst.outbox()))
    deliver(inst, looped)
    with caplog.at_level(logging.WARNING, logger="worker.inbox.ingest"):
        inst.tick("2027-01-25 08:00", only=["inbox", "cases", "dispatch"])
    (item,) = inst.inbox()
    assert (item.status, item.kind, item.review_state, item.case_id) == ("dropped", "loop", None, None)
    assert any("loop header" in r.getMessage() for r in caplog.records)
    assert (case_snapshot(inst), len(inst.events()), len(inst.outbox())) == before
    assert source_of(inst).messages == []


# --- 9: quarantine, then replay after the fix ------------------------------------------------------------


def test_a_message_the_parser_fails_on_is_quarantined_then_replayed_after_the_fix(
    inst: Instance, monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw = reply_to(not_seen_row(inst), from_addr=CALDER_DSL, to_addr=inst.mailbox, body=DONE,
                   at=inst.at("2027-01-25 11:38"))

    def broken(data: bytes):
        raise ValueError("parser bug on this message")

    monkeypatch.setattr(ingest_module, "parse_message", broken)
    before = case_snapshot(inst)
    deliver(inst, raw)
    inst.tick("2027-01-25 12:00")
    (item,) = inst.inbox()
    assert item.status == "quarantined" and "parser bug on this message" in item.error and item.raw == raw
    assert case_snapshot(inst) == before
    (alert,) = inst.outbox(kind="quarantine_alert")
    assert alert.to_addrs == [ATTENDANCE_LEAD] and alert.state == "sent"
    assert f"inbox replay {item.id}" in plain_text(parse_eml(alert.raw))
    assert f"{item.id}" in cli_run(inst, "inbox", "list", "--quarantined")

    monkeypatch.undo()  # the fix
    out = cli_run(inst, "inbox", "replay", str(item.id))
    assert f"item {item.id} processed: check_done" in out
    item = inst.item(item.id)
    assert (item.status, item.error, item.kind) == ("processed", None, "check_done")
    assert item.message_id == parse_eml(raw)["Message-ID"]  # filed under its own id now
    case = inst.case_for(NS1_PUPIL)
    assert (case.state, case.check_outcome) == ("check_reported", "seen_safe")
    assert "already processed" in replay(inst.app, item.id, inst.clock.now())
    # The same message fetched again later (a new UIDVALIDITY) is known as done.
    source_of(inst).add(RawMessage("INBOX", 7, "1", raw))
    assert ingest(inst.app, inst.at("2027-01-25 12:30")).duplicates == 1
    assert len(inst.inbox()) == 1
