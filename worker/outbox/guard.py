"""Pupil data goes only to addresses registered for that pupil's Main School, or to the Service.

Every email that carries pupil data is checked here before it is recorded in the outbox.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from worker.db.models import School, StaffMember
from worker.errors import UnsafeRecipient
from worker.outbox.compose import address_of


def service_addresses(session: Session, mailbox: str) -> set[str]:
    staff = {address_of(e) for e in session.scalars(select(StaffMember.email)) if e}
    return staff | {address_of(mailbox)}


def school_addresses(school: School) -> set[str]:
    return {address_of(a) for a in [*school.attendance_list, *school.dsl_list]}


def check_recipients(
    session: Session,
    recipients: Iterable[str],
    *,
    school_urns: Iterable[str],
    mailbox: str,
) -> None:
    """Raise UnsafeRecipient unless each recipient is Service staff or registered for every school named.

    An address at a school's domain is not enough: pupil data goes to registered contacts only.
    """
    allowed = service_addresses(session, mailbox)
    urns = list(dict.fromkeys(school_urns))
    schools = [session.get(School, urn) for urn in urns]
    for address in recipients:
        bare = address_of(address)
        if bare in allowed:
            continue
        for urn, school in zip(urns, schools, strict=True):
            if school is None or bare not in school_addresses(school):
                raise UnsafeRecipient(
                    f"{bare} is not a registered contact of Main School {urn}; nothing was sent",
                    address=bare,
                    school=urn,
                )
        if not urns:
            raise UnsafeRecipient(f"{bare} is not a Service address; nothing was sent", address=bare)
