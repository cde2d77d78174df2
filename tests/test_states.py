"""The case state machine, exhaustively: every (event, state) the procedure allows works, every
other pair raises IllegalTransition, in the pure table and through the store that persists it.

The expected table is written out here by hand from the procedure, not derived from
worker/cases/states.py, so a change to either shows up as a failure to look at.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from worker.cases import states, store
from worker.db.models import Case, CaseEvent
from worker.errors import IllegalTransition

OPEN_STATES = ["open", "school_notified", "welfare_check_due", "check_requested", "check_reported",
               "seen_by_school"]
ALL_STATES = [*OPEN_STATES, "closed"]

MOVES: dict[tuple[str, str | None], str] = {
    ("open", None): "open",
    ("email_sent", "open"): "school_notified",
    ("email_sent", "welfare_check_due"): "welfare_check_due",
    ("welfare_check_due", "open"): "welfare_check_due",
    ("welfare_check_due", "school_notified"): "welfare_check_due",
    ("check_requested", "school_notified"): "check_requested",
    ("check_requested", "welfare_check_due"): "check_requested",
    ("check_reported", "school_notified"): "check_reported",
    ("check_reported", "welfare_check_due"): "check_reported",
    ("check_reported", "check_requested"): "check_reported",
    ("check_reported", "seen_by_school"): "check_reported",
    ("check_reported", "check_reported"): "check_reported",
    ("school_saw_pupil", "school_notified"): "seen_by_school",
    ("school_saw_pupil", "welfare_check_due"): "seen_by_school",
    ("school_saw_pupil", "check_requested"): "seen_by_school",
}
CLOSING = ["seen_again", "left_roll", "closed_by_person"]
for _event in CLOSING:
    for _state in OPEN_STATES:
        MOVES[(_event, _state)] = "closed"

ANNOTATIONS = ["reply_recorded", "auto_reply_recorded", "bounce_recorded", "review_pending",
               "review_decided", "reminder_sent", "welfare_alert_sent", "welfare_threshold_reached",
               "data_gap", "email_failed", "note"]
for _event in ANNOTATIONS:
    for _state in ALL_STATES:
        MOVES[(_event, _state)] = _state

EVENTS = sorted({event for event, _ in MOVES})
PAIRS = [(event, state) for event in EVENTS for state in [None, *ALL_STATES]]
AT = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


def test_the_module_names_the_same_states_and_events():
    assert set(states.STATES) == set(ALL_STATES)
    assert set(states.OPEN_STATES) == set(OPEN_STATES)
    assert set(states.EVENTS) == set(EVENTS)
    assert set(states.ANNOTATIONS) == set(ANNOTATIONS)
    assert set(states.LABELS) == set(ALL_STATES)


@pytest.mark.parametrize(("event", "state"), PAIRS, ids=[f"{e}@{s}" for e, s in PAIRS])
def test_every_pair_of_the_table(event, state):
    if (event, state) in MOVES:
        assert states.next_state(event, state) == MOVES[(event, state)]
    else:
        with pytest.raises(IllegalTransition) as raised:
            states.next_state(event, state)
        assert raised.value.data == {"event": event, "state": state}
        assert event in str(raised.value)


def test_unknown_events_and_states_are_illegal():
    for state in [None, *ALL_STATES]:
        with pytest.raises(IllegalTransition):
            states.next_state("pupil_vanished", state)
    for event in EVENTS:
        with pytest.raises(IllegalTransition):
            states.next_state(event, "limbo")


def test_closed_is_final_except_for_annotations():
    for event in EVENTS:
        if event in ANNOTATIONS:
            assert states.next_state(event, "closed") == "closed"
        else:
            with pytest.raises(IllegalTransition):
                states.next_state(event, "closed")
    assert [s for s in ALL_STATES if states.is_open(s)] == OPEN_STATES


# --- through the store: the persisted case moves, or nothing is written ---------------------------


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    from tests.helpers_instance import MiniData, make_instance

    inst = make_instance(tmp_path_factory.mktemp("states"))
    MiniData().load_roster(inst)
    return inst.app.sessions


def _new_case(session) -> Case:
    return store.open_case(
        session, pupil_ref="20001", safeguarding_risk=True, last_seen=date(2026, 11, 17),
        counting_from=date(2026, 11, 18), threshold_reached_on=date(2026, 11, 25),
        email_due=date(2026, 11, 26), welfare_due=date(2026, 11, 26), at=AT,
    )


def test_open_case_starts_in_open_with_one_event(db):
    with db.begin() as session:
        case = _new_case(session)
        case_id = case.id
    with db() as session:
        case = session.get(Case, case_id)
        assert case.state == "open" and case.ref == f"NS-{case_id}"
        rows = list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)))
        assert [(r.event, r.from_state, r.to_state, r.cause) for r in rows] == [("open", None, "open", "timer")]


@pytest.mark.parametrize("state", ALL_STATES)
def test_store_applies_exactly_the_table(db, state):
    """For one starting state, every event: legal ones move and are recorded, illegal ones change nothing."""
    for event in EVENTS:
        with db.begin() as session:
            case = _new_case(session)
            case.state = state
            case_id = case.id
        legal = (event, state) in MOVES
        with db() as session:
            case = session.get(Case, case_id)
            before = session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id))
            if legal:
                row = store.apply(session, case, event, at=AT, cause="timer", actor="test")
                session.commit()
                assert (row.event, row.from_state, row.to_state) == (event, state, MOVES[(event, state)])
            else:
                with pytest.raises(IllegalTransition):
                    store.apply(session, case, event, at=AT, cause="timer", actor="test")
                session.rollback()
        with db() as session:
            case = session.get(Case, case_id)
            after = session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id))
            assert case.state == (MOVES[(event, state)] if legal else state), (event, state)
            assert after == before + (1 if legal else 0), (event, state)
            if legal and MOVES[(event, state)] == "closed" and state != "closed":
                assert case.closed_reason == event and case.closed_at is not None
            if not legal or state == "closed":
                assert case.closed_reason is None or state == "closed"


def test_store_refuses_an_unknown_cause(db):
    with db.begin() as session:
        case = _new_case(session)
        with pytest.raises(ValueError):
            store.apply(session, case, "note", at=AT, cause="gossip", actor="test")


def test_every_event_the_code_applies_is_in_the_table():
    """A new event written anywhere in worker/ without a row in the table would fail at run time."""
    root = Path(__file__).resolve().parents[1] / "worker"
    pattern = re.compile(r"store\.apply\(\s*\w+,\s*\w+,\s*\"([a-z_]+)\"")
    used = set()
    for path in root.rglob("*.py"):
        used |= set(pattern.findall(path.read_text(encoding="utf-8")))
    assert used, "no store.apply calls found: the pattern no longer matches the code"
    assert used <= set(EVENTS), sorted(used - set(EVENTS))
    from worker.cases.replies import MOVES as REPLY_MOVES

    assert set(REPLY_MOVES.values()) <= set(EVENTS) - set(ANNOTATIONS)
