"""What the worker knows, for `status` (and a health check)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from worker.app import App
from worker.cases import states
from worker.clock import describe_local, local_date
from worker.db.models import (
    Case,
    ImportBatch,
    InboxMessage,
    JobRun,
    Pupil,
    RejectedRow,
    School,
    StaffMember,
)
from worker.outbox.store import counts_by_state


@dataclass
class Status:
    pupils: int = 0
    pupils_on_roll: int = 0
    schools: int = 0
    staff: int = 0
    imports: int = 0
    last_import: str = ""
    rejected_rows: int = 0
    cases: dict[str, int] = field(default_factory=dict)
    outbox: dict[str, int] = field(default_factory=dict)
    jobs: list[dict[str, str]] = field(default_factory=list)
    inbox: dict[str, int] = field(default_factory=dict)
    reviews_pending: int = 0
    inbox_errors: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)


def gather(app: App, at: datetime) -> Status:
    from worker.imports.gaps import data_gaps

    today = local_date(at)
    status = Status()
    with app.sessions() as s:
        status.pupils = s.scalar(select(func.count()).select_from(Pupil)) or 0
        status.pupils_on_roll = s.scalar(
            select(func.count()).select_from(Pupil).where((Pupil.end_date.is_(None)) | (Pupil.end_date >= today))
        ) or 0
        status.schools = s.scalar(select(func.count()).select_from(School)) or 0
        status.staff = s.scalar(select(func.count()).select_from(StaffMember)) or 0
        status.imports = s.scalar(select(func.count()).select_from(ImportBatch)) or 0
        last = s.scalar(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(1))
        if last is not None:
            status.last_import = f"{last.file_name} ({last.kind}) at {describe_local(last.imported_at)}"
        status.rejected_rows = s.scalar(
            select(func.count()).select_from(RejectedRow).where(RejectedRow.resolved.is_(False))
        ) or 0
        status.cases = {state: 0 for state in states.STATES}
        for state, count in s.execute(select(Case.state, func.count()).group_by(Case.state)):
            status.cases[state] = count
        status.outbox = counts_by_state(s)
        for job in s.scalars(select(JobRun).order_by(JobRun.job)):
            status.jobs.append({
                "job": job.job,
                "last": describe_local(job.last_finished_at) if job.last_finished_at else "never",
                "status": job.last_status or "-",
                "error": job.last_error or "",
                "runs": str(job.runs or 0),
            })
        for state, count in s.execute(select(InboxMessage.status, func.count()).group_by(InboxMessage.status)):
            status.inbox[state] = count
        status.reviews_pending = s.scalar(
            select(func.count()).select_from(InboxMessage).where(InboxMessage.review_state == "pending")
        ) or 0
        for item in s.scalars(select(InboxMessage).where(InboxMessage.status == "quarantined")):
            status.inbox_errors.append(f"item {item.id}: {item.error}")
        status.gaps = [gap.message for gap in data_gaps(s)]
        from worker.cases.evaluate import stale_data
        from worker.db.queries_attendance import load_world

        stale = stale_data(load_world(s), today)
        if stale:
            status.gaps.insert(0, stale)
    return status


def render(status: Status) -> str:
    lines = [
        f"pupils: {status.pupils} ({status.pupils_on_roll} on roll); schools: {status.schools}; staff: {status.staff}",
        f"imports: {status.imports}" + (f"; last {status.last_import}" if status.last_import else ""),
        f"rows rejected by imports, waiting for a person: {status.rejected_rows}",
        "cases: " + ", ".join(f"{states.LABELS.get(k, k)} {v}" for k, v in status.cases.items()),
        "outbox: " + (", ".join(f"{k} {v}" for k, v in sorted(status.outbox.items())) or "empty"),
        "inbox: " + (", ".join(f"{k} {v}" for k, v in sorted(status.inbox.items())) or "empty")
        + f"; waiting for review: {status.reviews_pending}",
        "jobs:",
    ]
    if not status.jobs:
        lines.append("  none has run yet")
    for job in status.jobs:
        line = f"  {job['job']:<14} last {job['last']:<22} {job['status']:<6} runs {job['runs']}"
        if job["error"]:
            line += f"  error: {job['error']}"
        lines.append(line)
    lines.append(f"inbox errors: {len(status.inbox_errors)}")
    lines.extend(f"  {e}" for e in status.inbox_errors)
    lines.append(f"data gaps: {len(status.gaps)}")
    lines.extend(f"  {g}" for g in status.gaps)
    return "\n".join(lines)


def health(app: App, at: datetime, max_age_minutes: int) -> list[str]:
    """Why the worker is not healthy (empty when it is): no recent tick, or a job failing."""
    from datetime import timedelta

    problems = []
    with app.sessions() as s:
        jobs = list(s.scalars(select(JobRun)))
    finished = [job.last_finished_at for job in jobs if job.last_finished_at]
    if not finished:
        problems.append("the worker has never run")
    elif max(finished) < at - timedelta(minutes=max_age_minutes):
        problems.append(f"no tick since {describe_local(max(finished))}")
    problems += [f"job {job.job} failing: {job.last_error}" for job in jobs if job.last_status == "error"]
    return problems
