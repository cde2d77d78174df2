"""The job functions the service runs: each is `fn(app, at, slot) -> bool` ("did I find work?")."""

from __future__ import annotations

from datetime import datetime

from worker.app import App


def run_imports(app: App, at: datetime, slot: datetime | None = None) -> bool:
    from worker.imports.drop import import_drop_folder

    results = import_drop_folder(app.sessions, app.codebook, app.rules_dir, app.settings.drop_dir, at)
    return bool(results)


def run_inbox(app: App, at: datetime, slot: datetime | None = None) -> bool:
    from worker.inbox.ingest import ingest

    return ingest(app, at).did_work


def run_cases(app: App, at: datetime, slot: datetime | None = None) -> bool:
    from worker.cases.evaluate import run

    return run(app, at, slot)


def run_certificates(app: App, at: datetime, slot: datetime | None = None) -> bool:
    from worker.certificates.job import run

    return run(app, at, slot)


def run_digest(app: App, at: datetime, slot: datetime | None = None) -> bool:
    from worker.cases.digest import send_digest

    return send_digest(app, at)


def run_tutor_prompts(app: App, at: datetime, slot: datetime | None = None) -> bool:
    from worker.cases.prompts import send_prompts

    return send_prompts(app, at)


def run_dispatch(app: App, at: datetime, slot: datetime | None = None) -> bool:
    from worker.cases.evaluate import on_failed, on_sent
    from worker.outbox.dispatch import dispatch_pending

    result = dispatch_pending(app.sessions, app.transport, at, on_sent=on_sent, on_failed=on_failed)
    if result.server_error is not None:
        raise result.server_error  # the job shows as failing in `status` until the server answers
    return result.did_work


def run_retention(app: App, at: datetime, slot: datetime | None = None) -> bool:
    from worker.retention import purge

    return purge(app, at)


def run_timetables(app: App, at: datetime, slot: datetime | None = None) -> bool:
    from worker.timetables import notify_changes

    return notify_changes(app, at)
