"""Service staff lookups (DSL, deputy, Attendance Lead, key tutors)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from worker.db.models import StaffMember


@dataclass(frozen=True)
class Staff:
    by_role: dict[str, list[StaffMember]]
    by_email: dict[str, StaffMember]

    def emails(self, role: str) -> list[str]:
        return [member.email for member in self.by_role.get(role, [])]

    def name(self, email: str, default: str = "") -> str:
        member = self.by_email.get((email or "").lower())
        return member.name if member else default


def load_staff(session: Session) -> Staff:
    by_role: dict[str, list[StaffMember]] = {}
    by_email: dict[str, StaffMember] = {}
    for member in session.scalars(select(StaffMember).order_by(StaffMember.id)):
        by_role.setdefault(member.role, []).append(member)
        by_email.setdefault(member.email.lower(), member)
    return Staff(by_role=by_role, by_email=by_email)
