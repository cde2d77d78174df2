"""The mail source interface: list messages not yet processed, then mark them processed.

Ingest asks `fetch()` for what the mailbox holds now, skips what the database already
recorded, stores and commits each new message, and only then calls `mark_processed`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class RawMessage:
    mailbox: str
    uidvalidity: int
    uid: str  # IMAP UID as text, or the Maildir file key
    raw: bytes


class Source(Protocol):
    name: str

    def fetch(self, already_done: set[tuple[str, int, str]] | None = None) -> Iterator[RawMessage]:
        """Messages in the mailbox (fetched with BODY.PEEK[], so nothing is marked read).

        `already_done` holds (mailbox, uidvalidity, uid) keys the caller has recorded; a source
        may skip fetching their bodies.
        """
        ...

    def mark_processed(self, message: RawMessage) -> None:
        """Move the message to the processed folder (or flag it). Called after the DB commit."""
        ...

    def close(self) -> None: ...
