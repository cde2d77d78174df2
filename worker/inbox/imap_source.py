"""IMAP source (imapclient): lists the mailbox by UID, fetches with BODY.PEEK[], moves when done.

It never relies on \\Seen: a person may read the mailbox too. What is done is what the
database recorded (`already_done`) and what was moved to the processed folder (or, on a
server without MOVE, flagged with a keyword the search then excludes).

A dropped connection (socket error, IMAP abort, timeout) is retried with exponential
backoff through the injected `sleep`, so tests never wait for real; a refused login or a
server error is not retried. Every failure leaves as worker.errors.SourceError.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError

from worker.errors import SourceError
from worker.inbox.source import RawMessage

log = logging.getLogger(__name__)

SECURITY = ("tls", "starttls", "none")
PROCESSED_KEYWORD = "$CourierProcessed"
T = TypeVar("T")

# A connection that dropped or timed out: reconnect and try again.
_RETRYABLE: tuple[type[BaseException], ...] = (
    IMAPClientAbortError,
    ConnectionError,
    TimeoutError,
    socket.timeout,
    socket.gaierror,
    EOFError,
)


class ImapSource:
    name = "imap"

    def __init__(
        self,
        host: str,
        port: int,
        security: str = "tls",
        username: str = "",
        password: str = "",
        mailbox: str = "INBOX",
        processed_folder: str = "Processed",
        timeout: float = 60,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_retries: int = 5,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        batch_size: int = 25,
        ssl_context: ssl.SSLContext | None = None,
        use_move: bool | None = None,
        processed_keyword: str = PROCESSED_KEYWORD,
    ) -> None:
        """`use_move` None uses MOVE when the server offers it; False always flags instead."""
        if security not in SECURITY:
            raise ValueError(f"IMAP security must be one of {SECURITY}, not {security!r}")
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.mailbox = mailbox
        self.processed_folder = processed_folder
        self.timeout = timeout
        self.sleep = sleep
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.batch_size = max(1, batch_size)
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.use_move = use_move
        self.processed_keyword = processed_keyword
        self._client: IMAPClient | None = None
        self._uidvalidity = 0
        self._can_move = False
        self._folder_ready = False
        self.reconnects = 0

    # -- connection ------------------------------------------------------------------------
    @property
    def _where(self) -> str:
        return f"IMAP {self.host}:{self.port} {self.mailbox}"

    def _connect(self) -> IMAPClient:
        if self._client is not None:
            return self._client
        tls = self.security == "tls"
        client = IMAPClient(
            self.host,
            self.port,
            ssl=tls,
            ssl_context=self.ssl_context if tls else None,
            timeout=self.timeout,
        )
        try:
            if self.security == "starttls":
                client.starttls(self.ssl_context)
            client.login(self.username, self.password)
            selected = client.select_folder(self.mailbox)
        except BaseException:
            with contextlib.suppress(Exception):
                client.shutdown()
            raise
        self._uidvalidity = int(selected[b"UIDVALIDITY"])
        self._can_move = client.has_capability("MOVE") if self.use_move is None else self.use_move
        self._client = client
        return client

    def _drop(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.shutdown()
            self._client = None
            self._folder_ready = False

    def _call(self, operation: Callable[[IMAPClient], T], what: str) -> T:
        """Run `operation` on a connected client, reconnecting with backoff if the link drops."""
        attempt = 0
        while True:
            try:
                return operation(self._connect())
            except LoginError as exc:
                self._drop()
                raise SourceError(
                    f"{self._where}: login refused for {self.username!r}",
                    stage="login", error=str(exc),
                ) from exc  # fmt: skip
            except ssl.SSLCertVerificationError as exc:
                self._drop()
                raise SourceError(
                    f"{self._where}: the server's certificate is not trusted ({exc.verify_message})",
                    stage="tls",
                ) from exc  # fmt: skip
            except _RETRYABLE + (ssl.SSLError, OSError) as exc:
                self._drop()
                if attempt >= self.max_retries:
                    raise SourceError(
                        f"{self._where}: {what} failed after {attempt + 1} attempts: "
                        f"{type(exc).__name__}: {exc}",
                        stage=what, attempts=attempt + 1,
                    ) from exc  # fmt: skip
                delay = min(self.backoff_max, self.backoff_base * 2**attempt)
                log.warning(
                    "%s: %s failed (%s: %s); reconnecting in %.1fs",
                    self._where, what, type(exc).__name__, exc, delay,
                )  # fmt: skip
                attempt += 1
                self.reconnects += 1
                self.sleep(delay)
            except IMAPClientError as exc:
                # The server said NO or BAD (no such mailbox, ...): retrying will not help.
                self._drop()
                raise SourceError(f"{self._where}: {what} failed: {exc}", stage=what) from exc

    # -- the interface ---------------------------------------------------------------------
    def fetch(self, already_done: set[tuple[str, int, str]] | None = None) -> Iterator[RawMessage]:
        """Messages in the mailbox now, oldest UID first, bodies fetched in batches."""
        done = already_done or set()
        uidvalidity, uids = self._call(self._list, "search")
        todo = [uid for uid in uids if (self.mailbox, uidvalidity, str(uid)) not in done]
        for start in range(0, len(todo), self.batch_size):
            batch = todo[start : start + self.batch_size]
            bodies = self._call(
                lambda client, b=batch: self._bodies(client, b, uidvalidity), "fetch"
            )
            for uid in batch:
                raw = bodies.get(uid)
                if raw is not None:  # None: expunged meanwhile by someone else
                    yield RawMessage(self.mailbox, uidvalidity, str(uid), raw)

    def mark_processed(self, message: RawMessage) -> None:
        """Move the message to the processed folder, or flag it where MOVE is missing."""
        if message.mailbox != self.mailbox:
            raise SourceError(
                f"{self._where}: message {message.uid} is from mailbox {message.mailbox!r}",
                stage="mark",
            )
        self._call(lambda client: self._mark(client, message), "mark")

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.logout()
        self._drop()

    # -- operations (each runs again whole after a reconnect) --------------------------------
    def _list(self, client: IMAPClient) -> tuple[int, list[int]]:
        selected = client.select_folder(self.mailbox)  # again: a fresh view and UIDVALIDITY
        self._uidvalidity = int(selected[b"UIDVALIDITY"])
        uids = client.search(["NOT", "KEYWORD", self.processed_keyword])
        return self._uidvalidity, sorted(int(uid) for uid in uids)

    def _check_uidvalidity(self, uidvalidity: int) -> None:
        if uidvalidity != self._uidvalidity:
            raise SourceError(
                f"{self._where}: UIDVALIDITY changed from {uidvalidity} to {self._uidvalidity}; "
                "the UIDs listed before are void, fetch again",
                stage="uidvalidity", old=uidvalidity, new=self._uidvalidity,
            )  # fmt: skip

    def _bodies(self, client: IMAPClient, uids: list[int], uidvalidity: int) -> dict[int, bytes]:
        self._check_uidvalidity(uidvalidity)
        data = client.fetch(uids, ["BODY.PEEK[]"])
        return {int(uid): item[b"BODY[]"] for uid, item in data.items() if b"BODY[]" in item}

    def _mark(self, client: IMAPClient, message: RawMessage) -> None:
        self._check_uidvalidity(message.uidvalidity)
        uid = int(message.uid)
        if self._can_move:
            if not self._folder_ready:
                if not client.folder_exists(self.processed_folder):
                    client.create_folder(self.processed_folder)
                self._folder_ready = True
            client.move([uid], self.processed_folder)
        else:
            client.add_flags([uid], [self.processed_keyword], silent=True)
