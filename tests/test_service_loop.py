"""The long-running worker: `attendance-courier run` ticks until SIGTERM, then finishes and exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from worker.config import load_settings
from worker.db.models import JobRun
from worker.db.session import make_engine, session_factory
from worker.instance import init_instance


def _runs(home: Path) -> int:
    engine = make_engine(load_settings(home).database_url)
    try:
        with session_factory(engine)() as session:
            return sum(job.runs or 0 for job in session.scalars(select(JobRun).where(JobRun.job == "dispatch")))
    finally:
        engine.dispose()


def _wait_for(predicate, deadline_seconds: float) -> bool:
    """Poll for an event with a deadline (waiting for the process, not sleeping for time)."""
    end = time.monotonic() + deadline_seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_run_ticks_until_sigterm_then_exits_cleanly(tmp_path: Path) -> None:
    home = tmp_path / "home"
    init_instance(home)
    env = {**os.environ, "ATTENDANCE_COURIER_SCHEDULE_TICK_SECONDS": "1"}
    process = subprocess.Popen([sys.executable, "-m", "worker", "--home", str(home), "run"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        assert _wait_for(lambda: (home / "courier.db").exists() and _runs(home) >= 2, 60), \
            "the worker did not tick twice"
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err.decode()
    assert b"finishing the current step, then stopping" in err
    assert b"Traceback" not in err
