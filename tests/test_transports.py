"""Transports without a mail server: directory, memory, and SMTP failures that need no server.

SMTP against a real server (Postfix) is in tests/test_mailstack.py.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from worker.errors import TransportError
from worker.outbox.directory import DirectoryTransport, eml_name
from worker.outbox.memory import MemoryTransport
from worker.outbox.smtp import SmtpTransport


def message(
    message_id: str | None = "<cert.w47.abc@service.example>", date: str | None = None
) -> bytes:
    headers = [
        b"From: MNHES Attendance <attendance@service.example>",
        b"To: office@heatonbrook-academy.example",
        b"Subject: Attendance certificate",
    ]
    if date is not None:
        headers.append(b"Date: " + date.encode())
    if message_id is not None:
        headers.append(b"Message-ID: " + message_id.encode())
    body = "Caf\u00e9 line with trailing space \r\n\r\n.leading dot\r\nno final newline".encode()
    return b"\r\n".join(headers) + b"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body


DATE = "Fri, 21 Nov 2025 15:30:00 +0000"
RCPT = ["office@heatonbrook-academy.example"]


# -- directory -----------------------------------------------------------------------------
def test_directory_writes_the_bytes_unchanged_under_date_and_message_id(tmp_path: Path) -> None:
    raw = message(date=DATE)
    transport = DirectoryTransport(tmp_path / "outbox")

    assert transport.send(raw, "attendance@service.example", RCPT) == {}

    files = list((tmp_path / "outbox").iterdir())
    assert [f.name for f in files] == ["20251121-153000-cert.w47.abc@service.example.eml"]
    assert files[0].read_bytes() == raw


def test_directory_names_by_utc_so_names_sort_by_time(tmp_path: Path) -> None:
    summer = message("<a@service.example>", "Mon, 30 Jun 2025 09:00:00 +0100")
    assert eml_name(summer) == "20250630-080000-a@service.example.eml"
    winter = message("<b@service.example>", "Mon, 01 Dec 2025 07:59:59 +0000")
    assert eml_name(winter) == "20251201-075959-b@service.example.eml"


def test_directory_same_message_twice_is_one_file(tmp_path: Path) -> None:
    transport = DirectoryTransport(tmp_path)
    raw = message(date=DATE)
    transport.send(raw, "attendance@service.example", RCPT)
    transport.send(raw, "attendance@service.example", RCPT)
    other = message("<other@service.example>", DATE)
    transport.send(other, "attendance@service.example", RCPT)

    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([eml_name(raw), eml_name(other)])
    assert transport.path_for(raw).read_bytes() == raw


def test_directory_leaves_nothing_but_eml_files(tmp_path: Path) -> None:
    transport = DirectoryTransport(tmp_path)
    for n in range(5):
        transport.send(message(f"<m{n}@service.example>", DATE), "a@service.example", RCPT)
    assert sorted(os.listdir(tmp_path)) == sorted(p.name for p in tmp_path.glob("*.eml"))
    assert len(os.listdir(tmp_path)) == 5


def test_directory_failed_write_leaves_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport = DirectoryTransport(tmp_path)
    first = message(date=DATE)
    transport.send(first, "a@service.example", RCPT)
    changed = first + b"\r\nchanged"

    def broken_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(TransportError) as caught:
        transport.send(changed, "a@service.example", RCPT)

    assert caught.value.permanent is False
    assert "No space left on device" in str(caught.value)
    assert os.listdir(tmp_path) == [eml_name(first)]
    assert (tmp_path / eml_name(first)).read_bytes() == first


def test_directory_unsafe_message_ids_stay_distinct_and_safe(tmp_path: Path) -> None:
    a = message("<../../etc/passwd@x.example>", DATE)
    b = message("<..-..-etc-passwd@x.example>", DATE)
    transport = DirectoryTransport(tmp_path)
    transport.send(a, "a@service.example", RCPT)
    transport.send(b, "a@service.example", RCPT)
    names = sorted(os.listdir(tmp_path))
    assert len(names) == 2
    assert all("/" not in n and not n.startswith(".") and n.endswith(".eml") for n in names)
    assert all(p.parent == tmp_path for p in tmp_path.iterdir())


def test_directory_without_date_or_message_id_is_still_idempotent(tmp_path: Path) -> None:
    raw = message(message_id=None, date=None)
    name = eml_name(raw)
    assert name.startswith("00000000-000000-sha256-")
    transport = DirectoryTransport(tmp_path)
    transport.send(raw, "a@service.example", RCPT)
    transport.send(raw, "a@service.example", RCPT)
    assert os.listdir(tmp_path) == [name]


def test_directory_refuses_an_empty_recipient_list(tmp_path: Path) -> None:
    with pytest.raises(TransportError) as caught:
        DirectoryTransport(tmp_path).send(message(date=DATE), "a@service.example", [])
    assert caught.value.permanent is True
    assert os.listdir(tmp_path) == []


# -- memory --------------------------------------------------------------------------------
def test_memory_keeps_what_was_sent() -> None:
    transport = MemoryTransport()
    raw = message(date=DATE)
    assert transport.send(raw, "a@service.example", RCPT) == {}
    assert [(m.sender, m.recipients, m.raw) for m in transport.sent] == [
        ("a@service.example", RCPT, raw)
    ]


def test_memory_fails_as_told_then_recovers() -> None:
    transport = MemoryTransport()
    transport.fail_next(2)
    transport.fail_next(permanent=True, message="550 no")
    outcomes = []
    for _ in range(4):
        try:
            transport.send(b"x", "a@service.example", RCPT)
            outcomes.append("sent")
        except TransportError as exc:
            outcomes.append("permanent" if exc.permanent else "transient")
    assert outcomes == ["transient", "transient", "permanent", "sent"]
    assert transport.attempts == 4
    assert len(transport.sent) == 1


def test_memory_refuses_some_or_all_recipients() -> None:
    transport = MemoryTransport()
    transport.refuse("Gone@Heatonbrook-Academy.example", "550 5.1.1 gone")
    both = ["gone@heatonbrook-academy.example", "office@heatonbrook-academy.example"]
    assert transport.send(b"x", "a@service.example", both) == {
        "gone@heatonbrook-academy.example": "550 5.1.1 gone"
    }
    with pytest.raises(TransportError) as caught:
        transport.send(b"x", "a@service.example", both[:1])
    assert caught.value.permanent is True
    assert len(transport.sent) == 1


# -- SMTP failures that need no server -------------------------------------------------------
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_smtp_connection_refused_is_transient() -> None:
    transport = SmtpTransport("127.0.0.1", closed_port(), security="none", timeout=5)
    with pytest.raises(TransportError) as caught:
        transport.send(message(date=DATE), "a@service.example", RCPT)
    assert caught.value.permanent is False
    assert caught.value.data["stage"] == "connect"
    assert "ConnectionRefusedError" in str(caught.value)


def test_smtp_server_that_never_greets_times_out_as_transient() -> None:
    # A socket that listens but never accepts: the kernel completes the handshake, no banner.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        transport = SmtpTransport("127.0.0.1", port, security="none", timeout=0.3)
        with pytest.raises(TransportError) as caught:
            transport.send(message(date=DATE), "a@service.example", RCPT)
    assert caught.value.permanent is False
    assert "timed out" in str(caught.value)


def test_smtp_rejects_an_unknown_security_setting() -> None:
    with pytest.raises(ValueError, match="starttls"):
        SmtpTransport("127.0.0.1", 25, security="ssl")


def test_smtp_refuses_an_empty_recipient_list_without_connecting() -> None:
    transport = SmtpTransport("127.0.0.1", closed_port(), security="none")
    with pytest.raises(TransportError) as caught:
        transport.send(b"x", "a@service.example", [])
    assert caught.value.permanent is True
    assert transport.connections == 0
