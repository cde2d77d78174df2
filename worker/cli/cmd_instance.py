"""init, status, demo."""

from __future__ import annotations

import click

from worker.cli import Context, cli, pass_ctx
from worker.instance import init_instance


@cli.command()
@pass_ctx
def init(ctx: Context) -> None:
    """Make an instance folder: config.toml (every setting commented), database, outbox, inbox, drop."""
    created = init_instance(ctx.home)
    app = ctx.app()
    _ = app.engine  # creates or migrates the database
    for path in created:
        click.echo(f"created {path}")
    click.echo(f"instance ready at {ctx.home} (database {app.settings.database_url})")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--check", "max_age", type=int, default=None, metavar="MINUTES",
              help="Health check: exit 1 unless the worker ticked within MINUTES and no job is failing.")
@pass_ctx
def status(ctx: Context, as_json: bool, max_age: int | None) -> None:
    """What the worker knows: pupils, cases by state, outbox by state, last run of each job, inbox errors."""
    import dataclasses
    import json

    from worker.status import gather, health, render

    app = ctx.app()
    now = app.clock.now()
    info = gather(app, now)
    click.echo(json.dumps(dataclasses.asdict(info), indent=2) if as_json else render(info))
    if max_age is not None:
        problems = health(app, now, max_age)
        for problem in problems:
            click.echo(f"UNHEALTHY: {problem}", err=True)
        if problems:
            raise SystemExit(1)


@cli.command()
@pass_ctx
def demo(ctx: Context) -> None:
    """Run the whole job on the project's own sample data: init, import, replay a few weeks, summarise."""
    from worker.demo.run import run_demo

    run_demo(ctx.home, echo=click.echo)
