"""The whole way round over a real Postfix + Dovecot on loopback (issues 2 and 4).

The worker is configured for SMTP and IMAP through its settings alone (config.toml), replays
the demo data with a fixed clock (`run_once(app, at)` ticks), and every email is read back
from the recipient's mailbox over IMAP. The school's reply is built from the not-seen email
the school actually received (In-Reply-To its Message-ID), sent over SMTP from a registered
school contact to the Service mailbox, and read by the worker's next poll.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pypdf import PdfReader

from tests.helpers_e2e import (
    CALDER_ATTENDANCE,
    CALDER_DSL,
    DSL,
    HARROWGATE_ATTENDANCE,
    NS1_PUPIL,
    NS2_PUPIL,
    TRUST_DSL,
    Instance,
    config_toml,
    demo_instance,
    fetch_all,
    folder_status,
    new_tag,
    parse_eml,
    reply_to,
    smtp_send,
    wait_for_mail,
)
from worker.inbox.imap_source import ImapSource
from worker.outbox.smtp import SmtpTransport

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.mailstack import MailStack

pytestmark = pytest.mark.mailstack
pytest_plugins = ["tests.mailstack"]


@pytest.fixture
def instance(mailstack: MailStack, tmp_path: Path) -> Iterator[Instance]:
    """The demo Service on its own sub-domains, sending over SMTP and reading over IMAP."""
    tag = new_tag()
    service = f"attendance@mnhes.{tag}.example"
    config = config_toml(tag, smtp=("127.0.0.1", mailstack.smtp_port),
                         imap=("127.0.0.1", mailstack.imap_port, service, mailstack.password))
    inst = demo_instance(tmp_path / "home", tag=tag, config=config)
    yield inst
    if "transport" in inst.app.__dict__:
        inst.app.transport.close()


def test_settings_alone_switch_the_worker_to_the_real_servers(instance: Instance, mailstack: MailStack) -> None:
    transport, source = instance.app.transport, instance.app.source
    assert isinstance(transport, SmtpTransport) and (transport.host, transport.port) == ("127.0.0.1", mailstack.smtp_port)
    assert isinstance(source, ImapSource) and (source.host, source.port) == ("127.0.0.1", mailstack.imap_port)
    assert source.username == instance.mailbox and transport.security == source.security == "none"


def test_certificates_and_not_seen_email_go_out_over_smtp_and_the_reply_comes_back_over_imap(
    instance: Instance, mailstack: MailStack,
) -> None:
    """Issue 2: certificates and the not-seen email arrive; the school's reply moves the case."""
    # Fri 22 Jan 15:45: the certificates of the week of 18 Jan for the Friday schools.
    instance.tick("2027-01-22 15:45")
    certificates = instance.outbox(kind="certificate")
    assert certificates and all(row.state == "sent" for row in certificates)
    harrowgate = instance.addr(HARROWGATE_ATTENDANCE)
    (row,) = [r for r in certificates if r.to_addrs == [harrowgate]]
    names = [p.get_filename() for p in parse_eml(row.raw).iter_attachments()]
    assert sorted(names) == [f"certificate-{ref}-2027-01-18.pdf" for ref in ("33890", "52806", "58219")]
    for row in certificates:  # each school's copy, read back from its mailbox
        (to,) = row.to_addrs
        sent = {p.get_filename(): p.get_payload(decode=True) for p in parse_eml(row.raw).iter_attachments()}
        (received,) = wait_for_mail(mailstack, to, message_id=row.message_id)
        got = {p.get_filename(): p.get_payload(decode=True) for p in parse_eml(received).iter_attachments()}
        assert got == sent and got  # byte for byte, after SMTP -> Postfix -> LMTP -> Dovecot -> IMAP
        for name, pdf in got.items():
            ref = name.split("-")[1]
            assert name == f"certificate-{ref}-2027-01-18.pdf"
            assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF"), name
            reader = PdfReader(io.BytesIO(pdf))
            assert len(reader.pages) >= 1 and ref in reader.pages[0].extract_text(), name

    # Wed 27 Jan 07:00: pupil 52806 (safeguarding risk) not seen for a week: the school is emailed.
    instance.tick("2027-01-27 07:00")
    case = instance.case_for(NS2_PUPIL)
    assert case.state == "welfare_check_due"  # a risk pupil's check falls due the same morning
    (row,) = instance.outbox(kind="not_seen", case_id=case.id)
    assert row.state == "sent"
    trust_dsl = instance.addr(TRUST_DSL)
    assert trust_dsl in row.to_addrs
    (received,) = wait_for_mail(mailstack, trust_dsl, f"[{case.ref}]")
    assert str(parse_eml(received)["Message-ID"]) == row.message_id
    assert received.endswith(row.raw)  # the servers only prepend trace headers
    assert len(wait_for_mail(mailstack, instance.addr(HARROWGATE_ATTENDANCE), f"[{case.ref}]")) == 1

    # The school answers the email it received, from its registered DSL address, over SMTP.
    reply_at = instance.at("2027-01-27 11:38")
    reply = reply_to(received, from_addr=trust_dsl, from_name="Joanne Whitworth", to_addr=instance.mailbox,
                     body="Hello,\n\nHome visit done this morning, seen and well.\n\nKind regards\nJoanne Whitworth",
                     at=reply_at)
    assert parse_eml(reply)["In-Reply-To"] == row.message_id
    smtp_send(mailstack, reply, trust_dsl, [instance.mailbox])
    mailstack.wait_for_messages(instance.mailbox, 1)
    uidvalidity, _ = folder_status(mailstack, instance.mailbox)

    # The next tick polls the Service mailbox over IMAP, matches the reply and moves the case.
    report = instance.tick("2027-01-27 12:00")
    assert report.ran["inbox"] is True
    case = instance.case(case.id)
    assert (case.state, case.check_outcome, case.check_date) == ("check_reported", "seen_safe", date(2027, 1, 27))
    (item,) = instance.inbox()
    assert (item.status, item.kind, item.case_id, item.review_state) == ("processed", "check_done", case.id, None)
    assert (item.mailbox, item.uidvalidity, item.uid) == ("INBOX", uidvalidity, "1")
    assert item.sender == trust_dsl and item.message_id == parse_eml(reply)["Message-ID"]
    assert item.raw.endswith(reply.partition(b"\r\n\r\n")[2])  # stored whole
    assert item.result["matched_by"] == "in_reply_to"
    (event,) = [e for e in instance.events(case.id) if e.event == "check_reported"]
    assert (event.cause, event.evidence) == ("reply", item.message_id)
    # Done with: moved out of the inbox on the server, and never read twice.
    assert folder_status(mailstack, instance.mailbox) == (uidvalidity, 0)
    assert fetch_all(mailstack, instance.mailbox, "Processed") == [item.raw]
    assert instance.tick("2027-01-27 12:05").ran["inbox"] is False
    assert len(instance.inbox()) == 1


def test_a_school_asks_the_service_to_check_and_the_next_digest_shows_it(
    instance: Instance, mailstack: MailStack,
) -> None:
    """Issue 4: not-seen email out over SMTP, 'please do the check' back over IMAP, digest."""
    instance.tick("2027-01-25 07:00")
    case = instance.case_for(NS1_PUPIL)
    assert case.state == "school_notified"
    dsl_at_school = instance.addr(CALDER_DSL)
    (received,) = wait_for_mail(mailstack, dsl_at_school, f"[{case.ref}]")
    wait_for_mail(mailstack, instance.addr(CALDER_ATTENDANCE), f"[{case.ref}]")

    reply = reply_to(
        received, from_addr=dsl_at_school, from_name="Mark Ellerby", to_addr=instance.mailbox, client="gmail",
        at=instance.at("2027-01-25 13:52"),
        body=("Hi,\n\nThank you for letting us know. Please can the Service do the welfare check? The "
              "family have stopped answering the school's calls.\n\nThanks\nMark\n\n--\nMark Ellerby\n"
              "Designated Safeguarding Lead | Calder Heights High School"),
    )
    smtp_send(mailstack, reply, dsl_at_school, [instance.mailbox])
    mailstack.wait_for_messages(instance.mailbox, 1)

    instance.tick("2027-01-25 15:45")
    case = instance.case(case.id)
    assert case.state == "check_requested"
    (item,) = instance.inbox()
    assert (item.kind, item.case_id, item.review_state) == ("check_requested", case.id, None)
    # The DSL is told at once, by email over SMTP.
    dsl = instance.addr(DSL)
    (alert,) = wait_for_mail(mailstack, dsl, f"requested of MNHES [{case.ref}]")
    assert "Sutcliffe" not in str(parse_eml(alert)["Subject"])  # never a pupil's name in a subject

    # The next morning's digest (07:30) reaches the DSL over SMTP and shows the request.
    instance.tick("2027-01-26 07:30")
    (digest,) = wait_for_mail(mailstack, dsl, "safeguarding digest – 26/01/2027")
    text = parse_eml(digest).get_body(preferencelist=("plain",)).get_content()
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith(case.ref))
    assert f"(pupil {NS1_PUPIL})" in lines[at]
    assert "check requested of the Service" in lines[at + 1], "\n".join(lines[at: at + 3])
    assert "check requested" in lines[at + 1].split("last:")[1]
