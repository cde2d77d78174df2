"""Matching a reply to its case: threading ids (known or signed), subject token, body, bounce."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from worker.config import Settings
from worker.db.models import Base, Case, OutboxMessage, Pupil, School, StaffMember
from worker.inbox.directory import CaseTableError, DbCaseDirectory, JsonCaseDirectory
from worker.inbox.match import match_case
from worker.inbox.parse import parse_message
from worker.outbox.message_ids import make_message_id

SECRET = b"s3cret"
CASES = Path(__file__).parent / "data" / "replies" / "cases.json"
AT = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


def mail(*headers: str, subject: str = "Re: hello", body: str = "Seen today.") -> bytes:
    head = ["From: a@ysgol-y-bryn.example", "To: attendance@service.example", f"Subject: {subject}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n" + body + "\r\n").encode()


@pytest.fixture
def directory() -> JsonCaseDirectory:
    return JsonCaseDirectory.from_file(CASES)


def test_known_id_in_in_reply_to(directory: JsonCaseDirectory) -> None:
    found = match_case(parse_message(mail("In-Reply-To: <ns.2001.2026w47.000007d1@service.example>")), directory)
    assert (found.case_ref, found.how, found.ours) == ("NS-2001", "in_reply_to", True)


def test_signed_id_verifies_and_forged_does_not(directory: JsonCaseDirectory) -> None:
    good = make_message_id("ns", "2005", AT, SECRET, "service.example")
    found = match_case(parse_message(mail(f"References: <other@x.example> {good}")), directory, SECRET)
    assert (found.case_ref, found.how) == ("NS-2005", "references")
    forged = good.replace(good.split(".")[3][:8], "deadbeef")
    assert match_case(parse_message(mail(f"In-Reply-To: {forged}")), directory, SECRET).case is None


def test_subject_token_then_body(directory: JsonCaseDirectory) -> None:
    assert match_case(parse_message(mail(subject="RE: [NS-2003] visit")), directory).how == "subject"
    found = match_case(parse_message(mail(body="About NS-2004 please.")), directory)
    assert (found.case_ref, found.how) == ("NS-2004", "body")
    assert match_case(parse_message(mail(body="About NS-9999.")), directory).case is None


def test_conflicting_references_are_reported(directory: JsonCaseDirectory) -> None:
    found = match_case(parse_message(mail("In-Reply-To: <ns.2001.2026w47.000007d1@service.example>", subject="Re: [NS-2002]")), directory)
    assert found.case_ref == "NS-2001" and found.conflicts == ("NS-2002",)


def test_bad_case_table(tmp_path: Path) -> None:
    bad = tmp_path / "cases.json"
    bad.write_text("{not json")
    with pytest.raises(CaseTableError, match="line 1"):
        JsonCaseDirectory.from_file(bad)
    bad.write_text(json.dumps({"cases": [{"case_ref": "X-1"}]}))
    with pytest.raises(CaseTableError):
        JsonCaseDirectory.from_file(bad)


def test_db_directory() -> None:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(School(urn="1", name="Test School", dsl_emails="dsl@t.example", attendance_emails="office@t.example", domains="t.example"))
        session.add(Pupil(pupil_ref="P1", forename="Jane", surname="Test", school_urn="1"))
        session.add(StaffMember(role="dsl", name="H", email="H.Marsh@service.example"))
        session.add(Case(id=7, pupil_ref="P1", state="emailed", counting_from=date(2026, 11, 13), threshold_reached_on=date(2026, 11, 20), email_due=date(2026, 11, 20), opened_at=AT))
        session.add(OutboxMessage(idem_key="k", kind="not_seen", case_id=7, from_addr="attendance@service.example", to_addrs=[], cc_addrs=[], subject="s", message_id="<ns.7.2026w47.abcdef01@service.example>", created_at=AT))
        session.commit()
        directory = DbCaseDirectory(session, Settings())
        case = directory.by_message_id("<NS.7.2026w47.abcdef01@service.example>")
        assert case is not None and case.case_ref == "NS-7" and case.pupil_initials == "J.T."
        assert case.role_of("dsl@t.example") == "DSL" and case.verifies("someone@t.example")
        assert not case.verifies("someone@gmail.example")
        assert directory.by_ref("NS-8") is None and directory.is_known_message_id("<ns.7.2026w47.abcdef01@service.example>")
        assert "h.marsh@service.example" in directory.service_addresses()
        assert directory.service_domains() == frozenset({"service.example"})
        found = match_case(parse_message(mail("In-Reply-To: <ns.7.2026w47.abcdef01@service.example>")), directory)
        assert found.case_ref == "NS-7"
