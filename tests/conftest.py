"""Shared test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


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
