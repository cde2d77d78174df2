"""The audit trail: every email sent and every case change, who and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from worker.db.models import AuditEntry


def audit(session: Session, at: datetime, actor: str, action: str, subject: str | None = None, **detail: Any) -> None:
    session.add(AuditEntry(at=at, actor=actor, action=action, subject=subject, detail=detail or None))
