"""The cases job on small project-held data with the clock injected: the not-seen email goes once
on its due morning to the school's registered contacts; the welfare check falls due at 1 week
(risk) or 2 weeks; one reminder, never two a day; machine mail neither answers nor pauses;
seeing the pupil or the pupil leaving closes the case; a school without addresses gets nothing
but the case still opens; an unregistered recipient is refused.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest

from tests.helpers_instance import (
    SERVICE_MAILBOX,
    Instance,
    MiniData,
    mini_instance,
    school_days_2026,
    ticks,
    weekdays,
)
from worker.clock import local, parse_local

NOV = {day: date(2026, 11, day) for day in range(1, 31)}
CASE_JOBS = ["inbox", "cases", "dispatch"]
TIMES = ("06:30", "07:00", "12:00", "18:00")
ABSENT = {"20001": NOV[9], "20002": NOV[9]}  # risk pupil and no-risk pupil, both at Ashby


def run_days(inst: Instance, first: date, last: date, times=TIMES, only=CASE_JOBS) -> None:
    ticks(inst, weekdays(first, last), times, only=only)


def by_kind(inst: Instance, kind: str) -> list:
    return inst.rows(kind=kind)


def nth_school_day_after(day: date, n: int) -> date:
    return school_days_2026(day + timedelta(days=1), day + timedelta(days=60))[n - 1]


@pytest.fixture
def absent(tmp_path):
    inst, data = mini_instance(tmp_path / "home", absent_from=ABSENT)
    return inst, data


# --- the not-seen email ----------------------------------------------------------------------------


def test_not_seen_email_goes_once_on_its_due_morning(absent):
    inst, data = absent
    # 5 school days not seen: 9-13 Nov; due the morning of the next school day, Mon 16 Nov
    run_days(inst, NOV[2], NOV[13])
    inst.tick("2026-11-16 06:30", only=CASE_JOBS)
    assert by_kind(inst, "not_seen") == [] and inst.cases() == []
    run_days(inst, NOV[16], NOV[27], times=("07:00", "07:01", "12:00", "18:00"))
    rows = by_kind(inst, "not_seen")
    assert sorted(r.pupil_ref for r in rows) == ["20001", "20002"]
    assert all(r.created_at == r.sent_at == parse_local("2026-11-16 07:00") for r in rows)
    files = {s.subject: s for s in inst.outbox_files() if s.subject.startswith("Pupil not seen")}
    assert len(files) == 2
    for row in rows:
        case = inst.case_for(row.pupil_ref)
        pupil, school = data.pupil(row.pupil_ref), data.school(data.pupil(row.pupil_ref).school)
        assert (case.last_seen, case.counting_from, case.threshold_reached_on, case.email_due) == (
            NOV[6], NOV[9], NOV[13], NOV[16])
        sent = files[f"Pupil not seen for one week [{case.ref}]"]
        assert set(sent.to) == {school.dsl, school.attendance}
        assert {"dana.warden@service.example", "alma.register@service.example"} <= set(sent.cc)
        assert sent.msg["From"].addresses[0].addr_spec == SERVICE_MAILBOX
        tutor = next(name for role, name, email in data.staff if email == pupil.tutor)
        assert tutor in sent.msg["From"].addresses[0].display_name
        assert sent.msg["Reply-To"].addresses[0].addr_spec == SERVICE_MAILBOX
        assert sent.date == parse_local("2026-11-16 07:00")
        assert pupil.upn in sent.text and pupil.upn in sent.html
        assert pupil.forename not in sent.subject and pupil.surname not in sent.subject
        assert sent.msg.get_content_type() == "multipart/alternative"
        text_links = re.findall(r"mailto:\S+", sent.text)
        html_links = re.findall(r'href="(mailto:[^"]+)"', sent.html)
        assert len(text_links) == 2 and len(html_links) == 2
        assert all(SERVICE_MAILBOX in link and case.ref in link for link in text_links + html_links)


def test_welfare_check_falls_due_at_one_week_with_risk_and_two_weeks_without(absent):
    inst, _ = absent
    run_days(inst, NOV[2], NOV[27])
    alerts = {r.case_id: r for r in by_kind(inst, "welfare_due")}
    risk, other = inst.case_for("20001"), inst.case_for("20002")
    assert set(alerts) == {risk.id, other.id}
    # risk: with the email on 16 Nov; no risk: 10 school days (9-13, 16-19, 23 Nov) -> Tue 24 Nov
    assert (risk.welfare_due, other.welfare_due) == (NOV[16], NOV[24])
    assert local(alerts[risk.id].created_at).date() == NOV[16]
    assert local(alerts[other.id].created_at).date() == NOV[24]
    assert alerts[risk.id].to_addrs == ["dana.warden@service.example"]
    assert alerts[risk.id].subject == f"Welfare check due [{risk.ref}]"
    assert risk.state == other.state == "welfare_check_due"
    # the email and the welfare threshold on the same morning: the case shows both, in order
    events = [e.event for e in inst.events(risk.id)]
    assert events[:4] == ["open", "welfare_check_due", "welfare_alert_sent", "email_sent"]


# --- chasers -------------------------------------------------------------------------------------------


def reminders(inst: Instance, pupil_ref: str) -> list[date]:
    return [local(r.created_at).date() for r in by_kind(inst, "reminder") if r.pupil_ref == pupil_ref]


def test_one_reminder_after_two_school_days_without_an_answer(absent):
    inst, _ = absent
    run_days(inst, NOV[2], NOV[27])
    expected = nth_school_day_after(NOV[16], 2)  # 17, 18 Nov
    assert reminders(inst, "20001") == [expected] and reminders(inst, "20002") == [expected]
    [row] = [r for r in by_kind(inst, "reminder") if r.pupil_ref == "20001"]
    assert row.subject.startswith("Reminder: ") and "[NS-" in row.subject
    # not counted as a second not-seen email by anyone looking for that subject
    assert "Pupil not seen for one week" not in row.subject
    assert set(row.to_addrs) == {"dsl@ashby.example", "office@ashby.example"}


def test_never_more_than_one_reminder_a_day(tmp_path):
    config = "[cases]\nreminder_after_school_days = 1\nmax_reminders = 4\n"
    inst, _ = mini_instance(tmp_path / "home", absent_from=ABSENT, config=config)
    run_days(inst, NOV[2], NOV[27], times=("07:00", "07:05", "09:00", "13:00", "17:00"))
    days = reminders(inst, "20001")
    assert days == school_days_2026(NOV[17], NOV[30])[:4]
    assert len(set(days)) == len(days)


def test_a_school_answer_stops_the_chaser_but_not_the_escalation(absent):
    inst, _ = absent
    run_days(inst, NOV[2], NOV[16])
    case = inst.case_for("20002")
    deliver(inst, reply_to_case(inst, case, sender="dsl@ashby.example",
                                body="Thank you. Our family liaison officer will call home today and we will let you know.\n"))
    run_days(inst, NOV[17], NOV[27])
    assert reminders(inst, "20002") == []
    assert reminders(inst, "20001") == [nth_school_day_after(NOV[16], 2)]
    case = inst.case_for("20002")
    assert case.school_responded_at is not None
    # the welfare check still falls due: an answer is not a welfare check
    assert [local(r.created_at).date() for r in by_kind(inst, "welfare_due") if r.case_id == case.id] == [NOV[24]]


def record_reply(inst: Instance, case, result: dict, *, sender: str) -> None:
    """What ingest does once a reply is classified: store it, then let the case react."""
    from worker.cases.replies import apply_reply
    from worker.db.models import InboxMessage

    at = inst.clock.now()
    with inst.app.sessions.begin() as session:
        item = InboxMessage(mailbox="INBOX", uidvalidity=1, uid=make_msgid(), message_id=make_msgid(),
                            received_at=at, status="processed", sender=sender, kind=result["kind"],
                            case_id=case.id, result=result, needs_review=bool(result.get("needs_review")))
        session.add(item)
        session.flush()
        apply_reply(inst.app, session, item, result, at)


@pytest.mark.parametrize(("sender", "verified", "answered"), [
    ("dsl@ashby.example", True, True),  # a registered contact: an answer, though a person must read it
    ("ashby.head@webmail.example", False, False),  # not verified as the school's: not an answer
])
def test_a_reply_waiting_for_review_is_an_answer_only_from_the_school(absent, sender, verified, answered):
    inst, _ = absent
    run_days(inst, NOV[2], NOV[16])
    case = inst.case_for("20002")
    inst.at("2026-11-16 14:00")
    record_reply(inst, case, {"kind": "other", "needs_review": True, "review_reasons": ["risk words: harm"],
                              "sender_verified": verified, "from_service": False}, sender=sender)
    run_days(inst, NOV[17], NOV[19])
    case = inst.case_for("20002")
    assert "review_pending" in [e.event for e in inst.events(case.id)]
    assert (case.school_responded_at is not None) is answered
    assert reminders(inst, "20002") == ([] if answered else [nth_school_day_after(NOV[16], 2)])


def test_service_staff_mail_on_a_case_is_not_the_schools_answer(absent):
    inst, _ = absent
    run_days(inst, NOV[2], NOV[16])
    case = inst.case_for("20002")
    record_reply(inst, case, {"kind": "check_done", "needs_review": False, "sender_verified": False,
                              "from_service": True}, sender="theo.tutor@service.example")
    run_days(inst, NOV[17], NOV[19])
    case = inst.case_for("20002")
    assert case.state == "school_notified" and case.school_responded_at is None
    assert reminders(inst, "20002") == [nth_school_day_after(NOV[16], 2)]


@pytest.mark.parametrize("machine", ["auto_reply", "bounce"])
def test_machine_mail_is_not_an_answer_and_does_not_pause_escalation(absent, machine):
    inst, _ = absent
    run_days(inst, NOV[2], NOV[16])
    case = inst.case_for("20002")
    if machine == "auto_reply":
        message = reply_to_case(inst, case, sender="office@ashby.example", subject_prefix="Automatic reply: ",
                                body="I am out of the office until Monday 23 November.\n",
                                headers={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"})
    else:
        message = bounce_of(inst, case, failed="dsl@ashby.example")
    deliver(inst, message)
    run_days(inst, NOV[17], NOV[27])
    case = inst.case_for("20002")
    events = [e.event for e in inst.events(case.id)]
    assert {"auto_reply": "auto_reply_recorded", "bounce": "bounce_recorded"}[machine] in events
    assert case.school_responded_at is None
    assert reminders(inst, "20002") == [nth_school_day_after(NOV[16], 2)]
    assert [local(r.created_at).date() for r in by_kind(inst, "welfare_due") if r.case_id == case.id] == [NOV[24]]
    assert case.state == "welfare_check_due"
    if machine == "bounce":  # tied back to the email and the contact that failed, for the Attendance Lead
        [original] = [r for r in by_kind(inst, "not_seen") if r.case_id == case.id]
        assert original.state == "bounced"
        [told] = by_kind(inst, "delivery_failed")
        assert told.to_addrs == ["alma.register@service.example"] and case.ref in told.subject
        from tests.helpers_instance import parse_eml, plain_body

        text = plain_body(parse_eml(told.raw))
        assert "dsl@ashby.example (" in text and "DSL" in text and "escalation goes on" in text


# --- closing -------------------------------------------------------------------------------------------


def test_seen_again_closes_the_case_and_a_new_absence_opens_a_new_one(absent):
    inst, data = absent
    run_days(inst, NOV[2], NOV[16])
    first = inst.case_for("20002")
    for when in ("2026-11-17 06:30", "2026-11-17 07:00"):
        inst.tick(when, only=CASE_JOBS)
    # Arbor's next export: 20002 came in on Tuesday 17 Nov morning, absent again from the afternoon
    inst.import_bytes("roll_call_17.csv", data.roll_call_csv([("20002", NOV[17], "AM", "/", "")]),
                      when="2026-11-17 11:50")
    for when in ("2026-11-17 12:00", "2026-11-17 18:00"):
        inst.tick(when, only=CASE_JOBS)
    run_days(inst, NOV[18], NOV[27])
    first = next(c for c in inst.cases() if c.id == first.id)
    assert first.state == "closed" and first.closed_reason == "seen_again"
    seen = [e for e in inst.events(first.id) if e.event == "seen_again"]
    assert len(seen) == 1 and seen[0].cause == "import" and "17" in (seen[0].evidence or "")
    assert local(seen[0].at) == local(parse_local("2026-11-17 12:00"))
    assert [r for r in by_kind(inst, "reminder") if r.case_id == first.id] == []
    assert [r for r in by_kind(inst, "welfare_due") if r.case_id == first.id] == []
    # not seen again from 17 PM: 18, 19, 23, 24, 25 Nov -> a new case, email due Thu 26 Nov
    second = inst.case_for("20002")
    assert second.id != first.id and second.state != "closed"
    assert (second.last_seen, second.counting_from, second.email_due) == (NOV[17], NOV[18], NOV[26])
    assert [local(r.created_at).date() for r in by_kind(inst, "not_seen") if r.case_id == second.id] == [NOV[26]]


def test_a_pupil_leaving_the_roll_closes_the_case(absent):
    inst, data = absent
    run_days(inst, NOV[2], NOV[16])
    case = inst.case_for("20002")
    data.ends["20002"] = "17/11/2026"
    inst.import_bytes("pupils.csv", data.pupils_csv(), when="2026-11-17 16:00")
    run_days(inst, NOV[17], NOV[27])
    case = inst.case_for("20002")
    assert case.state == "closed" and case.closed_reason == "left_roll"
    closed = next(e for e in inst.events(case.id) if e.event == "left_roll")
    assert local(closed.at).date() == NOV[18]  # the first day off roll
    assert [r for r in by_kind(inst, "reminder") if r.case_id == case.id] == []
    assert [r for r in by_kind(inst, "welfare_due") if r.case_id == case.id] == []
    assert len([c for c in inst.cases() if c.pupil_ref == "20002"]) == 1


def test_a_person_can_close_a_case_and_it_is_not_reopened_for_the_same_absence(absent):
    from worker.cases import store

    inst, _ = absent
    run_days(inst, NOV[2], NOV[16])
    case = inst.case_for("20002")
    with inst.app.sessions.begin() as session:
        store.apply(session, session.get(type(case), case.id), "closed_by_person", at=parse_local("2026-11-16 10:00"),
                    cause="person", actor="dana.warden", detail={"note": "moved out of area, confirmed by LA"})
    run_days(inst, NOV[17], NOV[27])
    assert [c.state for c in inst.cases() if c.pupil_ref == "20002"] == ["closed"]
    assert [r for r in by_kind(inst, "reminder") if r.case_id == case.id] == []


# --- gaps and the guard ------------------------------------------------------------------------------


def test_a_school_without_any_address_gets_nothing_but_the_case_opens(tmp_path):
    inst, _ = mini_instance(tmp_path / "home", absent_from={"20003": NOV[9]})
    run_days(inst, NOV[2], NOV[27])
    case = inst.case_for("20003")
    assert case is not None and case.email_due == NOV[16]
    assert [r for r in inst.rows() if r.case_id == case.id and r.kind in ("not_seen", "reminder")] == []
    assert not any("cedar" in a for r in inst.rows() for a in [*r.to_addrs, *r.cc_addrs])
    events = {e.event: e for e in inst.events(case.id)}
    assert "no DSL address" in events["data_gap"].detail["gap"]
    assert "nothing was sent" in events["email_failed"].detail["why"]
    # escalation goes on: the Service DSL is told on the day the welfare check falls due
    [alert] = [r for r in by_kind(inst, "welfare_due") if r.case_id == case.id]
    assert local(alert.created_at).date() == NOV[24]
    from tests.helpers_instance import parse_eml, plain_body

    text = plain_body(parse_eml(alert.raw))
    assert "has no DSL address" in text and "has no attendance address" in text


def test_an_unregistered_recipient_is_refused_and_recorded(absent, monkeypatch):
    from worker.cases import evaluate, notify

    inst, _ = absent

    def leaky(school):
        return [*school.attendance_list, f"head@{school.domain_list[0]}"]  # right domain, not registered

    monkeypatch.setattr(notify, "school_recipients", leaky)
    monkeypatch.setattr(evaluate, "school_recipients", leaky)
    run_days(inst, NOV[2], NOV[27])
    assert by_kind(inst, "not_seen") == [] and by_kind(inst, "reminder") == []
    assert not any(a.startswith("head@") for r in inst.rows() for a in [*r.to_addrs, *r.cc_addrs])
    for ref in ABSENT:
        case = inst.case_for(ref)
        failed = [e for e in inst.events(case.id) if e.event == "email_failed"]
        assert len(failed) == 1 and "head@ashby.example" in failed[0].detail["why"]


def test_an_unregistered_recipient_on_a_reminder_does_not_stop_the_other_cases(absent, monkeypatch):
    from worker.cases import notify

    inst, _ = absent
    run_days(inst, NOV[2], NOV[16])
    def leaky(school):
        extra = ["head@ashby.example"] if school.urn == "900101" else []
        return [*school.dsl_list, *school.attendance_list, *extra]

    monkeypatch.setattr(notify, "school_recipients", leaky)
    # 20004 (Brook Academy) goes missing later; its case must still open while Ashby's reminders are refused
    inst.import_bytes("roll_call_brook.csv", MiniData().roll_call_csv(
        [("20004", day, s, "O", "No contact") for day in school_days_2026(NOV[17], NOV[27]) for s in ("AM", "PM")]),
        when="2026-11-17 06:00")
    run_days(inst, NOV[17], NOV[27])
    assert [r.school_urn for r in by_kind(inst, "reminder")] == ["900102"]  # Brook's own, two days on
    brook = inst.case_for("20004")
    fifth = school_days_2026(NOV[17], NOV[30])[4]  # 17, 18, 19, 23, 24 Nov (20 Nov is closed)
    assert brook is not None and brook.email_due == nth_school_day_after(fifth, 1) == NOV[25]
    assert [r.pupil_ref for r in by_kind(inst, "not_seen") if r.case_id == brook.id] == ["20004"]
    for ref in ABSENT:
        failed = [e for e in inst.events(inst.case_for(ref).id) if e.event == "email_failed"]
        assert len(failed) == 1 and "head@ashby.example" in failed[0].detail["why"]


# --- building replies as a school's mail system would send them ----------------------------------------


def _not_seen_id(inst: Instance, case) -> str:
    [row] = [r for r in by_kind(inst, "not_seen") if r.case_id == case.id]
    return row.message_id


def reply_to_case(inst: Instance, case, *, sender: str, body: str, subject_prefix: str = "Re: ",
                  headers: dict[str, str] | None = None) -> bytes:
    original = _not_seen_id(inst, case)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = SERVICE_MAILBOX
    msg["Subject"] = f"{subject_prefix}Pupil not seen for one week [{case.ref}]"
    msg["Date"] = format_datetime(inst.clock.now())
    msg["Message-ID"] = make_msgid(domain=sender.split("@")[1])
    msg["In-Reply-To"] = original
    msg["References"] = original
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return bytes(msg)


BOUNCE = """\
Return-Path: <>
Date: {date}
From: MAILER-DAEMON@mx1.service.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: attendance@service.example
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="BOUNDARY.1/mx1.service.example"
Message-Id: <bounce.{stamp}@mx1.service.example>

This is a MIME-encapsulated message.

--BOUNDARY.1/mx1.service.example
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx1.service.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<{failed}>: host mx.ashby.example[192.0.2.25] said: 550 5.1.1
    <{failed}>: Recipient address rejected: User unknown (in reply to RCPT TO command)

--BOUNDARY.1/mx1.service.example
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx1.service.example
Arrival-Date: {date}

Final-Recipient: rfc822; {failed}
Original-Recipient: rfc822;{failed}
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.ashby.example
Diagnostic-Code: smtp; 550 5.1.1 <{failed}>: Recipient address rejected: User unknown

--BOUNDARY.1/mx1.service.example
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

{headers}
--BOUNDARY.1/mx1.service.example--
"""


def bounce_of(inst: Instance, case, *, failed: str) -> bytes:
    """A Postfix delivery-status report for our not-seen email, as mx1 would return it."""
    [row] = [r for r in by_kind(inst, "not_seen") if r.case_id == case.id]
    headers = row.raw.split(b"\r\n\r\n", 1)[0].decode("ascii").replace("\r\n", "\n")
    text = BOUNCE.format(date=format_datetime(inst.clock.now()), stamp=int(inst.clock.now().timestamp()),
                         failed=failed, headers=headers)
    return text.replace("\n", "\r\n").encode("ascii")


def deliver(inst: Instance, raw: bytes) -> None:
    """Put a message in the instance's Maildir as a delivery agent would."""
    new = inst.app.settings.inbox_dir / "new"
    new.mkdir(parents=True, exist_ok=True)
    stamp = int(inst.clock.now().timestamp())
    (new / f"{stamp}.M{len(list(new.iterdir()))}P1.test").write_bytes(raw)


# --- stale data ---------------------------------------------------------------------------------------


def test_when_imports_stop_nobody_is_emailed_and_the_digest_says_the_data_is_stale(tmp_path):
    """Marks end on Fri 6 Nov for everyone: the following weeks must not look like absences."""
    inst, _ = mini_instance(tmp_path / "home", data_to=NOV[6])
    run_days(inst, NOV[9], NOV[23])
    assert by_kind(inst, "not_seen") == [] and inst.cases() == []
    inst.tick("2026-11-23 07:45", only=["digest", "dispatch"])
    digest = [s for s in inst.outbox_files() if s.subject.startswith("Daily safeguarding digest")][-1]
    assert "attendance data is stale: the newest mark is from 06/11/2026" in digest.text


def test_a_pupil_missing_from_an_export_that_has_others_is_still_counted(tmp_path):
    """The horizon is the newest mark of anyone: a pupil absent from the data is not seen."""
    inst, _ = mini_instance(tmp_path / "home", absent_from={"20001": NOV[9]})
    run_days(inst, NOV[9], NOV[16])
    assert [row.pupil_ref for row in by_kind(inst, "not_seen")] == ["20001"]


def test_no_welfare_alert_once_the_school_has_reported_its_check(absent):
    """A verified check_done before the 2-week threshold: the threshold is recorded, no alert."""
    inst, _ = absent
    run_days(inst, NOV[2], NOV[16])
    case = inst.case_for("20002")
    inst.at("2026-11-18 10:00")
    record_reply(inst, case, {"kind": "check_done", "needs_review": False, "sender_verified": True,
                              "from_service": False, "outcome": "seen_safe", "check_date": "2026-11-18"},
                 sender="dsl@ashby.example")
    run_days(inst, NOV[19], NOV[27])
    case = inst.case_for("20002")
    assert case.state == "check_reported"
    assert [r for r in by_kind(inst, "welfare_due") if r.case_id == case.id] == []
    assert "welfare_threshold_reached" in [e.event for e in inst.events(case.id)]


def test_a_case_whose_email_cannot_be_composed_does_not_stop_the_others(absent, monkeypatch):
    import worker.cases.evaluate as evaluate

    real = evaluate.not_seen_email

    def broken_for_one(app, case, pupil, *args, **kwargs):
        if pupil.pupil_ref == "20001":
            raise ValueError("bad data for this pupil")
        return real(app, case, pupil, *args, **kwargs)

    monkeypatch.setattr(evaluate, "not_seen_email", broken_for_one)
    inst, _ = absent
    run_days(inst, NOV[2], NOV[16])
    assert {c.pupil_ref for c in inst.cases()} == {"20001", "20002"}
    assert [r.pupil_ref for r in by_kind(inst, "not_seen")] == ["20002"]
    broken = inst.case_for("20001")
    assert "email_failed" in [e.event for e in inst.events(broken.id)]


def test_once_the_missing_address_is_imported_the_not_seen_email_goes(tmp_path):
    import dataclasses

    inst, data = mini_instance(tmp_path / "home", absent_from={"20003": NOV[9]})
    run_days(inst, NOV[2], NOV[17])
    case = inst.case_for("20003")
    assert case is not None and [r for r in inst.rows() if r.case_id == case.id and r.kind == "not_seen"] == []
    data.schools = tuple(dataclasses.replace(s, attendance="office@cedar.example") if s.urn == "900103" else s
                         for s in data.schools)
    inst.import_bytes("schools.csv", data.schools_csv(), when="2026-11-18 09:00")
    run_days(inst, NOV[18], NOV[19])
    [row] = [r for r in inst.rows() if r.case_id == case.id and r.kind == "not_seen"]
    assert row.to_addrs == ["office@cedar.example"] and local(row.created_at).date() == NOV[18]
    assert [e.event for e in inst.events(case.id)].count("email_failed") == 1  # recorded once, not every tick
