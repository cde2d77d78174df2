"""Sources without a mail server: Maildir, memory, and IMAP when nothing answers.

IMAP against a real server (Dovecot) is in tests/test_mailstack.py.
"""

from __future__ import annotations

import mailbox
import os
import socket
from pathlib import Path

import pytest

from worker.errors import SourceError
from worker.inbox.imap_source import ImapSource
from worker.inbox.maildir_source import UIDVALIDITY_FILE, MaildirSource
from worker.inbox.memory_source import MemorySource
from worker.inbox.source import RawMessage


def reply(n: int, text: str = "Seen on Tuesday, thanks.") -> bytes:
    return (
        f"From: office@heatonbrook-academy.example\r\n"
        f"To: attendance@service.example\r\n"
        f"Subject: Re: Not seen for one week {n}\r\n"
        f"Message-ID: <reply{n}@heatonbrook-academy.example>\r\n"
        f"\r\n{text}\r\n"
    ).encode()


def deliver(path: Path, raw: bytes) -> str:
    """Deliver as a mail delivery agent does (tmp/ then new/), with the stdlib."""
    return mailbox.Maildir(path, factory=None).add(raw)


# -- Maildir -------------------------------------------------------------------------------
def test_maildir_is_created_with_a_stable_uidvalidity(tmp_path: Path) -> None:
    path = tmp_path / "inbox"
    first = MaildirSource(path)
    assert {p.name for p in path.iterdir()} >= {"tmp", "new", "cur", UIDVALIDITY_FILE}
    again = MaildirSource(path)
    assert first.uidvalidity == again.uidvalidity > 0
    assert (path / UIDVALIDITY_FILE).read_text().strip() == str(first.uidvalidity)
    assert MaildirSource(tmp_path / "other").uidvalidity != first.uidvalidity  # 1 in 2**31 flake


def test_maildir_uidvalidity_file_that_is_not_a_number_is_reported(tmp_path: Path) -> None:
    MaildirSource(tmp_path)
    (tmp_path / UIDVALIDITY_FILE).write_text("twelve\n")
    with pytest.raises(SourceError, match="should hold a number"):
        MaildirSource(tmp_path)


def test_maildir_reads_delivered_messages_unchanged_with_their_key_as_uid(tmp_path: Path) -> None:
    source = MaildirSource(tmp_path)
    key = deliver(tmp_path, reply(1))
    (got,) = list(source.fetch())
    assert got == RawMessage("INBOX", source.uidvalidity, key, reply(1))


def test_maildir_reads_a_dropped_eml_file_and_messages_in_cur(tmp_path: Path) -> None:
    source = MaildirSource(tmp_path)
    (tmp_path / "new" / "reply from school.eml").write_bytes(reply(1))
    key = deliver(tmp_path, reply(2))
    os.rename(tmp_path / "new" / key, tmp_path / "cur" / f"{key}:2,S")  # a person read it
    (tmp_path / "new" / ".hidden-partial").write_bytes(b"half")
    (tmp_path / "tmp" / "being-delivered").write_bytes(b"half")

    got = {m.raw: m.uid for m in source.fetch()}

    assert set(got) == {reply(1), reply(2)}
    assert got[reply(2)] == key
    assert got[reply(1)].startswith("reply from school.eml#")


def test_maildir_mark_processed_moves_the_file_unchanged(tmp_path: Path) -> None:
    source = MaildirSource(tmp_path)
    deliver(tmp_path, reply(1))
    (tmp_path / "new" / "dropped.eml").write_bytes(reply(2))

    for message in list(source.fetch()):
        source.mark_processed(message)

    assert list(source.fetch()) == []
    assert os.listdir(tmp_path / "new") == [] and os.listdir(tmp_path / "cur") == []
    moved = list((tmp_path / ".Processed" / "cur").iterdir())
    assert sorted(p.read_bytes() for p in moved) == sorted([reply(1), reply(2)])
    assert "Processed" in mailbox.Maildir(tmp_path, factory=None).list_folders()


def test_maildir_a_second_file_of_the_same_name_is_a_new_message(tmp_path: Path) -> None:
    source = MaildirSource(tmp_path)
    done: set[tuple[str, int, str]] = set()
    seen = []
    for text in ("First answer.", "Second answer."):
        (tmp_path / "new" / "reply.eml").write_bytes(reply(1, text))
        for message in source.fetch(done):
            seen.append(message.raw)
            done.add((message.mailbox, message.uidvalidity, message.uid))
            source.mark_processed(message)
    assert seen == [reply(1, "First answer."), reply(1, "Second answer.")]
    moved = sorted(p.read_bytes() for p in (tmp_path / ".Processed" / "cur").iterdir())
    assert moved == sorted(seen)  # the second move did not overwrite the first


def test_maildir_skips_what_is_already_done(tmp_path: Path) -> None:
    source = MaildirSource(tmp_path)
    key1 = deliver(tmp_path, reply(1))
    key2 = deliver(tmp_path, reply(2))
    got = list(source.fetch({("INBOX", source.uidvalidity, key1)}))
    assert [m.uid for m in got] == [key2]


def test_maildir_marking_twice_or_a_foreign_message(tmp_path: Path) -> None:
    source = MaildirSource(tmp_path)
    deliver(tmp_path, reply(1))
    (message,) = list(source.fetch())
    source.mark_processed(message)
    source.mark_processed(message)  # already moved: nothing to do, nothing lost
    assert len(list((tmp_path / ".Processed" / "cur").iterdir())) == 1
    foreign = RawMessage("INBOX", source.uidvalidity + 1, message.uid, message.raw)
    with pytest.raises(SourceError, match="not from this Maildir"):
        source.mark_processed(foreign)


# -- memory --------------------------------------------------------------------------------
def test_memory_source_lists_skips_and_moves() -> None:
    source = MemorySource([reply(1), reply(2)])
    first, second = list(source.fetch())
    assert (first.uid, second.uid) == ("1", "2")
    assert [m.uid for m in source.fetch({("INBOX", 1, "1")})] == ["2"]
    source.mark_processed(first)
    assert list(source.fetch()) == [second]
    assert source.processed == [first]
    third = source.add(reply(3))
    assert third.uid == "3"


def test_memory_source_fails_as_told() -> None:
    source = MemorySource([reply(1)])
    source.fail_next()
    with pytest.raises(SourceError):
        list(source.fetch())
    assert len(list(source.fetch())) == 1


# -- IMAP when nothing answers -----------------------------------------------------------------
def test_imap_retries_with_backoff_then_reports_a_source_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    slept: list[float] = []
    source = ImapSource(
        "127.0.0.1", port, security="none", username="u", password="p",
        sleep=slept.append, max_retries=4, backoff_base=0.5, backoff_max=3,
    )  # fmt: skip
    with pytest.raises(SourceError) as caught:
        list(source.fetch())
    assert slept == [0.5, 1.0, 2.0, 3.0]
    assert caught.value.data["attempts"] == 5
    assert "ConnectionRefusedError" in str(caught.value)
