"""A person's decision on a reply the worker would not act on alone."""

from __future__ import annotations

from datetime import date, datetime

from worker.app import App
from worker.cases import store
from worker.cases.replies import apply_reply
from worker.db.models import Case, InboxMessage
from worker.errors import CourierError, NotFound


def decide(
    app: App, item_id: int, *, kind: str, case_ref: str | None, outcome: str | None,
    check_date: date | None, next_steps: str | None, note: str, actor: str, at: datetime,
) -> str:
    with app.sessions.begin() as session:
        item = session.get(InboxMessage, item_id)
        if item is None:
            raise NotFound(f"no inbox item {item_id}")
        if item.review_state == "decided":
            raise CourierError(f"inbox item {item_id} was already decided by {item.decided_by}")
        if case_ref:
            case = store.by_ref(session, case_ref)
            if case is None:
                raise NotFound(f"no case {case_ref}")
            item.case_id = case.id
        if kind == "check_done" and outcome is None:
            raise CourierError("--as check_done needs --outcome")
        decision = {
            "kind": kind, "outcome": outcome, "check_date": check_date.isoformat() if check_date else None,
            "next_steps": next_steps, "note": note, "needs_review": False,
        }
        item.review_state = "decided"
        item.decision = decision
        item.decided_by = actor
        item.decided_at = at
        case = session.get(Case, item.case_id) if item.case_id else None
        if case is not None:
            store.apply(session, case, "review_decided", at=at, cause="person", actor=actor,
                        evidence=item.message_id, detail={"inbox_id": item.id, **decision})
        if kind == "dismiss" or case is None:
            return f"inbox item {item_id}: decided ({kind}); no case changed"
        what = apply_reply(app, session, item, {**(item.result or {}), **decision, "from_service": False},
                           at, cause="person", actor=actor)
        return f"inbox item {item_id}: {case.ref} {what}"
