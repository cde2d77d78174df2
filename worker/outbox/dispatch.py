"""Sending what the outbox holds: claim a row, send it, record the outcome.

A row is claimed with a conditional UPDATE (pending -> sending); the row count says who won,
so two workers never send the same row. A row left in `sending` by a crash is never re-sent
automatically (we cannot know whether the server took it): it becomes `unknown` for a person.

A failure of the server itself (refused connection, refused login, TLS) says nothing about the
email: the row goes back to `pending` untouched, the rest wait, and the job reports the error so
`status` shows it; fixing the password sends everything. A failure of one email (recipients or
content refused) is permanent when the server says so, or when it has kept failing for
GIVE_UP_AFTER; then the row becomes `failed` for a person.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from worker.audit import audit
from worker.db.models import OutboxMessage
from worker.errors import TransportError
from worker.outbox.transport import Transport

log = logging.getLogger(__name__)

GIVE_UP_AFTER = timedelta(days=3)
# Transport stages where the server, not the email, failed (see worker/outbox/smtp.py).
SERVER_STAGES = frozenset({"connect", "login", "tls", "starttls", "helo", "sender"})

OnSent = Callable[[Session, OutboxMessage, datetime], None]


@dataclass
class DispatchResult:
    sent: list[int] = field(default_factory=list)
    retry: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    server_error: TransportError | None = None

    @property
    def did_work(self) -> bool:
        return bool(self.sent or self.retry or self.failed)


def recover_interrupted(sessions: sessionmaker[Session], at: datetime) -> list[int]:
    """Rows a crash left in `sending` become `unknown`: a person checks; they are never re-sent."""
    with sessions.begin() as session:
        ids = list(session.scalars(select(OutboxMessage.id).where(OutboxMessage.state == "sending")))
        for row_id in ids:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id, OutboxMessage.state == "sending")
                .values(state="unknown", last_error="interrupted while sending: check whether it arrived")
            )
            audit(session, at, "worker", "outbox.unknown", str(row_id))
    return ids


def dispatch_pending(
    sessions: sessionmaker[Session],
    transport: Transport,
    at: datetime,
    *,
    on_sent: OnSent | None = None,
    on_failed: OnSent | None = None,
    limit: int = 500,
) -> DispatchResult:
    result = DispatchResult()
    with sessions() as session:
        ids = list(
            session.scalars(
                select(OutboxMessage.id).where(OutboxMessage.state == "pending").order_by(OutboxMessage.id).limit(limit)
            )
        )
    for row_id in ids:
        with sessions.begin() as session:
            claimed = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id, OutboxMessage.state == "pending")
                .values(state="sending", attempts=OutboxMessage.attempts + 1)
            ).rowcount
        if not claimed:
            continue
        with sessions() as session:
            row = session.get(OutboxMessage, row_id)
            raw, sender = row.raw, row.from_addr
            recipients = list(dict.fromkeys([*row.to_addrs, *row.cc_addrs]))
        try:
            refused = transport.send(raw, sender, recipients)
        except TransportError as exc:
            if exc.data.get("stage") in SERVER_STAGES:
                _release(sessions, row_id, exc, at)
                result.retry.append(row_id)
                result.server_error = exc
                break  # the server is unusable: the other rows wait for the next tick
            _record_failure(sessions, row_id, exc, at, result, on_failed)
            continue
        with sessions.begin() as session:
            row = session.get(OutboxMessage, row_id)
            row.state = "sent"
            row.sent_at = at
            row.last_error = None
            if refused:
                row.detail = {**(row.detail or {}), "refused": refused}
            audit(session, at, "worker", "outbox.sent", row.kind, message_id=row.message_id,
                  to=row.to_addrs, cc=row.cc_addrs, refused=refused or None, transport=transport.name)
            if on_sent is not None:
                on_sent(session, row, at)
        result.sent.append(row_id)
    return result


def _release(sessions, row_id: int, exc: TransportError, at: datetime) -> None:
    """The server failed, not the email: back to pending, the attempt not held against it."""
    with sessions.begin() as session:
        row = session.get(OutboxMessage, row_id)
        row.state = "pending"
        row.attempts = max((row.attempts or 1) - 1, 0)
        row.last_error = f"server: {exc}"
        log.warning("outbox: the mail server failed (%s): emails wait for the next tick", exc)


def _record_failure(sessions, row_id: int, exc: TransportError, at: datetime, result: DispatchResult,
                    on_failed: OnSent | None = None) -> None:
    with sessions.begin() as session:
        row = session.get(OutboxMessage, row_id)
        permanent = exc.permanent or at - row.created_at >= GIVE_UP_AFTER
        row.state = "failed" if permanent else "pending"
        row.last_error = str(exc)
        audit(session, at, "worker", "outbox.failed" if permanent else "outbox.retry", row.kind,
              message_id=row.message_id, error=str(exc), attempts=row.attempts)
        log.warning("outbox %s (%s) %s: %s", row_id, row.kind, "failed" if permanent else "will retry", exc)
        if permanent and on_failed is not None:
            on_failed(session, row, at)
    (result.failed if permanent else result.retry).append(row_id)
