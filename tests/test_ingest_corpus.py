"""Every file of the public corpus and every reply fixture through ingest (issue 5).

"All 241 files under ../shared/corpus go through ingest in a test: none crashes the worker;
each is stored or quarantined." Each file's exact bytes must end up in an InboxMessage row
(processed, dropped or quarantined), or be a duplicate of one (same Message-ID, same content),
and the mailbox must be empty afterwards. Skipped only where ../shared is absent.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.helpers_e2e import Instance, config_toml, demo_instance, parse_eml
from worker.inbox.ingest import content_sha, ingest
from worker.inbox.memory_source import MemorySource
from worker.inbox.source import RawMessage
from worker.outbox.memory import MemoryTransport

pytestmark = pytest.mark.fixtures


def files_under(folder: Path, pattern: str = "*") -> list[Path]:
    return sorted(p for p in folder.rglob(pattern) if p.is_file() and p.name != "README.md")


def instance_with(tmp_path: Path, files: list[Path]) -> tuple[Instance, MemorySource]:
    """A demo instance with NS-1 open, and a mailbox holding `files` (UID = position + 1)."""
    source = MemorySource([RawMessage("INBOX", 1, str(n), path.read_bytes()) for n, path in enumerate(files, 1)])
    inst = demo_instance(tmp_path / "home", transport=MemoryTransport(), source=source, config=config_toml(""))
    inst.tick("2027-01-25 07:00", only=["cases", "dispatch"])
    return inst, source


def check_nothing_lost(inst: Instance, source: MemorySource, files: list[Path]) -> Counter:
    """Every file's bytes are stored (or a same-content duplicate is); returns statuses."""
    items = inst.inbox()
    by_raw = {item.raw: item for item in items}
    by_id = {item.message_id: item for item in items}
    statuses: Counter = Counter()
    counted: set[int] = set()
    lost = []
    for path in files:
        raw = path.read_bytes()
        item = by_raw.get(raw)
        if item is not None and item.id in counted:
            statuses["duplicate"] += 1  # byte-identical to a file already counted
            continue
        if item is None:
            try:
                twin = by_id.get(str(parse_eml(raw)["Message-ID"]).strip())
            except Exception:  # noqa: BLE001 - a header the stdlib cannot read: no twin
                twin = None
            if twin is not None and twin.sha256 == content_sha(raw):
                statuses["duplicate"] += 1
                continue
            lost.append(str(path))
            continue
        counted.add(item.id)
        assert item.status in ("processed", "dropped", "quarantined"), (path, item.status)
        if item.status == "quarantined":
            assert item.error, path
        statuses[item.status] += 1
    assert not lost, f"{len(lost)} files are not in the inbox table: {lost[:5]}"
    assert source.messages == [], "messages were left in the mailbox"
    assert len(source.processed) == len(files)
    return statuses


def test_every_corpus_file_goes_through_ingest_and_none_is_lost(shared_dir: Path, tmp_path: Path) -> None:
    files = files_under(shared_dir / "corpus")
    assert len(files) == 241
    inst, source = instance_with(tmp_path, files)
    result = ingest(inst.app, inst.at("2027-01-25 08:00"))  # raises nothing
    assert result.processed + result.quarantined + result.dropped + result.duplicates == 241
    statuses = check_nothing_lost(inst, source, files)
    assert sum(statuses.values()) == 241
    assert len(inst.inbox()) == 241 - result.duplicates == 241 - statuses["duplicate"]
    assert statuses["quarantined"] == result.quarantined
    # The worker went on and a person is told.
    # a person is told, but a flood of junk gives one alert a day, not one per message
    assert result.quarantined > 1 and len(inst.outbox(kind="quarantine_alert")) == 1
    # Its bounces return mail we never sent: a person sees them in review, but nobody is told
    # "our email failed".
    bounces = [i for i in inst.inbox() if i.kind == "bounce"]
    assert bounces and all(i.review_state == "pending" for i in bounces)
    assert inst.outbox(kind="delivery_failed") == []
    # Nothing from the corpus belongs to a case: no case moved because of it.
    case = inst.cases()[0]
    assert case.state == "school_notified"
    assert [e.event for e in inst.events(case.id) if e.cause == "reply"] == []


def test_every_reply_fixture_goes_through_ingest_and_none_is_lost(shared_dir: Path, tmp_path: Path) -> None:
    files = files_under(shared_dir / "fixtures" / "replies", "*.eml")
    assert len(files) >= 25
    inst, source = instance_with(tmp_path, files)
    # Through the worker's own tick, as the service runs it.
    report = inst.tick("2027-01-25 08:00", only=["inbox"])
    assert report.ran["inbox"] is True
    statuses = check_nothing_lost(inst, source, files)
    assert statuses["processed"] + statuses["duplicate"] == len(files)  # these are all readable mail
