"""The schema. Tables only; queries live in worker/db/queries_*.py, rules never build SQL."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from worker.db.types import JSONText, UTCDateTime


class Base(DeclarativeBase):
    pass


# --- reference data ---------------------------------------------------------------------


class School(Base):
    """A Main School. Address fields hold ';'-separated lists; empty means a data gap."""

    __tablename__ = "schools"
    urn: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    attendance_emails: Mapped[str] = mapped_column(Text, default="")
    dsl_emails: Mapped[str] = mapped_column(Text, default="")
    domains: Mapped[str] = mapped_column(Text, default="")
    certificate_day: Mapped[str] = mapped_column(String(10), default="Friday")
    delivery: Mapped[str] = mapped_column(String(16), default="per_school")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @staticmethod
    def split(value: str | None) -> list[str]:
        return [item.strip() for item in (value or "").split(";") if item.strip()]

    @property
    def attendance_list(self) -> list[str]:
        return self.split(self.attendance_emails)

    @property
    def dsl_list(self) -> list[str]:
        return self.split(self.dsl_emails)

    @property
    def domain_list(self) -> list[str]:
        return [d.lower() for d in self.split(self.domains)]


class StaffMember(Base):
    """Service staff: dsl, deputy_dsl, attendance_lead, service_manager, tutor."""

    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    __table_args__ = (UniqueConstraint("role", "email"),)


class Pupil(Base):
    __tablename__ = "pupils"
    pupil_ref: Mapped[str] = mapped_column(String(32), primary_key=True)
    upn: Mapped[str | None] = mapped_column(String(13), nullable=True)
    forename: Mapped[str] = mapped_column(String(200))
    surname: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date | None] = mapped_column(Date, nullable=True)
    school_urn: Mapped[str] = mapped_column(ForeignKey("schools.urn"))
    key_tutor_email: Mapped[str] = mapped_column(String(320), default="")
    safeguarding_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    registration: Mapped[str] = mapped_column(String(1), default="K")
    start_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)

    @property
    def full_name(self) -> str:
        return f"{self.forename} {self.surname}"


class TimetableSlot(Base):
    """Where a pupil is expected for a weekday session, for a dated period."""

    __tablename__ = "timetable_slots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pupil_ref: Mapped[str] = mapped_column(ForeignKey("pupils.pupil_ref"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    session: Mapped[str] = mapped_column(String(2))  # AM | PM
    place: Mapped[str] = mapped_column(String(16))  # service | main_school | none
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    __table_args__ = (UniqueConstraint("pupil_ref", "weekday", "session", "valid_from"),)


class CalendarPeriod(Base):
    """A term, a half term or a closure day range of the Service's own calendar."""

    __tablename__ = "calendar_periods"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # term | half_term | closure
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(200), default="")


# --- attendance ---------------------------------------------------------------------------


class ImportBatch(Base):
    __tablename__ = "import_batches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_name: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(32), default="cli")  # cli | drop | email
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_ok: Mapped[int] = mapped_column(Integer, default=0)
    rows_bad: Mapped[int] = mapped_column(Integer, default=0)
    rows_changed: Mapped[int] = mapped_column(Integer, default=0)


class RejectedRow(Base):
    """A row an import could not take, kept whole for a person."""

    __tablename__ = "rejected_rows"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"), index=True)
    line: Mapped[int] = mapped_column(Integer)
    field: Mapped[str | None] = mapped_column(String(100), nullable=True)
    value: Mapped[str | None] = mapped_column(Text, nullable=True)
    defect: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)  # the line as received; bytes that are not UTF-8 escaped
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)


class SessionMark(Base):
    """The current roll-call (AM/PM) mark. History of changes is in MarkChange."""

    __tablename__ = "session_marks"
    pupil_ref: Mapped[str] = mapped_column(ForeignKey("pupils.pupil_ref"), primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    session: Mapped[str] = mapped_column(String(2), primary_key=True)
    mark: Mapped[str] = mapped_column(String(4))
    minutes_late: Mapped[int | None] = mapped_column(Integer, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LessonMark(Base):
    """A lesson (register) mark; session marks are derived from these where no roll call exists."""

    __tablename__ = "lesson_marks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pupil_ref: Mapped[str] = mapped_column(ForeignKey("pupils.pupil_ref"))
    date: Mapped[date] = mapped_column(Date)
    start: Mapped[str] = mapped_column(String(5))  # HH:MM local
    end: Mapped[str] = mapped_column(String(5))
    register: Mapped[str] = mapped_column(String(200))
    mark: Mapped[str] = mapped_column(String(4))
    minutes_late: Mapped[int | None] = mapped_column(Integer, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    __table_args__ = (
        UniqueConstraint("pupil_ref", "date", "start", "register"),
        Index("ix_lesson_marks_pupil_date", "pupil_ref", "date"),
    )


class MarkChange(Base):
    """Append-only history: every mark an import created or changed (registers never close)."""

    __tablename__ = "mark_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pupil_ref: Mapped[str] = mapped_column(String(32), index=True)
    date: Mapped[date] = mapped_column(Date)
    session: Mapped[str] = mapped_column(String(5))  # AM | PM, or a lesson start HH:MM
    register: Mapped[str | None] = mapped_column(String(200), nullable=True)
    old_mark: Mapped[str | None] = mapped_column(String(4), nullable=True)
    new_mark: Mapped[str] = mapped_column(String(4))
    old_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    new_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    old_minutes_late: Mapped[int | None] = mapped_column(Integer, nullable=True)
    new_minutes_late: Mapped[int | None] = mapped_column(Integer, nullable=True)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- certificates ---------------------------------------------------------------------------


class CertificateVersion(Base):
    """A certificate's content as it stood when sent or when a change was recorded.

    `school_hash` covers only what the Main School records or reads; a new version whose
    school_hash equals the last sent one is recorded (sent=False) and reported, not re-sent.
    """

    __tablename__ = "certificate_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pupil_ref: Mapped[str] = mapped_column(ForeignKey("pupils.pupil_ref"))
    week_start: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[Any] = mapped_column(JSONText)
    content_hash: Mapped[str] = mapped_column(String(64))
    school_hash: Mapped[str] = mapped_column(String(64))
    sent: Mapped[bool] = mapped_column(Boolean, default=False)
    amended: Mapped[bool] = mapped_column(Boolean, default=False)
    changes: Mapped[Any] = mapped_column(JSONText, nullable=True)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"), nullable=True)
    reported: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (UniqueConstraint("pupil_ref", "week_start", "version"),)


# --- cases ------------------------------------------------------------------------------------


class Case(Base):
    """A not-seen case. `id` is the case number: NS-<id>. State changes only via CaseEvent."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pupil_ref: Mapped[str] = mapped_column(ForeignKey("pupils.pupil_ref"), index=True)
    state: Mapped[str] = mapped_column(String(32))
    safeguarding_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen: Mapped[date | None] = mapped_column(Date, nullable=True)
    counting_from: Mapped[date] = mapped_column(Date)
    threshold_reached_on: Mapped[date] = mapped_column(Date)
    email_due: Mapped[date] = mapped_column(Date)
    welfare_due: Mapped[date | None] = mapped_column(Date, nullable=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    email_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    welfare_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    school_responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_reminder_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    check_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    check_outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    next_steps: Mapped[str | None] = mapped_column(Text, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)

    @property
    def ref(self) -> str:
        return f"NS-{self.id}"


class CaseEvent(Base):
    """Append-only chronology of a case: what happened, when, why, by whom, with what evidence."""

    __tablename__ = "case_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    event: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(32), nullable=True)
    to_state: Mapped[str] = mapped_column(String(32))
    cause: Mapped[str] = mapped_column(String(16))  # import | reply | person | timer
    actor: Mapped[str] = mapped_column(String(320))
    evidence: Mapped[str | None] = mapped_column(Text, nullable=True)
    detail: Mapped[Any] = mapped_column(JSONText, nullable=True)


# --- mail ----------------------------------------------------------------------------------------


class OutboxMessage(Base):
    """Every outgoing email, written before the network call. `idem_key` makes a send happen once."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idem_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    pupil_ref: Mapped[str | None] = mapped_column(String(32), nullable=True)
    school_urn: Mapped[str | None] = mapped_column(String(16), nullable=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True)
    week_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    from_addr: Mapped[str] = mapped_column(String(320))
    to_addrs: Mapped[Any] = mapped_column(JSONText)
    cc_addrs: Mapped[Any] = mapped_column(JSONText)
    subject: Mapped[str] = mapped_column(String(500))
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sending|sent|failed|bounced
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    detail: Mapped[Any] = mapped_column(JSONText, nullable=True)
    __table_args__ = (Index("ix_outbox_state", "state"),)


class InboxMessage(Base):
    """Every incoming message, stored whole, recorded once (by mailbox/UIDVALIDITY/UID and Message-ID)."""

    __tablename__ = "inbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(300))
    uidvalidity: Mapped[int] = mapped_column(Integer)
    uid: Mapped[str] = mapped_column(String(300))
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))  # processed | quarantined | dropped
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    sender: Mapped[str | None] = mapped_column(String(320), nullable=True)
    subject: Mapped[str | None] = mapped_column(Text, nullable=True)
    kind: Mapped[str | None] = mapped_column(String(32), nullable=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True)
    result: Mapped[Any] = mapped_column(JSONText, nullable=True)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    review_state: Mapped[str | None] = mapped_column(String(16), nullable=True)  # pending | decided
    decision: Mapped[Any] = mapped_column(JSONText, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(320), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    __table_args__ = (
        UniqueConstraint("mailbox", "uidvalidity", "uid"),
        Index("ix_inbox_review", "review_state"),
    )


class TimetableNotice(Base):
    """The timetable a Main School was last told about (the first one seen is a silent baseline)."""

    __tablename__ = "timetable_notices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pupil_ref: Mapped[str] = mapped_column(ForeignKey("pupils.pupil_ref"), index=True)
    timetable_hash: Mapped[str] = mapped_column(String(64))
    slots: Mapped[Any] = mapped_column(JSONText)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    baseline: Mapped[bool] = mapped_column(Boolean, default=False)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"), nullable=True)


# --- running ----------------------------------------------------------------------------------------


class JobRun(Base):
    """Schedule state per job, so a restart neither loses nor repeats a run."""

    __tablename__ = "job_runs"
    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    epoch: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_slot: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_status: Mapped[str | None] = mapped_column(String(16), nullable=True)  # ok | error
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    runs: Mapped[int] = mapped_column(Integer, default=0)


class AuditEntry(Base):
    """Who did what, when: every email sent, every case change, every person's decision."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(200), nullable=True)
    detail: Mapped[Any] = mapped_column(JSONText, nullable=True)
