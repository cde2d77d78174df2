"""Running imports: files from the command line or the drop folder, or an email attachment.

Each file is one transaction and one ImportBatch. A file whose exact bytes were imported
before only fills in rows that are missing (say, rows rejected then for an unknown pupil):
dropping an old export in again must not undo marks a later export changed. Roster files load in dependency order
(calendar, schools, staff, pupils, timetables) whatever order they are given in, because a
pupil names a school and a timetable a pupil; attendance exports follow in the order given,
since a later export wins for the same session.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from worker.attendance.codes import CodeBook
from worker.attendance.marks import load_session_rules
from worker.clock import local_date
from worker.db.models import ImportBatch, RejectedRow
from worker.db.session import transaction
from worker.errors import ImportFileError
from worker.imports.columns import ATTENDANCE_KINDS, KIND_ORDER, load_column_rules
from worker.imports.defects import Defect, shorten
from worker.imports.parse import detect_kind, display_name, parse_file
from worker.imports.writer import load_known, write_parsed

log = logging.getLogger("worker.imports")

SOURCES = ("cli", "drop", "email")


@dataclass
class FileResult:
    """What happened to one file: counts, defects, or why it could not be read at all."""

    name: str  # as given (a path, an attachment name)
    kind: str | None = None
    source: str = "cli"
    error: str | None = None
    rows_read: int = 0
    imported: int = 0
    rejected: int = 0
    new: int = 0
    changed: int = 0
    removed: int = 0
    kept: int = 0  # rows of a repeated file not applied: a later import holds other values
    repeat_of: int | None = None  # the first import of the same bytes, if any
    defects: list[Defect] = field(default_factory=list)
    seconds: float = 0.0
    import_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def label(self) -> str:
        return display_name(self.name)

    def summary(self) -> str:
        if self.error is not None:
            return f"{self.label}: could not be read: {self.error}"
        removed = f", {self.removed} removed" if self.removed else ""
        return (
            f"{self.label}: {self.kind}: {self.rows_read} rows read, {self.imported} imported, "
            f"{self.new + self.changed} changed ({self.new} new){removed}, "
            f"{self.rejected} rejected{self._repeat()} [{self.seconds:.2f} s]"
        )

    def _repeat(self) -> str:
        if self.repeat_of is None:
            return ""
        kept = f", {self.kept} newer values kept" if self.kept else ""
        return f" (already imported as #{self.repeat_of}: nothing overwritten{kept})"


def import_bytes(
    name: str,
    data: bytes,
    session_factory: sessionmaker[Session],
    codebook: CodeBook,
    rules_dir: Path,
    at: datetime,
    *,
    kind: str | None = None,
    source: str = "email",
) -> FileResult:
    """Import one file's bytes in one transaction (an email attachment, a dropped file).

    A file the database refuses fails alone, with the reason (so it cannot hold up the other
    files, the drop folder or the inbox for ever); only a database that is away or busy
    (OperationalError) raises, so the job is retried on its next tick.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}")
    try:
        return _import_bytes(name, data, session_factory, codebook, rules_dir, at, kind=kind, source=source)
    except OperationalError:
        raise
    except Exception as exc:  # noqa: BLE001 - these bytes would fail the same way every time
        # The driver's own message only: SQLAlchemy's text holds the statement's parameters,
        # which may hold a pupil's name.
        reason = f"could not be stored ({type(exc).__name__}): {shorten(str(getattr(exc, 'orig', None) or exc), 300)}"
        log.error("import %s %s", display_name(name), reason)
        return FileResult(name=name, kind=kind, source=source, error=reason)


def _import_bytes(
    name: str,
    data: bytes,
    session_factory: sessionmaker[Session],
    codebook: CodeBook,
    rules_dir: Path,
    at: datetime,
    *,
    kind: str | None,
    source: str,
) -> FileResult:
    started = time.perf_counter()
    rules = load_column_rules(str(rules_dir))
    windows = load_session_rules(Path(rules_dir)).windows
    result = FileResult(name=name, kind=kind, source=source)
    with transaction(session_factory) as session:
        try:
            parsed = parse_file(
                name, data, rules=rules, codebook=codebook, known=load_known(session),
                windows=windows, kind=kind, today=local_date(at),
            )
        except ImportFileError as exc:
            result.error = str(exc)
            log.info("import %s failed: %s", display_name(name), exc)
            return result
        digest = hashlib.sha256(data).hexdigest()
        earlier = session.scalar(
            select(ImportBatch.id)
            .where(ImportBatch.sha256 == digest, ImportBatch.kind == parsed.kind)
            .order_by(ImportBatch.id)
            .limit(1)
        )
        batch = ImportBatch(
            file_name=name[:500],
            sha256=digest,
            kind=parsed.kind,
            source=source,
            imported_at=at,
            rows_total=parsed.rows_read,
            rows_ok=len(parsed.rows),
            rows_bad=len(parsed.rejected),
        )
        session.add(batch)
        session.flush()
        counts = write_parsed(session, parsed, batch, at, fill_only=earlier is not None)
        batch.rows_changed = counts.new + counts.changed
        already = _rejections_of(session, digest) if earlier is not None else set()
        session.add_all(
            RejectedRow(
                import_id=batch.id, line=defect.line, field=shorten(defect.field, 100) if defect.field else None,
                value=defect.value,
                defect=defect.defect, message=defect.text(), raw=rejected.raw,
            )
            for rejected in parsed.rejected
            for defect in rejected.defects
            if (defect.line, defect.defect, defect.field) not in already
        )
        session.flush()
        result.import_id = batch.id
    result.kind = parsed.kind
    result.rows_read = parsed.rows_read
    result.imported = len(parsed.rows)
    result.rejected = len(parsed.rejected)
    result.new, result.changed, result.removed = counts.new, counts.changed, counts.removed
    # A calendar replaces the stored one whole, repeated or not: no "nothing overwritten".
    result.kept, result.repeat_of = counts.kept, earlier if parsed.kind != "calendar" else None
    result.defects = parsed.defects
    result.seconds = time.perf_counter() - started
    log.info("import %s", result.summary())
    return result


def _rejections_of(session: Session, digest: str) -> set[tuple[int, str, str | None]]:
    """Defects already kept for review from an earlier import of the same bytes (not stored twice)."""
    query = (
        select(RejectedRow.line, RejectedRow.defect, RejectedRow.field)
        .join(ImportBatch, RejectedRow.import_id == ImportBatch.id)
        .where(ImportBatch.sha256 == digest)
    )
    return {tuple(row) for row in session.execute(query)}


def plan(
    files: Iterable[tuple[str, bytes | None, str | None]], rules_dir: Path, kind: str | None = None
) -> list[tuple[str, bytes | None, str | None]]:
    """(name, bytes or None, read error) in the order to import them, kinds detected.

    A file whose kind cannot be told keeps its place and fails on import with the reason.
    """
    rules = load_column_rules(str(rules_dir))
    ranked = []
    for position, (name, data, error) in enumerate(files):
        found = kind
        if data is not None and found is None:
            try:
                found = detect_kind(name, data, rules)
            except ImportFileError:
                found = None
        rank = len(KIND_ORDER) if found is None or found in ATTENDANCE_KINDS else KIND_ORDER.index(found)
        ranked.append((rank, position, (name, data, error)))
    ranked.sort(key=lambda item: (item[0], item[1]))
    return [item[2] for item in ranked]


def import_files(
    files: Iterable[tuple[str, bytes | None, str | None]],
    session_factory: sessionmaker[Session],
    codebook: CodeBook,
    rules_dir: Path,
    at: datetime,
    *,
    kind: str | None = None,
    source: str = "cli",
) -> list[FileResult]:
    results = []
    for name, data, error in plan(files, rules_dir, kind):
        if data is None:
            results.append(FileResult(name=name, kind=kind, source=source, error=error or "unreadable"))
            continue
        results.append(
            import_bytes(name, data, session_factory, codebook, rules_dir, at, kind=kind, source=source)
        )
    return results


def import_paths(
    paths: Iterable[Path | str],
    session_factory: sessionmaker[Session],
    codebook: CodeBook,
    rules_dir: Path,
    at: datetime,
    *,
    kind: str | None = None,
    source: str = "cli",
) -> list[FileResult]:
    """Import files from disk (the `import` command)."""
    return import_files(
        [read_path(Path(p)) for p in paths], session_factory, codebook, rules_dir, at,
        kind=kind, source=source,
    )


def read_path(path: Path) -> tuple[str, bytes | None, str | None]:
    try:
        return str(path), path.read_bytes(), None
    except OSError as exc:
        return str(path), None, exc.strerror or str(exc)
