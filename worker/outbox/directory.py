"""Directory transport, the embedded default: each message becomes one `.eml` file in a folder.

Nothing leaves the machine; a person (or a test) reads the folder. The name comes from the
message's own Date and Message-ID, so sending the same message again replaces its file
instead of adding a second one, and `ls` lists messages in the order they were dated.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
from datetime import UTC
from email.parser import BytesHeaderParser
from email.utils import parsedate_to_datetime
from pathlib import Path

from worker.errors import TransportError

_UNSAFE = re.compile(r"[^A-Za-z0-9._@+=-]+")
_SLUG_MAX = 120


def _headers(raw: bytes) -> tuple[str, str]:
    """(Date, Message-ID) as written in the message, '' when absent."""
    parsed = BytesHeaderParser().parsebytes(raw)
    date = str(parsed.get("Date", "") or "").strip()
    message_id = str(parsed.get("Message-ID", "") or "").strip()
    return date, message_id


def _stamp(date: str) -> str:
    """The Date header in UTC as YYYYmmdd-HHMMSS (UTC keeps the order across clock changes)."""
    try:
        when = parsedate_to_datetime(date)
    except (TypeError, ValueError, IndexError):
        return "00000000-000000"
    if when.tzinfo is None:  # "-0000": the sender did not know its zone; take it as UTC
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y%m%d-%H%M%S")


def _slug(message_id: str, raw: bytes) -> str:
    """A filename-safe form of the Message-ID; a short hash keeps altered ids distinct."""
    text = message_id.strip().strip("<>").strip()
    if not text:
        return "sha256-" + hashlib.sha256(raw).hexdigest()[:16]
    slug = _UNSAFE.sub("-", text).strip(".-")[:_SLUG_MAX]
    if slug != text:
        slug = f"{slug}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"
    return slug


def eml_name(raw: bytes) -> str:
    """`<YYYYmmdd-HHMMSS>-<slug of Message-ID>.eml` for this message."""
    date, message_id = _headers(raw)
    return f"{_stamp(date)}-{_slug(message_id, raw)}.eml"


class DirectoryTransport:
    """Writes each message, bytes unchanged, atomically into `folder` as an `.eml` file."""

    name = "directory"

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def send(self, raw: bytes, sender: str, recipients: list[str]) -> dict[str, str]:
        """Write the file; the envelope (sender, recipients) is not kept: the headers say it."""
        if not recipients:
            raise TransportError("No recipients", permanent=True, stage="envelope")
        target = self.folder / eml_name(raw)
        # Hidden and not ending in .eml, so a listing of *.eml never shows a half-written file.
        temp = self.folder / f".{target.stem}.{secrets.token_hex(4)}.tmp"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(temp, "xb") as handle:
                handle.write(raw)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)
            _fsync_dir(self.folder)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise TransportError(
                f"Could not write {target}: {exc.strerror or exc}",
                permanent=False, stage="write", path=str(target),
            ) from exc  # fmt: skip
        return {}

    def close(self) -> None:
        return None

    def path_for(self, raw: bytes) -> Path:
        """Where `send` puts (or put) this message."""
        return self.folder / eml_name(raw)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
