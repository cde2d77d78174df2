"""Test helper (tests/test_ingest_crash.py): the worker's inbox job, dying at the worst moment.

    python tests/crash_worker.py HOME 'YYYY-MM-DD HH:MM' N

Runs one `inbox` tick of the instance in HOME, as `run --once --job inbox --at ...` does, but
the process kills itself with SIGKILL when it is about to move the N-th message out of the
inbox: that message's row is committed, the move never happens. A crash can land anywhere;
this makes it land in the one window the exactly-once design has to get right.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from worker.app import App
from worker.clock import FixedClock, parse_local
from worker.inbox.imap_source import ImapSource
from worker.service import run_once


def main(argv: list[str]) -> None:
    home, at, fatal = Path(argv[1]), parse_local(argv[2]), int(argv[3])
    move = ImapSource.mark_processed
    moves = 0

    def move_or_die(self: ImapSource, message) -> None:
        nonlocal moves
        moves += 1
        if moves == fatal:
            os.kill(os.getpid(), signal.SIGKILL)
        move(self, message)

    ImapSource.mark_processed = move_or_die  # type: ignore[method-assign]
    app = App.from_home(home, clock=FixedClock(at))
    report = run_once(app, at, only=["inbox"])
    raise SystemExit(f"never killed: only {moves} moves ({report})")


if __name__ == "__main__":
    main(sys.argv)
