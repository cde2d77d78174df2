"""The outbox: recorded before sending, sent at most once per idempotency key, even when two
dispatchers race or the worker restarts; failures are told apart; pupil data only goes to
registered addresses.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tests.helpers_instance import MiniData, make_instance, parse_eml, sent_at
from worker.app import App
from worker.config import load_settings
from worker.db.models import AuditEntry, OutboxMessage
from worker.errors import TransportError, UnsafeRecipient
from worker.outbox.compose import Attachment, Email, to_bytes
from worker.outbox.dispatch import GIVE_UP_AFTER, dispatch_pending, recover_interrupted
from worker.outbox.guard import check_recipients
from worker.outbox.memory import MemoryTransport
from worker.outbox.store import enqueue

AT = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)  # 07:00 in London (GMT)
SUMMER = datetime(2026, 6, 10, 14, 30, tzinfo=UTC)  # 15:30 in London (BST)
LOOP = "X-MNHES-Courier"


def make_email(n: int, *, at: datetime = AT, to: list[str] | None = None, html: bool = False,
               attachments: list[Attachment] | None = None) -> Email:
    return Email(
        kind="test", from_addr="attendance@service.example", from_name="MNHES Attendance",
        to=to or ["office@ashby.example"], cc=["dana.warden@service.example"],
        reply_to="MNHES Attendance <attendance@service.example>",
        subject=f"Test message {n}", text=f"Body {n}\n", html=f"<p>Body {n}</p>" if html else None,
        message_id=f"<test.{n}.2026w48.00000000@service.example>", date=at,
        attachments=attachments or [],
    )


@pytest.fixture
def inst(tmp_path):
    inst = make_instance(tmp_path / "home", transport=MemoryTransport())
    MiniData().load_roster(inst)
    return inst


def queue(inst, n: int, key: str | None = None, **kw) -> tuple[OutboxMessage, bool]:
    with inst.app.sessions.begin() as session:
        row, created = enqueue(session, make_email(n, **kw), idem_key=key or f"test:{n}", loop_header=LOOP, at=AT)
        session.flush()
        session.expunge(row)
        return row, created


def states(inst) -> dict[str, str]:
    return {row.idem_key: row.state for row in inst.rows()}


def sent_audits(inst) -> list[str]:
    with inst.app.sessions() as session:
        return [a.detail["message_id"] for a in session.scalars(
            select(AuditEntry).where(AuditEntry.action == "outbox.sent").order_by(AuditEntry.id))]


# --- composing ------------------------------------------------------------------------------------


def test_bytes_carry_the_replayed_time_and_say_they_are_automatic():
    msg = parse_eml(to_bytes(make_email(1, html=True), LOOP))
    assert sent_at(msg) == AT
    assert str(msg["Date"]).endswith("+0000")  # London in November is GMT
    assert str(msg["Message-ID"]) == "<test.1.2026w48.00000000@service.example>"
    assert str(msg["Reply-To"]) == "MNHES Attendance <attendance@service.example>"
    assert str(msg["Auto-Submitted"]) == "auto-generated"
    assert str(msg[LOOP]) == "attendance-courier"
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    summer = parse_eml(to_bytes(make_email(2, at=SUMMER), LOOP))
    assert sent_at(summer) == SUMMER and str(summer["Date"]).endswith("+0100")


def test_attachments_keep_their_names_and_bytes():
    pdf = b"%PDF-1.7 fake"
    msg = parse_eml(to_bytes(make_email(1, attachments=[Attachment("certificate-1-2026-11-23.pdf", pdf)]), LOOP))
    [part] = list(msg.iter_attachments())
    assert part.get_filename() == "certificate-1-2026-11-23.pdf"
    assert part.get_content_type() == "application/pdf"
    assert part.get_content() == pdf


# --- recording and idempotency ----------------------------------------------------------------------


def test_an_idempotency_key_is_recorded_once(inst):
    first, created = queue(inst, 1, key="digest:2026-11-26")
    again, created_again = queue(inst, 2, key="digest:2026-11-26")
    assert created and not created_again
    assert again.id == first.id
    [row] = inst.rows()
    assert row.subject == "Test message 1" and row.state == "pending"
    assert row.raw and parse_eml(row.raw)["Subject"] == "Test message 1"


def test_dispatch_sends_each_row_once_and_calls_the_hook_once(inst):
    for n in range(3):
        queue(inst, n)
    hooked: list[int] = []
    result = dispatch_pending(inst.app.sessions, inst.app.transport, AT,
                              on_sent=lambda session, row, at: hooked.append(row.id))
    assert sorted(result.sent) == sorted(hooked) and len(hooked) == 3
    again = dispatch_pending(inst.app.sessions, inst.app.transport, AT + timedelta(minutes=1))
    assert not again.did_work
    assert len(inst.app.transport.sent) == 3
    assert set(states(inst).values()) == {"sent"}
    assert all(row.sent_at == AT and row.attempts == 1 for row in inst.rows())
    # envelope: To and Cc, each once
    assert inst.app.transport.sent[0].recipients == ["office@ashby.example", "dana.warden@service.example"]


def test_a_key_sent_before_a_restart_is_not_sent_again(tmp_path):
    home = tmp_path / "home"
    inst = make_instance(home)  # DirectoryTransport: .eml files in outbox/
    queue(inst, 1, key="certificate:2026-11-23:900101")
    dispatch_pending(inst.app.sessions, inst.app.transport, AT)
    files = sorted((home / "outbox").glob("*.eml"))
    assert len(files) == 1
    # a new process on the same instance: the same key cannot be queued or sent again
    app = App(settings=load_settings(home, environ={}), transport_override=MemoryTransport())
    with app.sessions.begin() as session:
        _, created = enqueue(session, make_email(9), idem_key="certificate:2026-11-23:900101", loop_header=LOOP,
                             at=AT + timedelta(days=1))
    assert not created
    assert not dispatch_pending(app.sessions, app.transport, AT + timedelta(days=1)).did_work
    assert app.transport.sent == []
    assert sorted((home / "outbox").glob("*.eml")) == files


# --- two dispatchers ------------------------------------------------------------------------------------


class RacingTransport(MemoryTransport):
    """While sending its first message, lets a second dispatcher loose on the same database."""

    def __init__(self, sessions, rival: MemoryTransport) -> None:
        super().__init__()
        self.sessions, self.rival, self.rival_result = sessions, rival, None

    def send(self, raw, sender, recipients):
        if self.rival_result is None:
            self.rival_result = dispatch_pending(self.sessions, self.rival, AT)
        return super().send(raw, sender, recipients)


def test_two_dispatchers_never_send_the_same_row(inst):
    for n in range(5):
        queue(inst, n)
    rival = MemoryTransport()
    first = RacingTransport(inst.app.sessions, rival)
    result = dispatch_pending(inst.app.sessions, first, AT)
    # the rival started after the first dispatcher had listed all five rows and claimed the first:
    # it skipped the row being sent and took the other four, which the first then failed to claim
    assert len(first.sent) == 1 and len(rival.sent) == 4
    assert result.sent == [inst.rows()[0].id]
    ids = [parse_eml(m.raw)["Message-ID"] for m in first.sent + rival.sent]
    assert len(ids) == len(set(ids)) == 5
    assert len(sent_audits(inst)) == 5
    assert set(states(inst).values()) == {"sent"}


def test_two_worker_processes_in_threads_send_each_row_once(tmp_path):
    home = tmp_path / "home"
    inst = make_instance(home, transport=MemoryTransport())
    for n in range(40):
        queue(inst, n)
    apps = [App(settings=load_settings(home, environ={}), transport_override=MemoryTransport()) for _ in range(2)]
    for app in apps:
        _ = app.engine
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(app: App) -> None:
        try:
            start.wait(timeout=10)
            dispatch_pending(app.sessions, app.transport, AT)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    sent = [parse_eml(m.raw)["Message-ID"] for app in apps for m in app.transport.sent]
    assert len(sent) == len(set(sent)) == 40
    assert set(states(inst).values()) == {"sent"}


# --- failures ------------------------------------------------------------------------------------------------


def test_a_transient_failure_is_retried_on_the_next_tick(inst):
    queue(inst, 1)
    inst.app.transport.fail_next(1, permanent=False, message="421 try again later")
    result = dispatch_pending(inst.app.sessions, inst.app.transport, AT)
    assert result.retry and not result.sent
    [row] = inst.rows()
    assert (row.state, row.attempts, row.last_error) == ("pending", 1, "421 try again later")
    result = dispatch_pending(inst.app.sessions, inst.app.transport, AT + timedelta(minutes=1))
    assert len(result.sent) == 1
    [row] = inst.rows()
    assert (row.state, row.attempts, row.last_error) == ("sent", 2, None)
    assert len(inst.app.transport.sent) == 1


def test_a_permanent_failure_is_not_retried(inst):
    queue(inst, 1)
    inst.app.transport.fail_next(1, permanent=True, message="550 5.1.1 no such user")
    assert dispatch_pending(inst.app.sessions, inst.app.transport, AT).failed
    for minute in range(1, 4):
        assert not dispatch_pending(inst.app.sessions, inst.app.transport, AT + timedelta(minutes=minute)).did_work
    [row] = inst.rows()
    assert (row.state, row.attempts) == ("failed", 1)
    assert inst.app.transport.attempts == 1 and inst.app.transport.sent == []


def test_transient_failures_are_retried_until_the_email_is_days_old(inst):
    """A relay that keeps saying 4xx: retried every tick; only after GIVE_UP_AFTER is it `failed`."""
    queue(inst, 1)
    inst.app.transport.fail_next(1000, permanent=False)
    ticks = [AT + timedelta(minutes=m) for m in range(0, 60 * 24 * 2, 60)]  # two days, hourly
    for at in ticks:
        dispatch_pending(inst.app.sessions, inst.app.transport, at)
    [row] = inst.rows()
    assert (row.state, row.attempts) == ("pending", len(ticks))
    dispatch_pending(inst.app.sessions, inst.app.transport, AT + GIVE_UP_AFTER)
    [row] = inst.rows()
    assert row.state == "failed" and row.attempts == len(ticks) + 1


def test_a_server_failure_leaves_every_email_pending_and_reports_it(inst):
    """Connection or login refused says nothing about the emails: none is held against, none failed."""
    from worker.errors import TransportError

    class LoginRefused:
        name = "refusing"
        calls = 0

        def send(self, raw, sender, recipients):
            LoginRefused.calls += 1
            raise TransportError("535 5.7.8 authentication failed", permanent=True, stage="login")

    queue(inst, 3)
    result = dispatch_pending(inst.app.sessions, LoginRefused(), AT)
    assert result.server_error is not None and LoginRefused.calls == 1  # the others were not tried
    assert {(row.state, row.attempts) for row in inst.rows()} == {("pending", 0)}
    assert dispatch_pending(inst.app.sessions, inst.app.transport, AT + timedelta(minutes=1)).sent
    assert {row.state for row in inst.rows()} == {"sent"}


def test_refused_recipients_are_kept_with_the_row(inst):
    queue(inst, 1)
    inst.app.transport.refuse("dana.warden@service.example", "550 mailbox full")
    assert dispatch_pending(inst.app.sessions, inst.app.transport, AT).sent
    [row] = inst.rows()
    assert row.state == "sent"
    assert row.detail["refused"] == {"dana.warden@service.example": "550 mailbox full"}


# --- interrupted sends --------------------------------------------------------------------------------------


def _interrupt(inst, n: int) -> int:
    """What a crash between the claim and the server's answer leaves behind."""
    row, _ = queue(inst, n)
    with inst.app.sessions.begin() as session:
        session.get(OutboxMessage, row.id).state = "sending"
    return row.id


def test_an_interrupted_send_becomes_unknown_and_is_never_resent(inst):
    row_id = _interrupt(inst, 1)
    queue(inst, 2)
    assert dispatch_pending(inst.app.sessions, inst.app.transport, AT).sent != [row_id]
    assert recover_interrupted(inst.app.sessions, AT) == [row_id]
    for minute in range(3):
        dispatch_pending(inst.app.sessions, inst.app.transport, AT + timedelta(minutes=minute))
    assert states(inst) == {"test:1": "unknown", "test:2": "sent"}
    assert [parse_eml(m.raw)["Subject"] for m in inst.app.transport.sent] == ["Test message 2"]
    assert recover_interrupted(inst.app.sessions, AT) == []


def test_a_transport_bug_leaves_the_row_claimed_not_resent(inst):
    class Broken(MemoryTransport):
        def send(self, raw, sender, recipients):
            raise RuntimeError("bug in a transport")

    queue(inst, 1)
    with pytest.raises(RuntimeError):
        dispatch_pending(inst.app.sessions, Broken(), AT)
    assert states(inst) == {"test:1": "sending"}
    assert not dispatch_pending(inst.app.sessions, inst.app.transport, AT).did_work
    assert recover_interrupted(inst.app.sessions, AT)
    assert states(inst) == {"test:1": "unknown"}
    assert inst.app.transport.sent == []


def test_run_once_from_the_command_line_recovers_interrupted_sends(tmp_path):
    home = tmp_path / "home"
    inst = make_instance(home)
    MiniData().load_roster(inst)
    _interrupt(inst, 1)
    queue(inst, 2)
    from worker.cli import cli

    result = CliRunner().invoke(cli, ["--home", str(home), "run", "--once", "--at", "2026-11-26 07:05",
                                      "--job", "dispatch"])
    assert result.exit_code == 0, result.output
    assert states(inst) == {"test:1": "unknown", "test:2": "sent"}
    assert [p.name for p in (home / "outbox").glob("*.eml")] and len(list((home / "outbox").glob("*.eml"))) == 1


def test_the_long_running_worker_recovers_interrupted_sends_when_it_starts(inst):
    from worker.service import Stopper, run_forever

    _interrupt(inst, 1)
    stopper = Stopper()
    stopper.event.set()  # stop straight after start-up
    run_forever(inst.app, stopper, slice_seconds=0)
    assert states(inst) == {"test:1": "unknown"}
    assert inst.app.transport.sent == []


# --- the guard --------------------------------------------------------------------------------------------------


def test_guard_allows_registered_contacts_and_service_staff(inst):
    with inst.app.sessions() as session:
        check_recipients(session, ["office@ashby.example", "DSL@Ashby.example", "Dana Warden <dana.warden@service.example>",
                                   "attendance@service.example"], school_urns=["900101"],
                         mailbox="attendance@service.example")


@pytest.mark.parametrize("address", [
    "head@ashby.example",  # the school's domain, but not a registered contact
    "attendance@brook.example",  # another school's contact
    "someone@gmail.example",
    "office@ashby.example.evil.example",
    "office@ashby.example, someone@gmail.example",  # two addresses in one string
    "Office <office@ashby.example> <someone@gmail.example>",
])
def test_guard_refuses_anything_else(inst, address):
    with inst.app.sessions() as session, pytest.raises(UnsafeRecipient) as raised:
        check_recipients(session, ["office@ashby.example", address], school_urns=["900101"],
                         mailbox="attendance@service.example")
    assert raised.value.data["address"] == address.lower()
    assert "nothing was sent" in str(raised.value)


def test_guard_refuses_school_addresses_when_no_school_is_named(inst):
    with inst.app.sessions() as session, pytest.raises(UnsafeRecipient):
        check_recipients(session, ["office@ashby.example"], school_urns=[], mailbox="attendance@service.example")
    with inst.app.sessions() as session:
        check_recipients(session, ["alma.register@service.example"], school_urns=[],
                         mailbox="attendance@service.example")


def test_failed_transport_errors_are_the_projects_own():
    error = TransportError("boom", permanent=True, stage="send")
    assert error.permanent and error.data["stage"] == "send"


def test_a_long_subject_reads_back_exactly():
    """Folding a long subject left a leading space in some readers' view of it."""
    import email as email_pkg
    from email import policy

    from worker.outbox.compose import Email, to_bytes

    subject = "Reminder: we are waiting for your reply about a pupil we have not seen [NS-123]"
    message = Email(kind="t", from_addr="a@service.example", from_name="A", to=["b@school.example"],
                    subject=subject, text="x\n", message_id="<t.1.2026w47.00000000@service.example>", date=AT)
    parsed = email_pkg.message_from_bytes(to_bytes(message, "X-Loop"), policy=policy.default)
    assert str(parsed["Subject"]) == subject
