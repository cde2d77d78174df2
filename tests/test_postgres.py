"""The same worker on PostgreSQL: import, ticks, certificates, a case, a reply, and the outbox
claim race between two dispatchers on a real server database.

Needs PostgreSQL on 127.0.0.1:5432 with a database `test` that user `postgres` reaches without a
password (trust). Each test gets its own schema (`options=-csearch_path=<schema>` in the URL),
dropped afterwards. Skipped when nothing answers on 5432, unless COURIER_REQUIRE_POSTGRES=1
(CI), where that is a failure.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import date
from email.utils import make_msgid
from pathlib import Path

import pytest
from sqlalchemy import select, text

from tests.helpers_e2e import (
    CALDER_DSL,
    NS1_PUPIL,
    Instance,
    config_toml,
    demo_instance,
    reply_to,
)
from worker.clock import parse_local
from worker.db.models import CertificateVersion, OutboxMessage
from worker.db.session import make_engine, session_factory
from worker.inbox.ingest import ingest
from worker.inbox.memory_source import MemorySource
from worker.inbox.source import RawMessage
from worker.outbox.compose import Email
from worker.outbox.dispatch import dispatch_pending
from worker.outbox.memory import MemoryTransport
from worker.outbox.store import enqueue

pytestmark = pytest.mark.postgres

# Every sample file, the lessons export included (it once failed on PostgreSQL only: a lesson's
# change is recorded with its start time "09:00", longer than SQLite cared about).
SKIP: tuple[str, ...] = ()


@pytest.fixture
def inst(pg_url: str, tmp_path: Path) -> Iterator[Instance]:
    config = config_toml("", extra=f'[database]\nurl = "{pg_url}"\n')
    inst = demo_instance(tmp_path / "home", config=config, transport=MemoryTransport(), source=MemorySource(),
                         skip=SKIP)
    yield inst
    inst.app.engine.dispose()


def test_the_lessons_export_imports_on_postgres(pg_url: str, tmp_path: Path) -> None:
    config = config_toml("", extra=f'[database]\nurl = "{pg_url}"\n')
    inst = demo_instance(tmp_path / "home", config=config, import_data=False)
    try:
        inst.import_upfront()
    finally:
        inst.app.engine.dispose()


def test_the_schema_lives_in_its_own_postgres_schema(inst: Instance, pg_url: str) -> None:
    schema = pg_url.rsplit("%3D", 1)[1]
    assert inst.app.engine.dialect.name == "postgresql"
    with inst.app.engine.connect() as conn:
        tables = set(conn.execute(text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = :s"), {"s": schema}).scalars())
    assert {"alembic_version", "cases", "case_events", "inbox", "outbox", "pupils"} <= tables


def test_certificates_a_case_and_a_reply_on_postgres(inst: Instance) -> None:
    inst.tick("2027-01-22 15:45")  # certificates of the week of 18 Jan (Friday schools)
    certificates = inst.outbox(kind="certificate")
    assert certificates and all(row.state == "sent" for row in certificates)
    with inst.app.sessions() as session:
        versions = session.scalars(select(CertificateVersion)).all()
        assert versions and {v.week_start for v in versions} == {date(2027, 1, 18)}
    sent = inst.app.transport.sent
    assert any(b"certificate-52806-2027-01-18.pdf" in m.raw for m in sent)

    inst.tick("2027-01-25 07:00")  # pupil 61342 not seen for a week: NS-1 and its email
    case = inst.case_for(NS1_PUPIL)
    assert case.state == "school_notified"
    (row,) = inst.outbox(kind="not_seen", case_id=case.id)
    assert row.state == "sent"

    reply = reply_to(row, from_addr=CALDER_DSL, to_addr=inst.mailbox, client="gmail", at=inst.at("2027-01-25 13:52"),
                     body="Hi,\n\nPlease can the Service do the welfare check? The family have stopped answering.")
    inst.app.source.add(reply)
    inst.app.source.add(b"\x00\xff not a message at all")
    inst.tick("2027-01-25 15:45")
    case = inst.case(case.id)
    assert case.state == "check_requested"
    reply_item, junk = inst.inbox()
    assert (reply_item.kind, reply_item.case_id, reply_item.raw) == ("check_requested", case.id, reply)
    assert (junk.status, junk.raw) == ("quarantined", b"\x00\xff not a message at all")
    assert inst.outbox(kind="check_requested_alert")[0].state == "sent"
    # The same reply again under a new UIDVALIDITY: known by its Message-ID.
    inst.app.source.add(RawMessage("INBOX", 99, "1", reply))
    assert ingest(inst.app, inst.at("2027-01-25 16:00")).duplicates == 1
    assert len(inst.inbox()) == 2
    assert [e.event for e in inst.events(case.id)].count("check_requested") == 1


class RacingSessions:
    """A sessionmaker that holds its dispatcher at the first claim until the other is there too."""

    def __init__(self, factory, barrier: threading.Barrier) -> None:
        self.factory = factory
        self.barrier = barrier
        self.waited = False

    def __call__(self):
        return self.factory()

    def begin(self):
        if not self.waited:
            self.waited = True
            self.barrier.wait(timeout=30)
        return self.factory.begin()


def test_two_dispatchers_racing_for_the_same_rows_send_each_email_once(inst: Instance, pg_url: str) -> None:
    at = parse_local("2027-01-25 09:00")
    rows = 40
    with inst.app.sessions.begin() as session:
        for n in range(rows):
            email = Email(kind="test", from_addr=inst.mailbox, from_name="MNHES Attendance",
                          to=[f"office{n}@school.example"], subject=f"Test {n}", text="Hello\n",
                          message_id=make_msgid(domain="mnhes.example"), date=at)
            enqueue(session, email, idem_key=f"race:{n}", loop_header="X-MNHES-Courier", at=at)

    barrier = threading.Barrier(2)
    engines = [make_engine(pg_url) for _ in range(2)]  # two workers: two connection pools
    transports = [MemoryTransport(), MemoryTransport()]
    results: list = [None, None]
    errors: list[BaseException] = []

    def dispatcher(n: int) -> None:
        try:
            sessions = RacingSessions(session_factory(engines[n]), barrier)
            results[n] = dispatch_pending(sessions, transports[n], at)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=dispatcher, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for engine in engines:
        engine.dispose()
    assert not errors, errors

    sent = Counter(message.raw for transport in transports for message in transport.sent)
    assert len(sent) == rows and set(sent.values()) == {1}  # every email once, none twice
    first, second = results
    assert not set(first.sent) & set(second.sent)
    assert len(first.sent) + len(second.sent) == rows
    assert len(transports[0].sent) == len(first.sent) and len(transports[1].sent) == len(second.sent)
    with inst.app.sessions() as session:
        states = Counter((row.state, row.attempts) for row in session.scalars(select(OutboxMessage)))
    assert states == {("sent", 1): rows}
