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
@pass_ctx
def status(ctx: Context, as_json: bool) -> None:
    """What the worker knows: pupils, cases by state, outbox by state, last run of each job, inbox errors."""
    import dataclasses
    import json

    from worker.status import gather, render

    app = ctx.app()
    info = gather(app, app.clock.now())
    click.echo(json.dumps(dataclasses.asdict(info), indent=2) if as_json else render(info))


@cli.command()
@pass_ctx
def demo(ctx: Context) -> None:
    """Run the whole job on the project's own sample data: init, import, replay a few weeks, summarise."""
    from worker.demo.run import run_demo

    run_demo(ctx.home, echo=click.echo)
