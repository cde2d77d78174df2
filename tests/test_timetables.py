"""Timetable change notices: first timetable is a silent baseline, a later change is emailed."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy
from pathlib import Path

from worker.app import App
from worker.clock import FixedClock
from worker.config import load_settings
from worker.demo.generate import generate_sample
from worker.imports.runner import import_paths
from worker.instance import init_instance
from worker.outbox.memory import MemoryTransport
from worker.service import run_once


def _app(tmp_path: Path) -> tuple[App, MemoryTransport, object]:
    home = tmp_path / "home"
    init_instance(home)
    transport = MemoryTransport()
    app = App(settings=load_settings(home), clock=FixedClock(), transport_override=transport)
    info = generate_sample(tmp_path / "sample")
    roster = [str(s.path) for s in info.imports if s.kind in ("calendar", "schools", "staff", "pupils", "timetables")]
    import_paths(roster, app.sessions, app.codebook, app.rules_dir, datetime(2027, 1, 4, 6, tzinfo=UTC))
    return app, transport, info


def _subjects(transport: MemoryTransport) -> list[str]:
    return [email.message_from_bytes(raw, policy=policy.default)["subject"] for _s, _r, raw in [(m.sender, m.recipients, m.raw) for m in transport.sent]]


def test_first_timetable_is_a_baseline_and_a_change_is_sent_once(tmp_path: Path) -> None:
    app, transport, info = _app(tmp_path)
    at = datetime(2027, 1, 4, 7, tzinfo=UTC)
    run_once(app, at, only=["timetables", "dispatch"])
    assert not [s for s in _subjects(transport) if s.startswith("Timetable change")]

    timetables = next(s.path for s in info.imports if s.kind == "timetables")
    lines = timetables.read_text(encoding="utf-8").splitlines()
    header, first = lines[0], lines[1].split(",")
    pupil = first[0]
    new_row = ",".join([pupil, first[1], first[2], "none" if first[3] != "none" else "service", "18/01/2027", ""])
    changed = tmp_path / "timetables_change.csv"
    changed.write_text("\n".join([header, new_row]) + "\n", encoding="utf-8")
    results = import_paths([str(changed)], app.sessions, app.codebook, app.rules_dir, at)
    assert results[0].ok and results[0].rejected == 0

    run_once(app, datetime(2027, 1, 5, 7, tzinfo=UTC), only=["timetables", "dispatch"])
    run_once(app, datetime(2027, 1, 5, 9, tzinfo=UTC), only=["timetables", "dispatch"])
    notices = [m.raw for m in transport.sent
               if email.message_from_bytes(m.raw, policy=policy.default)["subject"].startswith("Timetable change")]
    assert len(notices) == 1
    message = email.message_from_bytes(notices[0], policy=policy.default)
    assert message["subject"] == f"Timetable change from 18/01/2027 [TT-{pupil}]"
    body = message.get_body(("plain",)).get_content()
    assert "18/01/2027" in body
    assert message["to"] and all(addr.endswith(".example") for addr in message["to"].split(","))
