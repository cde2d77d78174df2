"""The drop folder: files put there (by a person or a scheduled Arbor report) are imported
by the worker, then moved to done/ or failed/. Nothing is ever deleted, so a person can
always see what came in and re-drop a file once the reason it failed is fixed.
"""

from __future__ import annotations

import logging
import shutil
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from worker.attendance.codes import CodeBook
from worker.imports.runner import FileResult, import_files, read_path

log = logging.getLogger("worker.imports")

# Names a drop folder holds while a file is still being copied in.
_UNFINISHED = (".part", ".partial", ".tmp", ".crdownload", "~")
# A file modified this recently may still be being written: it waits for the next tick.
SETTLE = timedelta(seconds=10)


def pending_drops(drop_dir: Path, at: datetime | None = None) -> list[Path]:
    """Files waiting in the drop folder, oldest name first.

    Skipped: hidden files, names of unfinished copies, and (given `at`) files modified less
    than SETTLE before `at`. A file dated after `at` (a test or demo clock) is not skipped.
    """
    if not drop_dir.is_dir():
        return []
    waiting = []
    for path in sorted(drop_dir.iterdir(), key=lambda p: p.name):
        if not path.is_file() or path.name.startswith(".") or path.name.endswith(_UNFINISHED):
            continue
        if at is not None:
            age = at - datetime.fromtimestamp(path.stat().st_mtime, tz=at.tzinfo)
            if timedelta(0) <= age < SETTLE:
                continue
        waiting.append(path)
    return waiting


def import_drop_folder(
    session_factory: sessionmaker[Session],
    codebook: CodeBook,
    rules_dir: Path,
    drop_dir: Path,
    at: datetime,
) -> list[FileResult]:
    """Import every file in the drop folder, then move each to done/ or failed/ (never delete)."""
    drop_dir = Path(drop_dir)
    waiting = pending_drops(drop_dir, at)
    if not waiting:
        return []
    results = import_files(
        [read_path(p) for p in waiting], session_factory, codebook, rules_dir, at, source="drop"
    )
    for result in results:
        for defect in result.defects:
            log.warning("drop folder: %s", defect.text())
        log.info("drop folder: %s", result.summary())
        target = drop_dir / ("done" if result.ok else "failed")
        try:
            _move(Path(result.name), target)
        except OSError as exc:  # the import stands; a person moves the file
            log.error("drop folder: could not move %s to %s: %s", result.label, target, exc)
    return results


def _move(path: Path, folder: Path) -> Path:
    """Move without overwriting: a second file of the same name gets .1, .2, ... before its suffix."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    n = 0
    while target.exists():
        n += 1
        target = folder / f"{path.stem}.{n}{path.suffix}"
    shutil.move(str(path), str(target))
    return target
