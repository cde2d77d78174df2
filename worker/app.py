"""Wiring: the one place that turns settings into concrete objects (engine, transports, clock).

Everything else receives what it needs as arguments, so tests can hand in fakes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

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

    @property
    def secret(self) -> bytes:
        return message_id_secret(self.settings)

    @property
    def rules_dir(self) -> Path:
        return self.settings.rules_dir

    @property
    def templates_dir(self) -> Path:
        return self.settings.templates_dir
