"""Memory source: a mailbox held in a list, for tests of ingest and everything after it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from worker.errors import SourceError
from worker.inbox.source import RawMessage


class MemorySource:
    """Holds messages until `mark_processed` moves them to `processed`.

    Give it RawMessages, or plain bytes (numbered 1, 2, ... like IMAP UIDs). `add` delivers
    more later; `fail_next` makes the next fetch raise SourceError, as a dropped server would.
    """

    name = "memory"

    def __init__(
        self,
        messages: Iterable[RawMessage | bytes] = (),
        mailbox: str = "INBOX",
        uidvalidity: int = 1,
    ) -> None:
        self.mailbox = mailbox
        self.uidvalidity = uidvalidity
        self.messages: list[RawMessage] = []
        self.processed: list[RawMessage] = []
        self.fetches = 0
        self.closed = False
        self._next_uid = 1
        self._failures: list[str] = []
        for message in messages:
            self.add(message)

    def add(self, message: RawMessage | bytes) -> RawMessage:
        if isinstance(message, bytes):
            message = RawMessage(self.mailbox, self.uidvalidity, str(self._next_uid), message)
        if message.uid.isdigit():
            self._next_uid = max(self._next_uid, int(message.uid) + 1)
        self.messages.append(message)
        return message

    def fail_next(self, times: int = 1, message: str = "Simulated source failure") -> None:
        self._failures.extend([message] * times)

    def fetch(self, already_done: set[tuple[str, int, str]] | None = None) -> Iterator[RawMessage]:
        self.fetches += 1
        if self._failures:
            raise SourceError(self._failures.pop(0), stage="fetch")
        done = already_done or set()
        for message in list(self.messages):
            if (message.mailbox, message.uidvalidity, message.uid) not in done:
                yield message

    def mark_processed(self, message: RawMessage) -> None:
        if message in self.messages:
            self.messages.remove(message)
            self.processed.append(message)

    def close(self) -> None:
        self.closed = True
