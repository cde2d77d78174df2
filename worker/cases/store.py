"""Case persistence: the only code that writes Case and CaseEvent rows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from worker.audit import audit
from worker.cases import states
from worker.db.models import Case, CaseEvent


def open_case(
    session: Session,
    *,
    pupil_ref: str,
    safeguarding_risk: bool,
    last_seen: date | None,
    counting_from: date,
    threshold_reached_on: date,
    email_due: date,
    welfare_due: date | None,
    at: datetime,
    number_start: int = 1,
    evidence: str | None = None,
) -> Case:
    state = states.next_state(states.CREATE, None)
    case = Case(
        pupil_ref=pupil_ref,
        state=state,
        safeguarding_risk=safeguarding_risk,
        last_seen=last_seen,
        counting_from=counting_from,
        threshold_reached_on=threshold_reached_on,
        email_due=email_due,
        welfare_due=welfare_due,
        opened_at=at,
    )
    if number_start > 1 and session.scalar(select(Case.id).limit(1)) is None:
        case.id = number_start
    session.add(case)
    session.flush()
    _record(session, case, states.CREATE, None, state, "timer", "worker", evidence,
            {"last_seen": last_seen, "threshold_reached_on": threshold_reached_on}, at)
    return case


def apply(
    session: Session,
    case: Case,
    event: str,
    *,
    at: datetime,
    cause: str,
    actor: str,
    evidence: str | None = None,
    detail: dict[str, Any] | None = None,
) -> CaseEvent:
    """Move `case` by `event` (or annotate it); raises IllegalTransition when not allowed."""
    if cause not in states.CAUSES:
        raise ValueError(f"unknown cause {cause!r}")
    before = case.state
    after = states.next_state(event, before)
    case.state = after
    if after == states.CLOSED and before != states.CLOSED:
        case.closed_at = at
        case.closed_reason = event
    return _record(session, case, event, before, after, cause, actor, evidence, detail, at)


def _record(session, case, event, before, after, cause, actor, evidence, detail, at) -> CaseEvent:
    row = CaseEvent(
        case_id=case.id,
        at=at,
        event=event,
        from_state=before,
        to_state=after,
        cause=cause,
        actor=actor,
        evidence=evidence,
        detail=detail,
    )
    session.add(row)
    audit(session, at, actor, f"case.{event}", case.ref, from_state=before, to_state=after, cause=cause, evidence=evidence)
    return row


def open_case_for(session: Session, pupil_ref: str) -> Case | None:
    return session.scalar(
        select(Case).where(Case.pupil_ref == pupil_ref, Case.state.in_(states.OPEN_STATES)).order_by(Case.id.desc())
    )


def by_ref(session: Session, ref: str) -> Case | None:
    text = ref.strip().upper()
    if text.startswith("NS-"):
        text = text[3:]
    return session.get(Case, int(text)) if text.isdigit() else None


def events(session: Session, case: Case) -> list[CaseEvent]:
    return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))


def all_cases(session: Session, open_only: bool = False) -> list[Case]:
    query = select(Case).order_by(Case.id)
    if open_only:
        query = query.where(Case.state.in_(states.OPEN_STATES))
    return list(session.scalars(query))
