"""The `attendance-courier` command. Sub-command groups live in one module each."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from worker.app import App
from worker.config import default_home
from worker.errors import CourierError


class Context:
    """Lazily built App, so `init` can run before a config exists."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self._app: App | None = None

    def app(self, clock=None) -> App:
        if self._app is None or clock is not None:
            if not (self.home / "config.toml").exists() and not (self.home / "courier.db").exists():
                from worker.instance import init_instance

                init_instance(self.home)
                click.echo(f"note: there was no instance at {self.home}: made one with the embedded "
                           "defaults (see its config.toml)", err=True)
            self._app = App.from_home(self.home, clock=clock)
        return self._app


class LocalTime(click.ParamType):
    """'YYYY-MM-DD HH:MM' in Europe/London, as an aware UTC datetime."""

    name = "'YYYY-MM-DD HH:MM'"

    def convert(self, value, param, ctx):
        from datetime import datetime

        from worker.clock import parse_local

        if isinstance(value, datetime):
            return value
        try:
            return parse_local(value)
        except ValueError:
            self.fail(f"{value!r} is not a time like '2026-11-26 07:30' (Europe/London)", param, ctx)


LOCAL_TIME = LocalTime()


pass_ctx = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Instance folder (default: $ATTENDANCE_COURIER_HOME, then ./var).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, home: Path | None, verbose: int) -> None:
    """attendance-courier: attendance certificates and not-seen safeguarding emails for Main Schools."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.obj = Context(home or default_home())


def _register() -> None:
    from worker.cli import (  # noqa: F401 - each module adds its commands to `cli`
        cmd_cases,
        cmd_certificates,
        cmd_imports,
        cmd_inbox,
        cmd_instance,
        cmd_run,
    )


_register()


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="attendance-courier", standalone_mode=True)
    except CourierError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
