"""The project's own golden replies: each tests/data/replies/*.eml has its expected .json beside it.

Synthetic (.example) mail for what the Service's fixtures do not cover: Welsh, German, French and
Polish quote headers, an odd Message-ID, a subject split inside a character, NDRs, a delay DSN,
a bare-LF file, charset X-UNKNOWN, TNEF with a body, our loop header, DMARC failure.
Add a pair and it is collected here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers_inbox import classify_file, differences

DATA = Path(__file__).parent / "data" / "replies"
CASES = DATA / "cases.json"
FILES = sorted(DATA.glob("*.eml"))


def test_corpus_is_there() -> None:
    assert len(FILES) >= 16
    assert all(path.with_suffix(".json").exists() for path in FILES)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_golden_reply(path: Path) -> None:
    expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    parsed, result = classify_file(path, CASES)
    assert differences(parsed, result, expected) == [], result.review_reasons


def test_bare_lf_file_really_has_no_crlf() -> None:
    raw = (DATA / "g10-bare-lf-visit-concerns.eml").read_bytes()
    assert b"\r\n" not in raw and raw.count(b"\n") > 10


def test_split_subject_really_splits_a_character() -> None:
    raw = (DATA / "g06-rfc2047-split-character-subject.eml").read_bytes()
    assert raw.count(b"=?UTF-8?B?") == 2
