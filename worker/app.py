"""Wiring: the one place that turns settings into concrete objects (engine, transports, clock).

Everything else receives what it needs as arguments, so tests can hand in fakes
(`App(settings, clock=FixedClock(...), transport=MemoryTransport(), source=MemorySource(...))`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from worker.attendance.codes import CodeBook, codebook_at
from worker.clock import Clock, SystemClock
from worker.config import Settings, load_settings, message_id_secret
from worker.db.session import make_engine, migrate, session_factory

log = logging.getLogger("worker")


@dataclass
class App:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    transport_override: Any = None
    source_override: Any = None

    @classmethod
    def from_home(cls, home: Path | None, clock: Clock | None = None) -> App:
        return cls(settings=load_settings(home), clock=clock or SystemClock())

    @cached_property
    def engine(self) -> Engine:
        if self.settings.database_url.startswith("sqlite"):
            self.settings.home.mkdir(parents=True, exist_ok=True)
        engine = make_engine(self.settings.database_url)
        migrate(engine)
        return engine

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return session_factory(self.engine)

    @cached_property
    def codebook(self) -> CodeBook:
        return codebook_at(str(self.settings.rules_dir))

    @cached_property
    def session_rules(self):
        from worker.attendance.marks import load_session_rules

        return load_session_rules(self.settings.rules_dir)

    @cached_property
    def code_rules(self):
        from worker.attendance.school_code import load_school_code_rules

        return load_school_code_rules(self.settings.rules_dir)

    @cached_property
    def transport(self):
        """Outgoing mail: .eml files in the outbox folder by default, SMTP when configured."""
        if self.transport_override is not None:
            return self.transport_override
        settings = self.settings
        if settings.outgoing.transport == "smtp":
            from worker.outbox.smtp import SmtpTransport

            s = settings.outgoing.smtp
            return SmtpTransport(
                host=s.host, port=s.port, security=s.security, username=s.username,
                password=s.password, timeout=s.timeout_seconds,
            )
        from worker.outbox.directory import DirectoryTransport

        return DirectoryTransport(settings.outbox_dir)

    @cached_property
    def source(self):
        """Incoming mail: the Maildir in the instance folder by default, IMAP when configured."""
        if self.source_override is not None:
            return self.source_override
        settings = self.settings
        if settings.incoming.source == "imap":
            from worker.inbox.imap_source import ImapSource

            s = settings.incoming.imap
            return ImapSource(
                host=s.host, port=s.port, security=s.security, username=s.username,
                password=s.password, mailbox=s.mailbox, processed_folder=s.processed_folder,
                timeout=s.timeout_seconds,
            )
        if settings.incoming.source == "maildir":
            from worker.inbox.maildir_source import MaildirSource

            return MaildirSource(settings.inbox_dir)
        return None

    @property
    def secret(self) -> bytes:
        return message_id_secret(self.settings)

    @property
    def rules_dir(self) -> Path:
        return self.settings.rules_dir

    @property
    def templates_dir(self) -> Path:
        return self.settings.templates_dir
