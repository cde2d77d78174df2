"""Shared test fixtures."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
# PostgreSQL on 127.0.0.1:5432, database `test`, user `postgres` without a password (trust).
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_REQUIRE_ENV = "COURIER_REQUIRE_POSTGRES"


def shared_path() -> Path | None:
    """`../shared` beside the checkout: always there in CI, absent on a user's machine."""
    return SHARED if (SHARED / "fixtures").is_dir() else None


@pytest.fixture
def shared_dir() -> Path:
    path = shared_path()
    if path is None:
        pytest.skip("../shared is not here (it only exists in CI)")
    return path


@pytest.fixture
def fixtures_dir(shared_dir: Path) -> Path:
    return shared_dir / "fixtures"


def _pg_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh schema in database `test`, as a URL whose connections use it; dropped after.

    Skipped when nothing answers on 5432, unless COURIER_REQUIRE_POSTGRES=1 (CI): then a failure.
    """
    if not _pg_reachable():
        if os.environ.get(PG_REQUIRE_ENV) == "1":
            pytest.fail(f"{PG_REQUIRE_ENV}=1 but nothing answers on 127.0.0.1:5432", pytrace=False)
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    schema = f"courier_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_SERVER)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_SERVER}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
