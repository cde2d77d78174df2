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
    app.engine  # creates or migrates the database
    for path in created:
        click.echo(f"created {path}")
    click.echo(f"instance ready at {ctx.home} (database {app.settings.database_url})")
