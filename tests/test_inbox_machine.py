"""Machine mail: the auto-reply header table and bounces (Postfix DSN, Exchange NDR)."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.inbox.machine import detect_machine
from worker.inbox.parse import parse_message
from worker.inbox.reply_rules import default_rules

RULES = default_rules().machine
DATA = Path(__file__).parent / "data" / "replies"


def message(*headers: str, subject: str = "RE: Pupil not seen for one week [NS-1]", body: str = "Seen today, all fine.") -> bytes:
    head = "\r\n".join(["From: A Person <a@school.example>", "To: attendance@service.example", f"Subject: {subject}", "Date: Tue, 24 Nov 2026 10:00:00 +0000", "Message-ID: <x1@school.example>", *headers])
    return (head + "\r\n\r\n" + body + "\r\n").encode()


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        ((), None),
        (("X-Auto-Response-Suppress: All",), None),  # Outlook puts this on human mail
        (("X-Auto-Response-Suppress: DR, RN, NRN, OOF, AutoReply",), None),
        (("Auto-Submitted: no",), None),
        (("Auto-Submitted: auto-replied",), "auto_reply"),
        (("Auto-Submitted: auto-generated",), "auto_reply"),
        (("X-Autoreply: yes",), "auto_reply"),
        (("X-Autorespond: Thanks",), "auto_reply"),
        (("Precedence: bulk",), "auto_reply"),
        (("Precedence: junk",), "auto_reply"),
        (("Precedence: list",), "auto_reply"),
        (("Precedence: auto_reply",), "auto_reply"),
        (("Precedence: first-class",), None),
        (("X-MS-Exchange-Inbox-Rules-Loop: a@school.example",), "auto_reply"),
        (("X-Auto-Response-Suppress: All", "Auto-Submitted: auto-replied"), "auto_reply"),
    ],
)
def test_auto_reply_header_table(headers: tuple[str, ...], kind: str | None) -> None:
    assert detect_machine(parse_message(message(*headers)), RULES).kind == kind


@pytest.mark.parametrize("subject", ["Automatic reply: Pupil not seen", "Out of Office: Pupil not seen", "Abwesenheitsnotiz: x", "Réponse automatique : x"])
def test_auto_reply_subjects(subject: str) -> None:
    assert detect_machine(parse_message(message(subject=subject)), RULES).kind == "auto_reply"


def test_exchange_ndr_multipart_report() -> None:
    verdict = detect_machine(parse_message((DATA / "g07-exchange-ndr-multipart-report.eml").read_bytes()), RULES)
    assert verdict.kind == "bounce" and verdict.permanent is True
    assert verdict.failed_recipient == "p.vogel@hillcrest.example" and verdict.status == "5.1.10"


def test_ndr_without_report_reads_the_text() -> None:
    verdict = detect_machine(parse_message((DATA / "g08-ndr-without-report.eml").read_bytes()), RULES)
    assert verdict.kind == "bounce" and verdict.permanent is True
    assert verdict.failed_recipient == "p.vogel@hillcrest.example" and verdict.status == "5.1.1"


def test_delay_is_transient() -> None:
    verdict = detect_machine(parse_message((DATA / "g12-delay-dsn-transient.eml").read_bytes()), RULES)
    assert verdict.kind == "bounce" and verdict.permanent is False and verdict.status == "4.4.1"


def test_postfix_dsn(fixtures_dir: Path) -> None:
    raw = (fixtures_dir / "replies" / "13-postfix-bounce-user-unknown.eml").read_bytes()
    parsed = parse_message(raw)
    verdict = detect_machine(parsed, RULES)
    assert verdict.kind == "bounce" and verdict.permanent is True and verdict.status == "5.1.1"
    assert verdict.failed_recipient == "j.smithson@crossley-academy.example"
    assert parsed.returned_header("X-MNHES-Case") == "NS-1053"


def test_read_receipt_is_a_notice_not_a_bounce() -> None:
    raw = (
        b"From: a@school.example\r\nTo: attendance@service.example\r\nSubject: Read: Pupil not seen\r\n"
        b"Message-ID: <mdn1@school.example>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=disposition-notification; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nYour message was read.\r\n"
        b"--b\r\nContent-Type: message/disposition-notification\r\n\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n--b--\r\n"
    )
    assert detect_machine(parse_message(raw), RULES).kind == "auto_reply"
