"""`attendance-courier import PATH...`: load roster, calendar and Arbor exports."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from worker.cli import cli, pass_ctx
from worker.imports import KINDS, data_gaps, import_paths


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--kind", type=click.Choice(KINDS), default=None,
              help="Read every file as this kind instead of recognising it by its header row.")
@click.option("--gaps/--no-gaps", default=True, show_default=True,
              help="List data gaps in the roster afterwards.")
@pass_ctx
def import_cmd(ctx, paths: tuple[Path, ...], kind: str | None, gaps: bool) -> None:
    """Import roster files, calendar.yaml and Arbor roll-call / lesson exports.

    Each bad row is printed as FILE:LINE: COLUMN: DEFECT: REASON and kept for review; the
    good rows are imported. Exit status 1 when a file could not be read at all.
    """
    app = ctx.app()
    at = app.clock.now()
    results = import_paths(paths, app.sessions, app.codebook, app.rules_dir, at, kind=kind, source="cli")
    failed = False
    for result in results:
        for defect in result.defects:
            click.echo(defect.text())
        if result.ok:
            click.echo(result.summary())
        else:
            failed = True
            click.echo(f"error: {result.summary()}", err=True)
    if gaps:
        with app.sessions() as session:
            for gap in data_gaps(session):
                click.echo(f"data gap: {gap.message}")
    if failed:
        sys.exit(1)
