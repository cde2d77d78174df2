"""cases (the not-seen view and the case commands), review, digest."""

from __future__ import annotations

import csv
import getpass
import io
import json
import sys
from datetime import date

import click

from worker.cli import LOCAL_TIME, Context, cli, pass_ctx
from worker.clock import local
from worker.errors import NotFound


def _parse_day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{what} must be YYYY-MM-DD, not {text!r}") from None


def _actor(by: str | None) -> str:
    return by or getpass.getuser()


@cli.group(invoke_without_command=True)
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="The not-seen view as things stood at the end of that day.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per pupil (with --as-of).")
@click.pass_context
def cases(click_ctx: click.Context, as_of: str | None, as_json: bool) -> None:
    """Not-seen cases. With --as-of: every pupil's not-seen status computed from the marks."""
    if click_ctx.invoked_subcommand is not None:
        return
    ctx: Context = click_ctx.obj
    if as_of is None:
        click_ctx.invoke(cases_list)
        return
    from worker.attendance.views import cases_json

    day = _parse_day(as_of, "--as-of")
    app = ctx.app()
    with app.sessions() as session:
        rows = cases_json(session, app.codebook, app.rules_dir, day)
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False, default=str))
        return
    for row in rows:
        flag = "CASE" if row.get("case_open_at_end") else ("had case" if row.get("case_exists") else "")
        click.echo(
            f"{row['pupil_ref']:>8}  last seen {row.get('last_seen') or '-':<10}  "
            f"not seen {row.get('school_days_not_seen_at_end', 0):>2} school days  {flag}"
        )


@cases.command("list")
@click.option("--all", "show_all", is_flag=True, help="Closed cases too.")
@pass_ctx
def cases_list(ctx: Context, show_all: bool = False) -> None:
    """Open cases (and closed ones with --all)."""
    from worker.cases import states, store
    from worker.db.models import Pupil, School

    app = ctx.app()
    with app.sessions() as session:
        rows = store.all_cases(session, open_only=not show_all)
        if not rows:
            click.echo("no cases" if show_all else "no open cases")
        for case in rows:
            pupil = session.get(Pupil, case.pupil_ref)
            school = session.get(School, pupil.school_urn) if pupil else None
            click.echo(
                f"{case.ref:<8} {states.LABELS.get(case.state, case.state):<32} pupil {case.pupil_ref:<8} "
                f"{'RISK ' if case.safeguarding_risk else ''}last seen {case.last_seen or '-'}  "
                f"opened {local(case.opened_at):%Y-%m-%d}  {school.name if school else ''}"
            )


def _chronology(session, case) -> list[dict[str, str]]:
    from worker.cases import store

    rows = []
    for event in store.events(session, case):
        detail = event.detail or {}
        parts = [f"{k}={v}" for k, v in detail.items() if v not in (None, "", [])]
        if event.from_state != event.to_state:
            parts.insert(0, f"{event.from_state or '-'} -> {event.to_state}")
        if event.evidence:
            parts.append(f"evidence {event.evidence}")
        when = local(event.at)
        rows.append({
            "date": when.strftime("%d/%m/%Y"),
            "time": when.strftime("%H:%M"),
            "event": event.event.replace("_", " "),
            "by": f"{event.actor} ({event.cause})",
            "detail": "; ".join(parts),
        })
    return rows


def _case_or_fail(session, ref: str):
    from worker.cases import store

    case = store.by_ref(session, ref)
    if case is None:
        raise NotFound(f"no case {ref}")
    return case


@cases.command("show")
@click.argument("ref")
@pass_ctx
def cases_show(ctx: Context, ref: str) -> None:
    """A case and its chronology."""
    from worker.cases import states
    from worker.db.models import Pupil, School

    app = ctx.app()
    with app.sessions() as session:
        case = _case_or_fail(session, ref)
        pupil = session.get(Pupil, case.pupil_ref)
        school = session.get(School, pupil.school_urn) if pupil else None
        click.echo(f"{case.ref}: {states.LABELS.get(case.state, case.state)}")
        if pupil:
            click.echo(f"  pupil {pupil.pupil_ref}: {pupil.forename} {pupil.surname}, UPN {pupil.upn or '-'}, "
                       f"born {pupil.date_of_birth or '-'}, safeguarding risk {'yes' if case.safeguarding_risk else 'no'}")
        if school:
            click.echo(f"  Main School {school.urn} {school.name}")
        click.echo(f"  last seen {case.last_seen or '-'}; email due {case.email_due}; welfare check due {case.welfare_due or '-'}")
        if case.check_outcome or case.check_date:
            click.echo(f"  check {case.check_date or '-'}: {case.check_outcome or '-'}; next steps: {case.next_steps or '-'}")
        click.echo("chronology:")
        for row in _chronology(session, case):
            click.echo(f"  {row['date']} {row['time']}  {row['event']:<26} {row['by']:<24} {row['detail']}")


@cases.command("export")
@click.argument("ref")
@click.option("--format", "fmt", type=click.Choice(["csv", "text"]), default="csv", show_default=True)
@pass_ctx
def cases_export(ctx: Context, ref: str, fmt: str) -> None:
    """A chronology to paste into CPOMS or MyConcern: date, time, event, by, detail."""
    app = ctx.app()
    with app.sessions() as session:
        case = _case_or_fail(session, ref)
        rows = _chronology(session, case)
    if fmt == "text":
        for row in rows:
            click.echo(f"{row['date']} {row['time']} | {row['event']} | {row['by']} | {row['detail']}")
        return
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["date", "time", "event", "by", "detail"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    sys.stdout.write(out.getvalue())


@cases.command("close")
@click.argument("ref")
@click.option("--note", required=True, help="Why the case is closed.")
@click.option("--by", help="Who decides (default: your login name).")
@pass_ctx
def cases_close(ctx: Context, ref: str, note: str, by: str | None) -> None:
    """Close a case by a person's decision."""
    if not note.strip():  # a safeguarding decision is recorded with its reason
        raise click.UsageError("--note must say why the case is closed")
    _apply_by_person(ctx, ref, "closed_by_person", note, by)
    click.echo(f"{ref.upper()} closed")


@cases.command("note")
@click.argument("ref")
@click.argument("text")
@click.option("--by", help="Who writes (default: your login name).")
@pass_ctx
def cases_note(ctx: Context, ref: str, text: str, by: str | None) -> None:
    """Add a note to a case's chronology."""
    if not text.strip():
        raise click.UsageError("the note is empty")
    _apply_by_person(ctx, ref, "note", text, by)
    click.echo(f"note added to {ref.upper()}")


def _apply_by_person(ctx: Context, ref: str, event: str, note: str, by: str | None) -> None:
    """A person's event on a case, with their note, now (one transaction)."""
    from worker.cases import store

    app = ctx.app()
    at = app.clock.now()
    with app.sessions.begin() as session:
        case = _case_or_fail(session, ref)
        store.apply(session, case, event, at=at, cause="person", actor=_actor(by), detail={"note": note})


@cli.group()
def review() -> None:
    """Replies the worker could not place on its own: a person decides."""


@review.command("list")
@click.option("--all", "show_all", is_flag=True, help="Decided ones too.")
@pass_ctx
def review_list(ctx: Context, show_all: bool) -> None:
    """Replies waiting for a person."""
    from sqlalchemy import select

    from worker.db.models import Case, InboxMessage

    app = ctx.app()
    with app.sessions() as session:
        query = select(InboxMessage).where(InboxMessage.review_state.is_not(None)).order_by(InboxMessage.id)
        if not show_all:
            query = query.where(InboxMessage.review_state == "pending")
        items = list(session.scalars(query))
        if not items:
            click.echo("nothing waiting for review")
        for item in items:
            case = session.get(Case, item.case_id) if item.case_id else None
            reasons = "; ".join((item.result or {}).get("review_reasons") or []) or "-"
            click.echo(
                f"{item.id:>5}  {item.review_state:<8} {case.ref if case else 'no case':<9} {item.kind or '-':<16} "
                f"from {item.sender or '-'}  {local(item.received_at):%Y-%m-%d %H:%M}  why: {reasons}"
            )


@review.command("show")
@click.argument("item_id", type=int)
@pass_ctx
def review_show(ctx: Context, item_id: int) -> None:
    """The reply and what the worker made of it."""
    from worker.db.models import InboxMessage

    app = ctx.app()
    with app.sessions() as session:
        item = session.get(InboxMessage, item_id)
        if item is None:
            raise NotFound(f"no inbox item {item_id}")
        click.echo(json.dumps({k: v for k, v in (item.result or {}).items()}, indent=2, default=str, ensure_ascii=False))


@review.command("decide")
@click.argument("item_id", type=int)
@click.option("--as", "kind", required=True,
              type=click.Choice(["check_requested", "check_done", "pupil_seen", "other", "dismiss"]))
@click.option("--case", "case_ref", help="The case it belongs to (when the worker could not match it).")
@click.option("--outcome", type=click.Choice(["seen_safe", "not_seen", "concerns", "referred"]))
@click.option("--date", "check_date", metavar="YYYY-MM-DD", help="The day the welfare check was made.")
@click.option("--next-steps", "next_steps")
@click.option("--note", default="")
@click.option("--by", help="Who decides (default: your login name).")
@click.option("--at", "at_text", type=LOCAL_TIME, help="When the decision was made (default: now).")
@pass_ctx
def review_decide(ctx: Context, item_id: int, kind: str, case_ref: str | None, outcome: str | None,
                  check_date: str | None, next_steps: str | None, note: str, by: str | None,
                  at_text) -> None:
    """Decide what a reply means; the case changes as if the school had said it plainly."""
    from worker.cases.review import decide
    from worker.clock import FixedClock

    app = ctx.app(clock=FixedClock(at_text) if at_text else None)
    day = _parse_day(check_date, "--date") if check_date else None
    outcome_text = decide(app, item_id, kind=kind, case_ref=case_ref, outcome=outcome, check_date=day,
                          next_steps=next_steps, note=note, actor=_actor(by), at=app.clock.now())
    click.echo(outcome_text)


@cli.command()
@click.option("--print", "to_terminal", is_flag=True, help="Show the digest here instead of emailing it.")
@click.option("--at", "at_text", type=LOCAL_TIME, help="Compute it at this time (Europe/London): days not seen and what is due; cases as they are now.")
@pass_ctx
def digest(ctx: Context, to_terminal: bool, at_text) -> None:
    """The DSL's daily safeguarding digest (emailed at 07:30 each school day by `run`)."""
    from worker.cases.digest import build_digest, render_digest, send_digest
    from worker.clock import FixedClock

    app = ctx.app(clock=FixedClock(at_text) if at_text else None)
    at = app.clock.now()
    if to_terminal:
        subject, text, _ = render_digest(app, build_digest(app, at))
        click.echo(subject)
        click.echo()
        click.echo(text)
        return
    queued = send_digest(app, at)
    click.echo("digest queued; `run --once` sends it" if queued else "today's digest was already queued")
