"""All public real-world corpus files (../shared/corpus) go through parse, strip and classify.

None may raise: each gives a Classification or a clean UnparseableMessage. Skipped only where
../shared is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import shared_path
from worker.inbox.classify import classify_message
from worker.inbox.directory import JsonCaseDirectory
from worker.inbox.html_text import html_to_text
from worker.inbox.parse import UnparseableMessage, parse_message
from worker.inbox.quotes import split_reply
from worker.inbox.reply_rules import default_rules

SHARED = shared_path()
CORPUS = SHARED / "corpus" if SHARED else Path("/nonexistent")
FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "README.md") if SHARED else []
EMPTY_CASES = {"service": {"mailbox": "attendance@service.example", "own_domain": "service.example"}, "cases": []}


@pytest.fixture
def corpus(shared_dir: Path) -> Path:
    return shared_dir / "corpus"


def test_corpus_size(corpus: Path) -> None:
    assert len([p for p in corpus.rglob("*") if p.is_file() and p.name != "README.md"]) == 241


@pytest.mark.fixtures
@pytest.mark.parametrize("path", FILES or [Path("none")], ids=[str(p.relative_to(CORPUS)) for p in FILES] or ["none"])
def test_corpus_file_never_raises(corpus: Path, path: Path) -> None:
    rules = default_rules()
    raw = path.read_bytes()
    try:
        parsed = parse_message(raw)
    except UnparseableMessage as exc:
        assert str(exc)  # a clean error the caller can quarantine with
        text = raw.decode("utf-8", "replace")
        text = html_to_text(text) if path.suffix == ".html" else text
        split_reply(text, rules.quotes)  # bodies-only samples still go through the quote stripper
        return
    reply = split_reply(parsed.text, rules.quotes, parsed.subject, parsed.from_name)
    assert isinstance(reply.text, str)
    result = classify_message(parsed, JsonCaseDirectory(EMPTY_CASES), rules)
    assert result.kind in {"check_requested", "check_done", "pupil_seen", "other", "auto_reply", "bounce", "loop"}
    assert result.case_ref is None and result.needs_review in (True, False)


@pytest.mark.fixtures
def test_known_corpus_shapes(corpus: Path) -> None:
    """Spot checks: the X-UNKNOWN charset and the DSNs of the mikel corpus."""
    rules = default_rules()
    parsed = parse_message((corpus / "mikel-mail/plain_emails/raw_email10.eml").read_bytes())
    assert any("unknown charset" in d.lower() for d in parsed.defects)
    report = parse_message((corpus / "mikel-mail/multipart_report_emails/report_530.eml").read_bytes())
    result = classify_message(report, JsonCaseDirectory(EMPTY_CASES), rules)
    assert result.kind == "bounce" and result.bounce_permanent is True and result.bounce_status == "5.3.0"
    delayed = parse_message((corpus / "mikel-mail/multipart_report_emails/report_422.eml").read_bytes())
    assert classify_message(delayed, JsonCaseDirectory(EMPTY_CASES), rules).bounce_permanent is False
