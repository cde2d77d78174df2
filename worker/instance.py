"""Instance folders: config.toml, SQLite database, outbox/, inbox/ (Maildir), drop/."""

from __future__ import annotations

import secrets
from pathlib import Path

from worker.config import CONFIG_TEMPLATE, load_settings


def init_instance(home: Path) -> list[str]:
    """Create what is missing; never overwrite. Returns what was created, for the user."""
    created: list[str] = []
    home.mkdir(parents=True, exist_ok=True)
    config = home / "config.toml"
    if not config.exists():
        config.write_text(CONFIG_TEMPLATE.format(secret=secrets.token_hex(32)), encoding="utf-8")
        config.chmod(0o600)
        created.append(str(config))
    settings = load_settings(home)
    for folder in (
        settings.outbox_dir,
        settings.drop_dir,
        settings.inbox_dir / "new",
        settings.inbox_dir / "cur",
        settings.inbox_dir / "tmp",
    ):
        if not folder.exists():
            folder.mkdir(parents=True)
            created.append(str(folder))
    return created
