"""The Service's reply fixtures (../shared/fixtures/replies): every .eml gives its .json.

Compared with `--cases cases.json` semantics: kind, case_ref, check_date, outcome and
needs_review equal; next_steps null against non-null. Skipped only where ../shared is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import shared_path
from tests.helpers_inbox import classify_file, differences
from worker.cli import cli

SHARED = shared_path()
REPLIES = SHARED / "fixtures" / "replies" if SHARED else Path("/nonexistent")
FILES = sorted(REPLIES.glob("[0-9][0-9]-*.eml")) if SHARED else []
EXPECTED = [path for path in FILES if path.with_suffix(".json").exists()]


@pytest.fixture
def replies(fixtures_dir: Path) -> Path:
    return fixtures_dir / "replies"


def test_there_are_fixtures(replies: Path) -> None:
    assert len(sorted(replies.glob("[0-9][0-9]-*.json"))) >= 24


@pytest.mark.fixtures
@pytest.mark.parametrize("name", [p.name for p in EXPECTED] or ["none"])
def test_reply_fixture(replies: Path, name: str) -> None:
    path = replies / name
    expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    parsed, result = classify_file(path, replies / "cases.json")
    assert differences(parsed, result, expected) == [], (result.review_reasons, expected.get("notes"))


@pytest.mark.fixtures
def test_classify_command_over_all_fixtures(replies: Path, tmp_path: Path) -> None:
    """The CLI contract: one JSON object per line per file, a bad file reported, never a traceback."""
    files = sorted(replies.glob("[0-9][0-9]-*.eml"))
    missing = tmp_path / "missing.eml"
    junk = tmp_path / "junk.eml"
    junk.write_bytes(b"not an email at all\n")
    args = ["--home", str(tmp_path / "home"), "classify", *map(str, files), str(missing), str(junk)]
    result = CliRunner().invoke(cli, [*args, "--json", "--cases", str(replies / "cases.json")])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines() if line.strip()]
    assert len(lines) == len(files) + 2
    by_file = {Path(line["file"]).name: line for line in lines}
    for path in files:
        if not path.with_suffix(".json").exists():
            continue
        expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        got = by_file[path.name]
        assert list(got)[:7] == ["file", "kind", "case_ref", "check_date", "outcome", "next_steps", "needs_review"]
        for key in ("kind", "case_ref", "check_date", "outcome", "needs_review"):
            assert got[key] == expected[key], (path.name, key)
    assert by_file["missing.eml"]["kind"] == "unparseable" and by_file["missing.eml"]["error"]
    assert by_file["junk.eml"]["kind"] == "unparseable" and "headers" in by_file["junk.eml"]["error"]
