"""Incoming mail commands: `classify FILE.eml...` (read replies without changing anything) and the
`inbox` group (replay and review commands are added there by the ingest work)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from worker.cli import LOCAL_TIME, Context, cli, pass_ctx
from worker.config import load_settings, message_id_secret
from worker.inbox.classify import classify_message
from worker.inbox.directory import CaseDirectory, JsonCaseDirectory
from worker.inbox.parse import UnparseableMessage, parse_message
from worker.inbox.reply_rules import load_reply_rules


@cli.group()
def inbox() -> None:
    """Incoming mail: stored replies and the review queue."""


def classify_file(path: Path, directory: CaseDirectory, rules, secret: bytes, loop_header: str) -> dict:
    """One file's result as the JSON object the contract names; never raises for bad mail."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return {"file": str(path), "kind": "unparseable", "error": f"cannot read: {exc.strerror or exc}"}
    try:
        parsed = parse_message(raw)
    except UnparseableMessage as exc:
        return {"file": str(path), "kind": "unparseable", "error": str(exc)}
    result = classify_message(parsed, directory, rules, secret=secret, loop_header=loop_header)
    return {"file": str(path)} | result.to_json()


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line per file.")
@click.option(
    "--cases",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="Match against this case table (shape of fixtures/replies/cases.json) instead of the database.",
)
@pass_ctx
def classify(ctx: Context, files: tuple[Path, ...], as_json: bool, cases: Path | None) -> None:
    """Read replies (.eml files) and say what each one is; nothing is stored or sent."""
    settings = load_settings(ctx.home)
    rules = load_reply_rules(str(settings.rules_dir))
    secret = message_id_secret(settings)
    loop_header = settings.service.loop_header
    if cases is not None:
        directory: CaseDirectory = JsonCaseDirectory.from_file(cases)
        _run(files, directory, rules, secret, loop_header, as_json)
        return
    from worker.inbox.directory import DbCaseDirectory

    app = ctx.app()
    with app.sessions() as session:
        _run(files, DbCaseDirectory(session, app.settings), rules, secret, loop_header, as_json)


def _run(files, directory, rules, secret, loop_header, as_json: bool) -> None:
    for path in files:
        try:
            result = classify_file(path, directory, rules, secret, loop_header)
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the others
            result = {"file": str(path), "kind": "unparseable", "error": f"{type(exc).__name__}: {exc}"}
        if as_json:
            click.echo(json.dumps(result, ensure_ascii=False, default=str))
        else:
            click.echo(_line(result))


def _line(result: dict) -> str:
    if result["kind"] == "unparseable":
        return f"{result['file']}: unparseable: {result.get('error')}"
    parts = [result["kind"], result.get("case_ref") or "no case"]
    if result.get("check_date"):
        parts.append(f"checked {result['check_date']}")
    if result.get("outcome"):
        parts.append(result["outcome"])
    if result.get("needs_review"):
        parts.append("REVIEW: " + "; ".join(result.get("review_reasons") or []))
    return f"{result['file']}: " + ", ".join(parts)


@inbox.command("replay")
@click.argument("item_id", type=int)
@click.option("--at", "at_text", type=LOCAL_TIME, help="Act as if it were this time (default: now).")
@pass_ctx
def inbox_replay(ctx: Context, item_id: int, at_text) -> None:
    """Process a stored (quarantined) message again, after a fix."""
    from worker.clock import FixedClock
    from worker.inbox.ingest import replay

    app = ctx.app(clock=FixedClock(at_text) if at_text else None)
    click.echo(replay(app, item_id, app.clock.now()))


@inbox.command("list")
@click.option("--quarantined", is_flag=True, help="Only messages that could not be read.")
@pass_ctx
def inbox_list(ctx: Context, quarantined: bool) -> None:
    """Messages read from the Service mailbox, newest last."""
    from sqlalchemy import select

    from worker.clock import local
    from worker.db.models import InboxMessage

    app = ctx.app()
    with app.sessions() as session:
        query = select(InboxMessage).order_by(InboxMessage.id)
        if quarantined:
            query = query.where(InboxMessage.status == "quarantined")
        items = list(session.scalars(query))
        if not items:
            click.echo("no quarantined messages" if quarantined else "nothing has been read from the inbox yet")
        for item in items:
            click.echo(f"{item.id:>5}  {local(item.received_at):%Y-%m-%d %H:%M}  {item.status:<11} "
                       f"{item.kind or '-':<15} case {item.case_id or '-'}  from {item.sender or '-'}"
                       + (f"  error: {item.error}" if item.error else ""))
