"""The mail edges against real servers: SmtpTransport -> Postfix -> LMTP -> Dovecot -> ImapSource.

Every test uses fresh addresses, so tests sharing the one stack never share a mailbox.
"""

from __future__ import annotations

import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import TYPE_CHECKING

import pytest

from worker.errors import SourceError, TransportError
from worker.inbox.imap_source import PROCESSED_KEYWORD, ImapSource
from worker.outbox.smtp import SmtpTransport

if TYPE_CHECKING:
    from tests.mailstack import MailStack

pytestmark = pytest.mark.mailstack
pytest_plugins = ["tests.mailstack"]  # the session fixture `mailstack`

SENDER = "attendance@service.example"
SCHOOL = "heatonbrook-academy.example"


def compose(to: str, subject: str = "Attendance certificate", n: int = 1) -> bytes:
    """A certificate-like message with 8-bit text and a PDF-like attachment."""
    msg = EmailMessage()
    msg["From"] = f"MNHES Attendance <{SENDER}>"
    msg["To"] = to
    msg["Subject"] = f"{subject} {n}"
    msg["Date"] = format_datetime(datetime(2025, 11, 21, 15, 30, n, tzinfo=UTC))
    msg["Message-ID"] = make_msgid(domain="service.example")
    msg.set_content(
        "Caf\u00e9 na\u00efve \u2013 week 47.\n.A line starting with a dot\n", cte="8bit"
    )
    msg.add_attachment(bytes(range(256)) * 8, maintype="application", subtype="pdf",
                       filename="certificate.pdf")  # fmt: skip
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def imap_source(
    stack: MailStack, user: str, slept: list[float] | None = None, **kw: object
) -> ImapSource:
    options: dict = {
        "security": "none", "username": user, "password": stack.password, "timeout": 10,
        "sleep": (slept.append if slept is not None else _no_sleep),
    }  # fmt: skip
    options.update(kw)
    port = options.pop("port", stack.imap_port)
    return ImapSource("127.0.0.1", port, **options)


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"unexpected backoff sleep of {seconds}s")


def plain_transport(stack: MailStack, **kw: object) -> SmtpTransport:
    options: dict = {"security": "none", "timeout": 10}
    options.update(kw)
    port = options.pop("port", stack.smtp_port)
    return SmtpTransport("127.0.0.1", port, **options)


def test_stack_starts_in_a_few_seconds(mailstack: MailStack) -> None:
    print(f"mail stack started in {mailstack.startup_seconds:.1f}s")
    assert 0 < mailstack.startup_seconds < 15


# -- the whole way round ---------------------------------------------------------------------
def test_smtp_to_postfix_to_dovecot_and_back_through_imap(mailstack: MailStack) -> None:
    school = mailstack.address(SCHOOL, "office")
    service = mailstack.address("service.example", "attendance")
    raw = compose(school)
    transport = plain_transport(mailstack)
    try:
        assert transport.send(raw, SENDER, [school, service]) == {}
    finally:
        transport.close()
    mailstack.wait_for_messages(school, 1)
    mailstack.wait_for_messages(service, 1)

    source = imap_source(mailstack, school)
    try:
        (got,) = list(source.fetch())
        # Postfix and Dovecot only prepend trace headers: the message itself is byte for byte.
        assert got.raw.endswith(raw)
        assert got.raw[: -len(raw)].startswith(b"Return-Path: <attendance@service.example>")
        with mailstack.imap(school) as client:
            info = client.select_folder("INBOX", readonly=True)
            assert got.uidvalidity == info[b"UIDVALIDITY"]
            assert got.mailbox == "INBOX"
            flags = client.get_flags([int(got.uid)])[int(got.uid)]
            assert b"\\Seen" not in flags  # fetched with BODY.PEEK[]

        source.mark_processed(got)
        source.mark_processed(got)  # twice (a retry after a crash): harmless
        assert list(source.fetch()) == []
        with mailstack.imap(school) as client:
            assert client.select_folder("INBOX", readonly=True)[b"EXISTS"] == 0
            client.select_folder("Processed", readonly=True)
            moved = client.search(["ALL"])
            assert len(moved) == 1
            body = client.fetch(moved, ["BODY.PEEK[]"])[moved[0]][b"BODY[]"]
            assert body == got.raw
    finally:
        source.close()


def test_already_done_messages_are_skipped_without_fetching(mailstack: MailStack) -> None:
    user = mailstack.address(SCHOOL)
    for n in (1, 2, 3):
        mailstack.deliver_lmtp(compose(user, n=n), user)
    mailstack.wait_for_messages(user, 3)
    source = imap_source(mailstack, user, batch_size=2)
    try:
        first = list(source.fetch())
        assert [m.uid for m in first] == ["1", "2", "3"]
        done = {(m.mailbox, m.uidvalidity, m.uid) for m in first[:2]}
        again = list(source.fetch(done))
        assert again == [first[2]]
    finally:
        source.close()


def test_without_move_a_keyword_marks_the_message_and_the_search_skips_it(
    mailstack: MailStack,
) -> None:
    user = mailstack.address(SCHOOL)
    mailstack.deliver_lmtp(compose(user, n=1), user)
    mailstack.deliver_lmtp(compose(user, n=2), user)
    mailstack.wait_for_messages(user, 2)
    source = imap_source(mailstack, user, use_move=False)
    try:
        first, second = list(source.fetch())
        source.mark_processed(first)
        assert list(source.fetch()) == [second]
    finally:
        source.close()
    with mailstack.imap(user) as client:
        client.select_folder("INBOX", readonly=True)
        assert client.search(["KEYWORD", PROCESSED_KEYWORD]) == [int(first.uid)]
        assert not client.folder_exists("Processed")


def test_a_new_uidvalidity_voids_the_uids_listed_before(mailstack: MailStack) -> None:
    user = mailstack.address(SCHOOL)
    with mailstack.imap(user) as client:
        client.create_folder("Replies")
        for n in (1, 2):
            client.append("Replies", compose(user, n=n))
    slept: list[float] = []
    source = imap_source(mailstack, user, slept, mailbox="Replies", batch_size=1)
    try:
        listed = source.fetch()
        first = next(listed)
        third = compose(user, n=3)
        with mailstack.imap(user) as client:  # someone rebuilds the folder: new UIDVALIDITY
            client.delete_folder("Replies")
            client.create_folder("Replies")
            client.append("Replies", third)
        mailstack.kick(user)
        with pytest.raises(SourceError, match="UIDVALIDITY changed"):
            next(listed)
        with pytest.raises(SourceError, match="UIDVALIDITY changed"):
            source.mark_processed(first)  # UID 1 is now another message: never move it
        (fresh,) = list(source.fetch())
        assert fresh.uidvalidity != first.uidvalidity
        assert fresh.raw == third
        assert slept == [1.0]
    finally:
        source.close()


# -- IMAP: security, login, reconnecting ------------------------------------------------------
def test_imap_over_tls_with_the_self_signed_certificate(mailstack: MailStack) -> None:
    user = mailstack.address(SCHOOL)
    mailstack.deliver_lmtp(compose(user), user)
    mailstack.wait_for_messages(user, 1)
    for security, port in (("tls", mailstack.imaps_port), ("starttls", mailstack.imap_port)):
        source = imap_source(
            mailstack, user, security=security, port=port, ssl_context=mailstack.ssl_context()
        )
        try:
            assert len(list(source.fetch())) == 1, security
        finally:
            source.close()


def test_imap_untrusted_certificate_is_an_error_not_a_retry(mailstack: MailStack) -> None:
    user = mailstack.address(SCHOOL)
    source = imap_source(
        mailstack, user, security="tls", port=mailstack.imaps_port,
        ssl_context=ssl.create_default_context(),  # the system's CAs do not know the stack's
    )  # fmt: skip
    with pytest.raises(SourceError, match="not trusted") as caught:
        list(source.fetch())
    assert caught.value.data["stage"] == "tls"


def test_imap_wrong_password_is_an_error_not_a_retry(mailstack: MailStack) -> None:
    source = imap_source(mailstack, mailstack.address(SCHOOL), password="wrong")
    with pytest.raises(SourceError, match="login refused") as caught:
        list(source.fetch())
    assert caught.value.data["stage"] == "login"


def test_imap_missing_mailbox_is_an_error_not_a_retry(mailstack: MailStack) -> None:
    source = imap_source(mailstack, mailstack.address(SCHOOL), mailbox="No-Such-Folder")
    with pytest.raises(SourceError, match="No-Such-Folder"):
        list(source.fetch())


def test_imap_reconnects_after_the_server_drops_the_session(mailstack: MailStack) -> None:
    user = mailstack.address(SCHOOL)
    for n in (1, 2, 3):
        mailstack.deliver_lmtp(compose(user, n=n), user)
    mailstack.wait_for_messages(user, 3)
    slept: list[float] = []
    source = imap_source(mailstack, user, slept, batch_size=1)
    try:
        messages = source.fetch()
        first = next(messages)
        mailstack.kick(user)  # the server ends the session between two batches
        rest = list(messages)
        assert [m.uid for m in [first, *rest]] == ["1", "2", "3"]
        assert slept == [1.0]
        assert source.reconnects == 1

        mailstack.kick(user)  # and between two calls
        source.mark_processed(first)
        assert slept == [1.0, 1.0]
        assert [m.uid for m in source.fetch()] == ["2", "3"]
    finally:
        source.close()


def test_imap_survives_a_dovecot_restart(mailstack: MailStack) -> None:
    user = mailstack.address(SCHOOL)
    mailstack.deliver_lmtp(compose(user), user)
    mailstack.wait_for_messages(user, 1)
    slept: list[float] = []
    source = imap_source(mailstack, user, slept)
    try:
        assert len(list(source.fetch())) == 1
        mailstack.restart_dovecot()
        assert len(list(source.fetch())) == 1
        assert slept == [1.0]
    finally:
        source.close()


# -- SMTP: security, login, refusals -----------------------------------------------------------
def received_via(stack: MailStack, user: str, count: int) -> list[str]:
    """The Received header Postfix added to each message: says ESMTP(S)(A) and the TLS used."""
    uids = stack.wait_for_messages(user, count)
    with stack.imap(user) as client:
        client.select_folder("INBOX", readonly=True)
        data = client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (RECEIVED)]"])
    return [
        " ".join(item[b"BODY[HEADER.FIELDS (RECEIVED)]"].decode().split()) for item in data.values()
    ]


def test_smtp_over_starttls_and_tls_with_login(mailstack: MailStack) -> None:
    login = {"username": SENDER, "password": mailstack.password}
    for security, port in (("starttls", mailstack.smtp_port), ("tls", mailstack.smtps_port)):
        user = mailstack.address(SCHOOL)
        transport = plain_transport(
            mailstack, security=security, port=port, ssl_context=mailstack.ssl_context(), **login
        )
        try:
            assert transport.send(compose(user), SENDER, [user]) == {}
        finally:
            transport.close()
        (received,) = received_via(mailstack, user, 1)
        assert "with ESMTPSA" in received and "(using TLSv1." in received, (security, received)


def test_smtp_wrong_password_is_permanent(mailstack: MailStack) -> None:
    transport = plain_transport(mailstack, username=SENDER, password="wrong")
    with pytest.raises(TransportError) as caught:
        transport.send(compose("x@service.example"), SENDER, ["x@service.example"])
    assert caught.value.permanent is True
    assert caught.value.data["stage"] == "login"
    assert caught.value.data["code"] == 535


def test_smtp_starttls_where_the_server_offers_none_is_permanent(mailstack: MailStack) -> None:
    transport = plain_transport(mailstack, security="starttls", port=mailstack.smtp_plain_port)
    with pytest.raises(TransportError, match="STARTTLS") as caught:
        transport.send(compose("x@service.example"), SENDER, ["x@service.example"])
    assert caught.value.permanent is True


def test_smtp_tls_to_a_plain_port_or_an_untrusted_certificate_is_transient(
    mailstack: MailStack,
) -> None:
    cases = [
        plain_transport(mailstack, security="tls", port=mailstack.smtp_plain_port,
                        ssl_context=mailstack.ssl_context(), timeout=5),
        plain_transport(mailstack, security="starttls", port=mailstack.smtp_port),  # system CAs
    ]  # fmt: skip
    for transport in cases:
        with pytest.raises(TransportError) as caught:
            transport.send(compose("x@service.example"), SENDER, ["x@service.example"])
        assert caught.value.permanent is False
        assert caught.value.data["stage"] == "tls"


def test_smtp_plain_really_means_no_starttls_and_helo_is_ours(mailstack: MailStack) -> None:
    # yagmail starts TLS unless told not to, and this port offers STARTTLS: a slip would
    # show in the Received header as ESMTPS.
    user = mailstack.address(SCHOOL)
    transport = plain_transport(mailstack, helo="courier.service.example")
    try:
        transport.send(compose(user), SENDER, [user])
    finally:
        transport.close()
    (received,) = received_via(mailstack, user, 1)
    assert "with ESMTP id" in received and "using TLS" not in received, received
    assert "from courier.service.example (" in received, received


def test_smtp_refusals_permanent_transient_and_partial(mailstack: MailStack) -> None:
    good = mailstack.address(SCHOOL)
    transport = plain_transport(mailstack)
    try:
        with pytest.raises(TransportError) as outside:
            transport.send(compose("a@elsewhere.test"), SENDER, ["a@elsewhere.test"])
        assert outside.value.permanent is True
        assert outside.value.data["refused"]["a@elsewhere.test"].startswith("554 5.7.1")

        deferred = f"defer-{good}"
        with pytest.raises(TransportError) as busy:
            transport.send(compose(deferred), SENDER, [deferred])
        assert busy.value.permanent is False
        assert busy.value.data["refused"][deferred].startswith("450 4.2.0")

        rejected = f"reject-{good}"
        refused = transport.send(compose(good), SENDER, [good, rejected])
        assert list(refused) == [rejected]
        assert refused[rejected].startswith("550 5.1.1")
    finally:
        transport.close()
    mailstack.wait_for_messages(good, 1)


def test_smtp_keeps_one_connection_and_reconnects_when_dropped(mailstack: MailStack) -> None:
    user = mailstack.address(SCHOOL)
    transport = plain_transport(mailstack)
    try:
        for n in (1, 2, 3):
            assert transport.send(compose(user, n=n), SENDER, [user]) == {}
        assert transport.connections == 1
        assert mailstack.drop_smtp_sessions() >= 1
        assert transport.send(compose(user, n=4), SENDER, [user]) == {}
        assert transport.connections == 2
    finally:
        transport.close()
    mailstack.wait_for_messages(user, 4)
