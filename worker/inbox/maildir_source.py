"""Maildir source, the embedded default: a folder with tmp/, new/ and cur/ (Maildir++).

Mail arrives from a local delivery agent, or a person drops an `.eml` file straight into
`new/`. Processed messages move to the `.Processed` sub-folder, so the inbox view shows what
is still to do. Bytes are read unchanged.

The key of a properly delivered file (`<seconds>.<unique>.<host>`) is unique by the Maildir
rules, so it is the uid. A dropped file's name is not: people reuse names such as
`reply.eml`. Its uid is its name plus a hash of its bytes, so a second, different
`reply.eml` is a new message rather than one silently skipped as already done.
"""

from __future__ import annotations

import contextlib
import hashlib
import mailbox
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

from worker.errors import SourceError
from worker.inbox.source import RawMessage

UIDVALIDITY_FILE = "courier-uidvalidity"
PROCESSED = "Processed"
_DELIVERED = re.compile(r"^\d{9,}\.[^/]+$")  # "<unix seconds>.<unique>[.host]"


def _uid(key: str, raw: bytes) -> str:
    if _DELIVERED.match(key):
        return key
    return f"{key}#{hashlib.sha256(raw).hexdigest()[:16]}"


def _key(uid: str) -> str:
    return uid.rsplit("#", 1)[0] if "#" in uid and not _DELIVERED.match(uid) else uid


class MaildirSource:
    name = "maildir"

    def __init__(self, path: str | os.PathLike[str], mailbox_name: str = "INBOX") -> None:
        """Creates the Maildir (tmp/, new/, cur/) if missing, so people see where to drop mail."""
        self.path = Path(path)
        self.mailbox = mailbox_name
        try:
            # The stdlib creates tmp/ new/ cur/ only when the folder itself is missing.
            for sub in ("", "tmp", "new", "cur"):
                (self.path / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
            self._maildir = mailbox.Maildir(self.path, factory=None, create=False)
        except OSError as exc:
            raise SourceError(
                f"Cannot open the Maildir {self.path}: {exc.strerror or exc}", path=str(self.path)
            ) from exc
        try:
            self.uidvalidity = self._read_uidvalidity()
        except OSError as exc:
            raise SourceError(
                f"Cannot read or create {self.path / UIDVALIDITY_FILE}: {exc.strerror or exc}",
                path=str(self.path),
            ) from exc

    def _read_uidvalidity(self) -> int:
        """A number kept in the Maildir; written once, by whoever gets there first."""
        target = self.path / UIDVALIDITY_FILE
        if not target.exists():
            temp = self.path / f".{UIDVALIDITY_FILE}.{secrets.token_hex(4)}"
            temp.write_text(f"{secrets.randbelow(2**31 - 1) + 1}\n")
            try:
                os.link(temp, target)  # fails if another process created it meanwhile
            except FileExistsError:
                pass
            finally:
                temp.unlink()
        text = target.read_text().strip()
        try:
            value = int(text)
        except ValueError:
            raise SourceError(
                f"{target} should hold a number, not {text[:40]!r}", path=str(target)
            ) from None
        return value

    def fetch(self, already_done: set[tuple[str, int, str]] | None = None) -> Iterator[RawMessage]:
        """Messages in new/ and cur/, oldest first (by the file's modification time)."""
        done = already_done or set()
        found = []
        for subdir in ("new", "cur"):
            folder = self.path / subdir
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.startswith(".") or not entry.is_file():
                        continue
                    with contextlib.suppress(FileNotFoundError):
                        found.append((entry.stat().st_mtime_ns, entry.name, subdir))
        for _, filename, subdir in sorted(found):
            key = filename.split(self._maildir.colon, 1)[0]
            if _DELIVERED.match(key) and (self.mailbox, self.uidvalidity, key) in done:
                continue
            try:
                raw = (self.path / subdir / filename).read_bytes()
            except FileNotFoundError:  # moved away meanwhile
                continue
            uid = _uid(key, raw)
            if (self.mailbox, self.uidvalidity, uid) in done:
                continue
            yield RawMessage(self.mailbox, self.uidvalidity, uid, raw)

    def mark_processed(self, message: RawMessage) -> None:
        """Move the file, unchanged, into .Processed/cur/ (never over another file)."""
        if message.uidvalidity != self.uidvalidity or message.mailbox != self.mailbox:
            raise SourceError(
                f"Message {message.uid} is not from this Maildir ({self.path})",
                uid=message.uid,
            )
        source = self._find(message)
        if source is None:
            return  # already moved (marked twice, or by hand): nothing to do
        folder = self.path / f".{PROCESSED}"
        if not folder.is_dir():
            self._maildir.add_folder(PROCESSED)
        name = source.name if self._maildir.colon in source.name else source.name + ":2,"
        target = folder / "cur" / name
        stem, _, info = name.partition(self._maildir.colon)
        counter = 1
        while target.exists():
            target = folder / "cur" / f"{stem}.{counter}{self._maildir.colon}{info}"
            counter += 1
        try:
            os.rename(source, target)
        except OSError as exc:
            raise SourceError(
                f"Could not move {source} to {target}: {exc.strerror or exc}", uid=message.uid
            ) from exc

    def _find(self, message: RawMessage) -> Path | None:
        key = _key(message.uid)
        for subdir in ("new", "cur"):
            folder = self.path / subdir
            for entry in os.scandir(folder):
                if entry.name.split(self._maildir.colon, 1)[0] != key:
                    continue
                path = Path(entry.path)
                if key == message.uid or _uid(key, path.read_bytes()) == message.uid:
                    return path
        return None

    def close(self) -> None:
        return None
