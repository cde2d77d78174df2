"""Retention: raw email bytes are dropped after the configured number of days.

The rows stay (who, when, what kind, which case); only the stored message bodies go. Quarantined
messages and emails not yet sent keep their bytes until a person has dealt with them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update

from worker.app import App
from worker.audit import audit
from worker.db.models import InboxMessage, OutboxMessage


def purge(app: App, at: datetime) -> bool:
    keep = app.settings.retention
    dropped_in = dropped_out = 0
    with app.sessions.begin() as session:
        if keep.inbox_raw_days > 0:
            dropped_in = session.execute(
                update(InboxMessage)
                .where(InboxMessage.received_at < at - timedelta(days=keep.inbox_raw_days),
                       InboxMessage.raw.is_not(None),
                       InboxMessage.status != "quarantined",
                       (InboxMessage.review_state.is_(None)) | (InboxMessage.review_state != "pending"))
                .values(raw=None)
            ).rowcount
        if keep.outbox_raw_days > 0:
            dropped_out = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.sent_at < at - timedelta(days=keep.outbox_raw_days),
                       OutboxMessage.raw.is_not(None),
                       OutboxMessage.state == "sent")
                .values(raw=None)
            ).rowcount
        if dropped_in or dropped_out:
            audit(session, at, "worker", "retention.purge", None, inbox=dropped_in, outbox=dropped_out)
    return bool(dropped_in or dropped_out)
