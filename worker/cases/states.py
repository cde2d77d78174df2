"""The case lifecycle as an explicit table: (event, from_state) -> to_state.

A not-seen case opens when a pupil has not been seen for the threshold; the not-seen email
goes to the Main School; the welfare check falls due; the school asks the Service to do the
check, reports it done, or reports the pupil seen; seeing the pupil again closes the case.
Anything not in the table raises IllegalTransition - it is never forced.

Annotations (a reply recorded, a reminder sent, machine mail, a person's note) keep the state
and are allowed in every state, so the chronology is complete even after closing.
"""

from __future__ import annotations

from worker.errors import IllegalTransition

OPEN = "open"  # case opened; not-seen email queued for the school
SCHOOL_NOTIFIED = "school_notified"  # the not-seen email reached the school's server
WELFARE_CHECK_DUE = "welfare_check_due"  # threshold for a home welfare check reached; DSL alerted
CHECK_REQUESTED = "check_requested"  # the school asked the Service to do the welfare check
CHECK_REPORTED = "check_reported"  # the school (or the Service) reported a welfare check done
SEEN_BY_SCHOOL = "seen_by_school"  # the school reports the pupil seen / attending school
CLOSED = "closed"

OPEN_STATES = (OPEN, SCHOOL_NOTIFIED, WELFARE_CHECK_DUE, CHECK_REQUESTED, CHECK_REPORTED, SEEN_BY_SCHOOL)
STATES = OPEN_STATES + (CLOSED,)

# Human-readable names for people (digest, terminal).
LABELS = {
    OPEN: "opened, email to school queued",
    SCHOOL_NOTIFIED: "school emailed, awaiting reply",
    WELFARE_CHECK_DUE: "welfare check due",
    CHECK_REQUESTED: "check requested of the Service",
    CHECK_REPORTED: "check reported",
    SEEN_BY_SCHOOL: "seen by the Main School",
    CLOSED: "closed",
}

CREATE = "open"

# Events that move a case. Every pair not listed is illegal.
TRANSITIONS: dict[tuple[str, str | None], str] = {
    (CREATE, None): OPEN,
    ("email_sent", OPEN): SCHOOL_NOTIFIED,
    ("email_sent", WELFARE_CHECK_DUE): WELFARE_CHECK_DUE,
    ("welfare_check_due", OPEN): WELFARE_CHECK_DUE,
    ("welfare_check_due", SCHOOL_NOTIFIED): WELFARE_CHECK_DUE,
    ("check_requested", SCHOOL_NOTIFIED): CHECK_REQUESTED,
    ("check_requested", WELFARE_CHECK_DUE): CHECK_REQUESTED,
    ("check_reported", SCHOOL_NOTIFIED): CHECK_REPORTED,
    ("check_reported", WELFARE_CHECK_DUE): CHECK_REPORTED,
    ("check_reported", CHECK_REQUESTED): CHECK_REPORTED,
    ("check_reported", SEEN_BY_SCHOOL): CHECK_REPORTED,
    ("check_reported", CHECK_REPORTED): CHECK_REPORTED,
    ("school_saw_pupil", SCHOOL_NOTIFIED): SEEN_BY_SCHOOL,
    ("school_saw_pupil", WELFARE_CHECK_DUE): SEEN_BY_SCHOOL,
    ("school_saw_pupil", CHECK_REQUESTED): SEEN_BY_SCHOOL,
    **{("seen_again", state): CLOSED for state in OPEN_STATES},
    **{("left_roll", state): CLOSED for state in OPEN_STATES},
    **{("closed_by_person", state): CLOSED for state in OPEN_STATES},
}

# Events that record something without moving the case; legal in every state.
ANNOTATIONS = (
    "reply_recorded",
    "auto_reply_recorded",
    "bounce_recorded",
    "review_pending",
    "review_decided",
    "reminder_sent",
    "welfare_alert_sent",
    "welfare_threshold_reached",
    "data_gap",
    "email_failed",
    "note",
)
for _event in ANNOTATIONS:
    for _state in STATES:
        TRANSITIONS[(_event, _state)] = _state

EVENTS = tuple(sorted({event for event, _ in TRANSITIONS}))

# What caused an event (CaseEvent.cause).
CAUSES = ("import", "reply", "person", "timer")


def next_state(event: str, current: str | None) -> str:
    """The state after `event`; raises IllegalTransition when the table does not allow it."""
    try:
        return TRANSITIONS[(event, current)]
    except KeyError:
        raise IllegalTransition(
            f"a case in state {current!r} cannot take event {event!r}", event=event, state=current
        ) from None


def is_open(state: str) -> bool:
    return state in OPEN_STATES
