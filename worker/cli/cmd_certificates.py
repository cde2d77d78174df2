"""`certificate`: show what one pupil's certificate for one week says (JSON or a table)."""

from __future__ import annotations

import json
from datetime import date

import click

from worker.attendance.calendar import monday_of
from worker.attendance.views import certificate_json
from worker.cli import Context, cli, pass_ctx


def _parse_week(_ctx, _param, value: str) -> date:
    try:
        return monday_of(date.fromisoformat(value))
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD") from exc


def _cell_text(cell: dict) -> str:
    if cell["place"] is None:
        return "not on roll"
    code = cell["main_school_code"] or "-"
    mark = cell["service_mark"] or "-"
    text = f"{cell['place']:<11} mark {mark:<2} record {code:<2}"
    if cell["pending"]:
        text += " PENDING"
    if cell["minutes_late"] is not None:
        text += f" ({cell['minutes_late']} min late)"
    if cell["reason"]:
        text += f" - {cell['reason']}"
    return text.rstrip()


def _table(content: dict) -> str:
    pupil, school, totals = content["pupil"], content["main_school"], content["totals"]
    lines = [
        f"Pupil {pupil['pupil_ref']} ({pupil['forename']} {pupil['surname']}), "
        f"registration {pupil['registration']}",
        f"Main School {school['urn']} {school['name']}",
        f"Week {content['week_start']} to {content['week_end']}, "
        f"due {content['certificate_due'] or 'never (no school day)'}",
    ]
    for day in content["days"]:
        state = "" if day["service_open"] else "  (Service closed)"
        lines.append(f"{day['weekday']} {day['date']}{state}")
        for session in ("AM", "PM"):
            lines.append(f"  {session} {_cell_text(day[session])}")
    percent = totals["attendance_percent"]
    lines.append(
        f"Offered {totals['sessions_offered']}, attended {totals['sessions_attended']}, "
        f"{'-' if percent is None else f'{percent:.1f}%'}, pending {totals['pending_sessions']}"
    )
    return "\n".join(lines)


@cli.command()
@click.option("--pupil", "pupil_ref", required=True, help="Arbor Student ID (pupil reference).")
@click.option(
    "--week",
    required=True,
    callback=_parse_week,
    help="Any date in the week, YYYY-MM-DD (the week is its Monday to Friday).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the certificate content as JSON.")
@pass_ctx
def certificate(ctx: Context, pupil_ref: str, week: date, as_json: bool) -> None:
    """Show one pupil's Attendance Certificate content for one week (nothing is sent)."""
    app = ctx.app()
    with app.sessions() as session:
        content = certificate_json(session, app.codebook, app.rules_dir, pupil_ref.strip(), week)
    if as_json:
        click.echo(json.dumps(content, indent=2, ensure_ascii=False))
    else:
        click.echo(_table(content))
