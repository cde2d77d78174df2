"""The outbox table: every email is a row before any network call; one row per idempotency key."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from worker.audit import audit
from worker.db.models import OutboxMessage
from worker.outbox.compose import Email, to_bytes


def find(session: Session, idem_key: str) -> OutboxMessage | None:
    return session.scalar(select(OutboxMessage).where(OutboxMessage.idem_key == idem_key))


def enqueue(
    session: Session,
    email: Email,
    *,
    idem_key: str,
    loop_header: str,
    at: datetime,
    pupil_ref: str | None = None,
    school_urn: str | None = None,
    case_id: int | None = None,
    week_start: date | None = None,
    detail: dict[str, Any] | None = None,
) -> tuple[OutboxMessage, bool]:
    """Record `email` as pending unless its key exists. Returns (row, created)."""
    existing = find(session, idem_key)
    if existing is not None:
        return existing, False
    row = OutboxMessage(
        idem_key=idem_key,
        kind=email.kind,
        pupil_ref=pupil_ref,
        school_urn=school_urn,
        case_id=case_id,
        week_start=week_start,
        from_addr=email.from_addr,
        to_addrs=list(email.to),
        cc_addrs=list(email.cc),
        subject=email.subject,
        message_id=email.message_id,
        raw=to_bytes(email, loop_header),
        state="pending",
        attempts=0,
        created_at=at,
        detail=detail,
    )
    session.add(row)
    session.flush()
    audit(session, at, "worker", "outbox.queued", email.kind, idem_key=idem_key, message_id=email.message_id,
          to=list(email.to), cc=list(email.cc))
    return row, True


def counts_by_state(session: Session) -> dict[str, int]:
    rows = session.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state))
    return {state: count for state, count in rows}


def counts_by_kind(session: Session, state: str = "sent") -> dict[str, int]:
    rows = session.execute(
        select(OutboxMessage.kind, func.count()).where(OutboxMessage.state == state).group_by(OutboxMessage.kind)
    )
    return {kind: count for kind, count in rows}
