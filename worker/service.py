"""The worker: one tick runs every job that is due; the loop owns signals and sleeping.

Each job is `fn(app, at, slot) -> bool` ("did I find work?"). A job that raises is logged and
recorded, and retried on its next tick; it never ends the loop. The clock is read once per
tick and `at` is passed down.
"""

from __future__ import annotations

import logging
import signal
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import schedule

from worker.app import App
from worker.clock import describe_local as describe
from worker.config import parse_clock_time
from worker.db.models import JobRun
from worker.scheduler import JobSpec, is_due

log = logging.getLogger(__name__)

JobFn = Callable[[App, datetime, datetime | None], bool]


def job_specs(app: App) -> list[JobSpec]:
    s = app.settings.schedule
    return [
        JobSpec("imports"),
        JobSpec("inbox"),
        JobSpec("cases"),
        JobSpec("timetables"),
        JobSpec("certificates", slot=parse_clock_time(s.certificate_time)),
        JobSpec("digest", slot=parse_clock_time(s.digest_time)),
        JobSpec("tutor_prompts", slot=parse_clock_time(s.tutor_prompt_time)),
        JobSpec("dispatch"),
        JobSpec("retention", slot=parse_clock_time("02:00"), school_days_only=False),
    ]


def job_functions() -> dict[str, JobFn]:
    from worker import jobs

    return {
        "imports": jobs.run_imports,
        "inbox": jobs.run_inbox,
        "cases": jobs.run_cases,
        "timetables": jobs.run_timetables,
        "certificates": jobs.run_certificates,
        "digest": jobs.run_digest,
        "tutor_prompts": jobs.run_tutor_prompts,
        "dispatch": jobs.run_dispatch,
        "retention": jobs.run_retention,
    }


@dataclass
class TickReport:
    at: datetime
    ran: dict[str, bool] = field(default_factory=dict)  # job -> did work
    errors: dict[str, str] = field(default_factory=dict)


def run_once(app: App, at: datetime, only: list[str] | None = None) -> TickReport:
    """Run every job due at `at` (or only the named ones), in order."""
    from worker.db.queries_attendance import load_calendar

    report = TickReport(at=at)
    functions = job_functions()
    with app.sessions() as session:
        calendar = load_calendar(session)
    for spec in job_specs(app):
        if only and spec.name not in only:
            continue
        with app.sessions.begin() as session:
            state = session.get(JobRun, spec.name)
            if state is None:
                state = JobRun(job=spec.name, epoch=at, runs=0)
                session.add(state)
            due, slot = is_due(spec, at, state.last_slot, state.epoch, calendar.is_school_day)
            if not due:
                continue
            state.last_started_at = at
        try:
            did = functions[spec.name](app, at, slot)
        except Exception as exc:  # noqa: BLE001 - a failing job must never end the loop
            log.error("job %s failed at %s: %s", spec.name, describe(at), exc)
            log.debug("%s", traceback.format_exc())
            report.errors[spec.name] = f"{type(exc).__name__}: {exc}"
            _finish(app, spec.name, at, None, "error", report.errors[spec.name])
            continue
        report.ran[spec.name] = bool(did)
        _finish(app, spec.name, at, slot, "ok", None)
    return report


def _finish(app: App, name: str, at: datetime, slot: datetime | None, status: str, error: str | None) -> None:
    with app.sessions.begin() as session:
        state = session.get(JobRun, name)
        state.last_finished_at = at
        state.last_status = status
        state.last_error = error
        state.runs = (state.runs or 0) + 1
        if status == "ok" and slot is not None:
            state.last_slot = slot


class Stopper:
    """Set by SIGTERM/SIGINT; the step in progress finishes, then the loop ends."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum, _frame) -> None:
        log.warning("signal %s: finishing the current step, then stopping", signum)
        self.event.set()

    @property
    def stopped(self) -> bool:
        return self.event.is_set()


def run_forever(app: App, stopper: Stopper, slice_seconds: float = 1.0) -> None:
    """Tick now, then every `tick_seconds` (via `schedule`) until stopped."""
    from worker.outbox.dispatch import recover_interrupted

    interrupted = recover_interrupted(app.sessions, app.clock.now())
    if interrupted:
        log.warning("%d outgoing emails were interrupted mid-send; marked unknown for a person", len(interrupted))
    scheduler = schedule.Scheduler()

    def tick() -> None:
        if stopper.stopped:
            return
        report = run_once(app, app.clock.now())
        if report.errors:
            log.warning("tick finished with errors in: %s", ", ".join(report.errors))

    scheduler.every(app.settings.schedule.tick_seconds).seconds.do(tick)
    tick()
    while not stopper.stopped:
        scheduler.run_pending()
        stopper.event.wait(slice_seconds)
    log.warning("stopped")
