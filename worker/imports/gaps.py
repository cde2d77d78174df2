"""Data gaps: what the roster lacks for the procedure to work, for the Attendance Lead.

A gap is never filled by guessing (an email to a guessed address could send pupil data to
the wrong place); it is reported until someone fixes the roster. Messages name a school by
URN and name and a pupil by pupil_ref only.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from worker.db.models import CalendarPeriod, Pupil, School, StaffMember, TimetableSlot

# Staff roles the procedure sends to; without one the step has nobody to tell.
NEEDED_ROLES = ("dsl", "attendance_lead")


@dataclass(frozen=True)
class DataGap:
    kind: str  # school_no_dsl | school_no_attendance | school_no_domains | pupil_unknown_school |
    #            pupil_no_tutor | pupil_unknown_tutor | pupil_no_timetable | no_calendar | staff_role_missing
    subject: str  # "school 107356", "pupil 45424", "staff", "calendar"
    message: str


def data_gaps(session: Session) -> list[DataGap]:
    gaps: list[DataGap] = []
    schools = {s.urn: s for s in session.scalars(select(School).order_by(School.urn))}
    for school in schools.values():
        who = f"School {school.urn} {school.name}"
        if not school.dsl_list:
            gaps.append(DataGap("school_no_dsl", f"school {school.urn}",
                                f"{who} has no DSL email address: not-seen emails cannot reach its DSL"))
        if not school.attendance_list:
            gaps.append(DataGap("school_no_attendance", f"school {school.urn}",
                                f"{who} has no attendance email address: certificates cannot be sent"))
        if not school.domain_list:
            gaps.append(DataGap("school_no_domains", f"school {school.urn}",
                                f"{who} has no email domains: its replies cannot be recognised"))
    staff = list(session.scalars(select(StaffMember)))
    staff_emails = {s.email.lower() for s in staff}
    roles = {s.role for s in staff}
    for role in NEEDED_ROLES:
        if role not in roles:
            gaps.append(DataGap("staff_role_missing", "staff", f"No member of staff has the role {role}"))
    timetabled = set(session.scalars(select(TimetableSlot.pupil_ref).distinct()))
    for pupil in session.scalars(select(Pupil).order_by(Pupil.pupil_ref)):
        who = f"Pupil {pupil.pupil_ref}"
        subject = f"pupil {pupil.pupil_ref}"
        if pupil.school_urn not in schools:
            gaps.append(DataGap("pupil_unknown_school", subject,
                                f"{who}: Main School {pupil.school_urn} is not among the schools"))
        tutor = (pupil.key_tutor_email or "").lower()
        if not tutor:
            gaps.append(DataGap("pupil_no_tutor", subject, f"{who} has no key tutor"))
        elif tutor not in staff_emails:
            gaps.append(DataGap("pupil_unknown_tutor", subject,
                                f"{who}: key tutor {tutor} is not in the staff list"))
        if pupil.pupil_ref not in timetabled:
            gaps.append(DataGap("pupil_no_timetable", subject, f"{who} has no timetable"))
    if session.scalar(select(CalendarPeriod.id).where(CalendarPeriod.kind == "term").limit(1)) is None:
        gaps.append(DataGap("no_calendar", "calendar", "No Service terms are loaded (import calendar.yaml)"))
    return gaps
