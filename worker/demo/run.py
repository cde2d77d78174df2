"""The README demo: make an instance, import the project's own sample data, replay a few weeks
with an injected clock, and say what went out and which cases opened.

Everything runs on the embedded defaults: SQLite, outgoing mail as .eml files in outbox/,
incoming replies from the Maildir inbox/, dropped files imported from drop/.
"""

from __future__ import annotations

import shutil
import sys
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import func, select

from worker.app import App
from worker.clock import LONDON, FixedClock, describe_local, local
from worker.config import CONFIG_TEMPLATE, load_settings
from worker.db.models import Case, InboxMessage, OutboxMessage
from worker.demo.generate import SampleInfo, generate_sample
from worker.demo.replies import build_reply
from worker.errors import CourierError
from worker.instance import init_instance

TICKS = (time(7, 0), time(8, 45), time(12, 0), time(15, 45), time(18, 0))


def demo_config(info: SampleInfo, secret: str) -> str:
    """The instance config for the sample Service (its mailbox and domain)."""
    text = CONFIG_TEMPLATE.format(secret=secret)
    text = text.replace('# mailbox = "attendance@service.example"', f'mailbox = "{info.service_mailbox}"')
    return text.replace('# domain = "service.example"', f'domain = "{info.service_domain}"')


def run_demo(home: Path, echo: Callable[[str], None] = print, ticks: tuple[time, ...] = TICKS) -> dict:
    import secrets

    home = Path(home)
    sample_dir = home / "sample"
    info = generate_sample(sample_dir)
    if not (home / "config.toml").exists():
        home.mkdir(parents=True, exist_ok=True)
        (home / "config.toml").write_text(demo_config(info, secrets.token_hex(32)), encoding="utf-8")
    init_instance(home)
    clock = FixedClock()
    app = App(settings=load_settings(home), clock=clock)
    try:
        import weasyprint  # noqa: F401 - fail here, clearly, not at every certificate
    except OSError as exc:
        raise CourierError(f"the certificate PDFs need Pango (WeasyPrint could not load it: {exc}); "
                           "install it, e.g. `sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0`") from None
    database = "SQLite" if app.settings.database_url.startswith("sqlite") else "PostgreSQL"
    with app.sessions() as session:
        before = session.scalar(select(func.count()).select_from(OutboxMessage)) or 0
    echo(f"instance: {home.resolve()} ({database}, outbox/ for sent mail, inbox/ Maildir for replies)")
    echo(f"sample data: {len(info.files)} files in {sample_dir} ({info.data_from} to {info.data_to})")

    from worker.imports.runner import import_paths

    first = _moment(info.replay_from, ticks[0])
    upfront = [step.path for step in info.imports if step.import_at <= first]
    later = [step for step in info.imports if step.import_at > first]
    results = import_paths([str(p) for p in upfront], app.sessions, app.codebook, app.rules_dir, first, source="cli")
    for result in results:
        echo(f"  imported {result.summary()}")

    from worker.service import run_once

    replies = list(info.replies)
    day = info.replay_from
    ticks_run = 0
    while day <= info.replay_to:
        if day.weekday() < 5:
            for tick in ticks:
                at = _moment(day, tick)
                for step in [s for s in later if s.import_at <= at]:
                    shutil.copy(step.path, app.settings.drop_dir / step.path.name)
                    echo(f"{describe_local(at)}: dropped {step.path.name} into drop/ for the worker")
                    later.remove(step)
                for plan in [r for r in replies if r.at <= at]:
                    if _drop_reply(app, plan, at):
                        echo(f"{describe_local(at)}: a school reply for pupil {plan.pupil_ref} arrived in inbox/")
                        replies.remove(plan)
                clock.set(at)
                report = run_once(app, at)
                ticks_run += 1
                for name, error in report.errors.items():
                    echo(f"{describe_local(at)}: job {name} failed: {error}")
        day += timedelta(days=1)
    return summarise(app, info, echo, ticks_run, before)


def _moment(day: date, clock_time: time) -> datetime:
    return datetime.combine(day, clock_time, tzinfo=LONDON)


def _drop_reply(app: App, plan, at: datetime) -> bool:
    """Write the planned school reply into the Maildir once its case's not-seen email has gone."""
    with app.sessions() as session:
        row = session.execute(
            select(OutboxMessage, Case).join(Case, OutboxMessage.case_id == Case.id)
            .where(Case.pupil_ref == plan.pupil_ref, OutboxMessage.kind == "not_seen",
                   OutboxMessage.state == "sent")
        ).first()
    if row is None:
        return False
    outbox_row, case = row
    raw = build_reply(
        original_message_id=outbox_row.message_id, case_ref=case.ref, from_addr=plan.from_addr,
        from_name=plan.from_name, to_addr=app.settings.service.mailbox, body=plan.body,
        date=max(plan.at, at - timedelta(minutes=5)), client=plan.client,
        original_date=outbox_row.sent_at,
    )
    new = app.settings.inbox_dir / "new"
    new.mkdir(parents=True, exist_ok=True)
    name = f"{int(at.timestamp())}.demo-{case.ref}.eml"
    (new / name).write_bytes(raw)
    return True


def summarise(app: App, info: SampleInfo, echo: Callable[[str], None], ticks_run: int, before: int = 0) -> dict:
    with app.sessions() as session:
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        cases = list(session.scalars(select(Case).order_by(Case.id)))
        inbox = list(session.scalars(select(InboxMessage).order_by(InboxMessage.id)))
        from worker.cases import states, store

        echo("")
        echo(f"replayed {ticks_run} ticks, {info.replay_from} to {info.replay_to}")
        kinds = Counter(row.kind for row in rows)
        echo(f"emails written to {app.settings.outbox_dir}: {len(rows)} "
             f"({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))})")
        if before:
            echo(f"  ({len(rows) - before} of them by this run: the instance already held {before}; "
                 "replayed slots are never sent twice. Use a new --home to start again.)")
        attachments = sum(len((row.detail or {}).get("pupils", [])) for row in rows if row.kind == "certificate")
        echo(f"  certificate PDFs attached: {attachments}")
        for row in rows:
            if row.kind in ("certificate", "tutor_prompt", "digest", "run_report"):
                continue
            cc = f" cc {', '.join(row.cc_addrs)}" if row.cc_addrs else ""
            echo(f"  {local(row.created_at):%a %d %b %H:%M}  {row.subject}  -> {', '.join(row.to_addrs)}{cc}")
        echo("")
        echo(f"cases opened: {len(cases)}")
        for case in cases:
            events = store.events(session, case)
            echo(f"  {case.ref} pupil {case.pupil_ref}{' (safeguarding risk)' if case.safeguarding_risk else ''}: "
                 f"last seen {case.last_seen}, {states.LABELS.get(case.state, case.state)}; "
                 f"{len(events)} events")
            for event in events:
                if event.from_state != event.to_state or event.event.endswith("recorded"):
                    echo(f"      {local(event.at):%a %d %b %H:%M}  {event.event.replace('_', ' ')}"
                         f"{' -> ' + states.LABELS.get(event.to_state, event.to_state) if event.from_state != event.to_state else ''}")
        echo(f"school replies read: {len(inbox)}; waiting for a person: "
             f"{sum(1 for i in inbox if i.review_state == 'pending')}")
        echo("")
        home = app.settings.home
        program = sys.argv[0] if sys.argv and sys.argv[0].endswith("attendance-courier") else "attendance-courier"
        echo(f"look at: ls {app.settings.outbox_dir}")
        for command in ("status", "cases list --all", "cases show NS-1", "review list",
                        "inbox list"):
            echo(f"         {program} --home {home} {command}")
        return {"emails": len(rows), "kinds": dict(kinds), "cases": len(cases), "replies": len(inbox)}
