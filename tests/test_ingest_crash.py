"""Exactly once against Dovecot on loopback, with the worker killed mid-ingest (issue 5).

"Against Dovecot on loopback: 200 replies delivered, the worker killed (SIGKILL) in the middle
of ingesting them and restarted, then the mailbox deleted and recreated with the remaining
messages (a new UIDVALIDITY): every reply processed exactly once, none lost, none twice."

The worker is the real command (`python -m worker --home H run --once --job inbox --at ...`)
in its own process, reading the Service mailbox over IMAP as configured in config.toml. The
test watches the database and sends SIGKILL once enough replies are recorded: a first time,
then again after the restart; then it deletes INBOX and creates it again (new UIDVALIDITY, UIDs
from 1 again) holding what was still unprocessed plus copies of some replies already
processed, and runs the worker to the end. Half of the replies report a welfare check on one
of the two open cases, so their case events are counted too.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.helpers_e2e import (
    CALDER_DSL,
    NS1_PUPIL,
    NS2_PUPIL,
    TRUST_DSL,
    Instance,
    config_toml,
    demo_instance,
    fetch_all,
    folder_status,
    lmtp_deliver,
    new_tag,
    parse_eml,
    recreate_inbox,
    reply_to,
    simple_mail,
)
from worker.clock import parse_local
from worker.inbox.ingest import content_sha

if TYPE_CHECKING:
    from tests.mailstack import MailStack

pytestmark = pytest.mark.mailstack
pytest_plugins = ["tests.mailstack"]

REPLIES = 200
AT = "2027-01-27 12:00"
REPO = Path(__file__).resolve().parents[1]


def make_replies(inst: Instance) -> tuple[list[bytes], dict[str, int]]:
    """200 replies: even ones report a check on NS-x (alternating cases), odd ones match nothing.

    Returns the messages and, for each matching reply's Message-ID, its case id. Four odd
    ones have no Message-ID at all (ingest makes one from the content).
    """
    rows = [inst.outbox(kind="not_seen", case_id=inst.case_for(ref).id)[0] for ref in (NS1_PUPIL, NS2_PUPIL)]
    senders = {NS1_PUPIL: inst.addr(CALDER_DSL), NS2_PUPIL: inst.addr(TRUST_DSL)}
    messages: list[bytes] = []
    matching: dict[str, int] = {}
    base = parse_local("2027-01-27 08:00")
    for n in range(REPLIES):
        at = base + timedelta(minutes=n)
        if n % 2 == 0:
            row = rows[(n // 2) % 2]
            raw = reply_to(row, from_addr=senders[row.pupil_ref], to_addr=inst.mailbox, at=at,
                           body=f"Hello,\n\nHome visit done this morning, seen and well.\n\nKind regards\nVisit log {n}")
            matching[str(parse_eml(raw)["Message-ID"])] = row.case_id
        else:
            raw = simple_mail(from_addr=f"parent{n}@home-{n}.example", to_addr=inst.mailbox, at=at,
                              subject=f"Question {n}", body=f"Question number {n} about the timetable.",
                              message_id="" if n in (1, 51, 101, 151) else None).as_bytes()
        messages.append(raw)
    return messages, matching


def inbox_count(db: Path) -> int:
    with sqlite3.connect(db, timeout=30) as conn:
        return conn.execute("SELECT count(*) FROM inbox").fetchone()[0]


def run_worker(home: Path, *, kill_at: int | None = None, die_at_move: int | None = None,
               timeout: float = 120) -> tuple[int, int]:
    """The worker's `run --once --job inbox` in its own process; SIGKILL once `kill_at` rows exist.

    With `die_at_move`, tests/crash_worker.py instead, which kills itself just before moving
    that message. Returns (exit code, rows recorded when it ended).
    """
    db = home / "courier.db"
    if die_at_move is None:
        command = [sys.executable, "-m", "worker", "--home", str(home), "run", "--once", "--job", "inbox", "--at", AT]
    else:
        command = [sys.executable, str(REPO / "tests" / "crash_worker.py"), str(home), AT, str(die_at_move)]
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None:
            if kill_at is not None and inbox_count(db) >= kill_at:
                os.kill(proc.pid, signal.SIGKILL)
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"the worker did not finish in {timeout}s")
            time.sleep(0.005)  # polling the database, not waiting for time to pass
        output = proc.communicate(timeout=30)[0].decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if kill_at is None and die_at_move is None:
        assert proc.returncode == 0, output
    return proc.returncode, inbox_count(db)


def test_two_hundred_replies_with_the_worker_killed_and_the_mailbox_rebuilt_are_each_processed_once(
    mailstack: MailStack, tmp_path: Path,
) -> None:
    tag = new_tag()
    service = f"attendance@mnhes.{tag}.example"
    home = tmp_path / "home"
    inst = demo_instance(home, tag=tag, config=config_toml(
        tag, imap=("127.0.0.1", mailstack.imap_port, service, mailstack.password)))
    inst.tick("2027-01-27 07:00", only=["cases", "dispatch"])  # NS-1 and NS-2 open; emails out
    case_ids = {inst.case_for(NS1_PUPIL).id, inst.case_for(NS2_PUPIL).id}
    messages, matching = make_replies(inst)
    assert len(set(messages)) == REPLIES and len(matching) == REPLIES // 2
    lmtp_deliver(mailstack, messages, service)
    first_validity, held = folder_status(mailstack, service)
    assert held == REPLIES

    # 1. Killed after recording the 40th reply, before moving it out of the inbox.
    code, recorded = run_worker(home, die_at_move=40)
    assert (code, recorded) == (-signal.SIGKILL, 40)
    fortieth = str(parse_eml(messages[39])["Message-ID"])
    assert fortieth in {item.message_id for item in inst.inbox()}
    assert fortieth in {str(parse_eml(raw)["Message-ID"]) for raw in fetch_all(mailstack, service)}
    # 2. Restarted: the 40th is moved, not processed again; then killed at a random moment.
    code, recorded_2 = run_worker(home, kill_at=recorded + 60)
    assert code == -signal.SIGKILL and recorded + 60 <= recorded_2 < REPLIES, (code, recorded_2)
    assert fortieth not in {str(parse_eml(raw)["Message-ID"]) for raw in fetch_all(mailstack, service)}

    # 3. The mailbox is deleted and created again with what it still held, plus copies of a
    #    few replies that were processed already (as a restore from another copy would).
    rest = fetch_all(mailstack, service)
    done_copies = fetch_all(mailstack, service, "Processed")[:25]
    assert rest and done_copies
    recreate_inbox(mailstack, service, done_copies + rest)
    second_validity, held = folder_status(mailstack, service)
    assert second_validity != first_validity and held == len(done_copies) + len(rest)

    # 4. The worker runs to the end.
    code, final = run_worker(home)
    assert final == REPLIES

    items = inst.inbox()
    assert len(items) == REPLIES
    assert all(item.status == "processed" for item in items), Counter(i.status for i in items)
    stored = Counter(content_sha(item.raw) for item in items)
    assert len(stored) == REPLIES and max(stored.values()) == 1  # none twice
    ids = Counter(item.message_id for item in items)
    assert max(ids.values()) == 1
    assert set(matching) <= set(ids)  # each reply's own Message-ID, once
    synthesised = [i for i in items if i.message_id.endswith("@synthesised.invalid>")]
    assert len(synthesised) == 4
    bodies = {raw.split(b"\r\n\r\n", 1)[1] for raw in messages}
    assert all(item.raw.split(b"\r\n\r\n", 1)[1] in bodies for item in items)  # none lost or mixed up
    assert len({item.raw.split(b"\r\n\r\n", 1)[1] for item in items}) == REPLIES  # every one
    by_validity = Counter(item.uidvalidity for item in items)
    assert set(by_validity) == {first_validity, second_validity}
    assert by_validity[second_validity] <= len(rest)

    # Each matching reply moved its case exactly once; the others touched no case.
    events = [e for e in inst.events() if e.cause == "reply"]
    per_reply = Counter(e.evidence for e in events)
    assert {mid: per_reply[mid] for mid in matching} == dict.fromkeys(matching, 1)
    assert set(per_reply) == set(matching)
    assert {e.event for e in events} == {"check_reported"}
    assert {e.case_id for e in events} == case_ids
    assert all(i.review_state == "pending" for i in items if i.message_id not in matching)

    # And the server: nothing left in the inbox; everything in Processed.
    assert folder_status(mailstack, service) == (second_validity, 0)
    assert len(fetch_all(mailstack, service, "Processed")) == REPLIES + len(done_copies)
