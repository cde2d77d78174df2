"""run: the long-running worker, or one tick of it (`--once`, optionally `--at` a replayed time)."""

from __future__ import annotations

import click

from worker.cli import LOCAL_TIME, Context, cli, pass_ctx
from worker.clock import FixedClock, describe_local


@cli.command()
@click.option("--once", is_flag=True, help="Run every job due now, then exit.")
@click.option("--at", "at_text", type=LOCAL_TIME,
              help="With --once: act as if it were this time (Europe/London). Emails carry it as their Date.")
@click.option("--job", "jobs", multiple=True, help="With --once: only these jobs (repeatable).")
@click.option("--strict", is_flag=True, help="With --once: exit 1 when a job failed.")
@pass_ctx
def run(ctx: Context, once: bool, at_text, jobs: tuple[str, ...], strict: bool) -> None:
    """Run the worker: import dropped files, evaluate cases, send what is due, read replies.

    Without --once it keeps going until SIGTERM or SIGINT, finishing the step it is in.
    """
    from worker.outbox.dispatch import recover_interrupted
    from worker.service import Stopper, run_forever, run_once

    if at_text and not once:
        raise click.UsageError("--at only makes sense with --once")
    if once:
        clock = FixedClock(at_text) if at_text else None
        app = ctx.app(clock=clock)
        at = app.clock.now()
        # Each `--once` is a start of the worker: a row a crash left mid-send becomes `unknown`
        # for a person (never re-sent), as when the long-running worker starts.
        interrupted = recover_interrupted(app.sessions, at)
        if interrupted:
            click.echo(f"{len(interrupted)} outgoing email(s) were interrupted mid-send: marked unknown "
                       "for a person to check; they are not sent again", err=True)
        report = run_once(app, at, only=list(jobs) or None)
        ran = ", ".join(f"{name}{'*' if did else ''}" for name, did in report.ran.items()) or "nothing due"
        click.echo(f"{describe_local(at)}: ran {ran}  (* = found work)")
        for name, error in report.errors.items():
            click.echo(f"  job {name} failed: {error}", err=True)
        if strict and report.errors:
            raise SystemExit(1)
        return
    app = ctx.app()
    stopper = Stopper()
    stopper.install()
    click.echo(f"attendance-courier running from {ctx.home}; stop with SIGTERM or Ctrl-C")
    run_forever(app, stopper)
