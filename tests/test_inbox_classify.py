"""Reading the sender's own words: kinds, outcomes, negations, risk words only outside quotes."""

from __future__ import annotations

from datetime import date

import pytest

from worker.inbox.classify import read_reply, sentences
from worker.inbox.quotes import split_reply
from worker.inbox.reply_rules import default_rules

RULES = default_rules()
TUE = date(2026, 11, 24)


def read(text: str):
    return read_reply(text, TUE, RULES.classify)


@pytest.mark.parametrize(
    ("text", "kind", "outcome"),
    [
        ("Home visit completed this morning, J.T. seen and well.", "check_done", "seen_safe"),
        ("We visited this afternoon but nobody answered.", "check_done", "not_seen"),
        ("I did a phone check with mum; I have not been able to see him.", "check_done", "not_seen"),
        ("We visited today. He was seen but we have some concerns about the house.", "check_done", "concerns"),
        ("We visited today. No concerns, he looked well.", "check_done", "seen_safe"),
        ("Visited today, she was seen. It does not meet the threshold for a referral but we are worried.", "check_done", "concerns"),
        ("We visited yesterday and made a referral to children's social care.", "check_done", "referred"),
        ("We carried out a home visit yesterday; the police were called.", "check_done", "referred"),
        ("The visit was carried out by our FLO on Monday.", "check_done", None),
        ("Could you arrange the home visit please?", "check_requested", None),
        ("We would like MNHES to carry out the check.", "check_requested", None),
        ("She was in school today and in lessons all morning.", "pupil_seen", None),
        ("He came in for a meeting this morning and stayed for lessons 3 and 4.", "pupil_seen", None),
        ("He will be back in school on Monday.", "other", None),
        ("We will do the home visit on Wednesday.", "other", None),
        ("We have not visited yet.", "other", None),
        ("Thank you, received. I have passed this on.", "other", None),
        ("We don't need MNHES to do the check.", "other", None),
    ],
)
def test_kind_and_outcome(text: str, kind: str, outcome: str | None) -> None:
    reading = read(text)
    assert (reading.kind, reading.outcome) == (kind, outcome)


def test_check_date_from_the_report_sentence() -> None:
    reading = read("I visited yesterday afternoon. Mrs H made a referral this morning.")
    assert reading.check_date == date(2026, 11, 23)


def test_negated_referral_is_not_referred_but_still_a_risk_word() -> None:
    reading = read("Seen at home today with concerns. We don't think it meets the threshold for a referral.")
    assert reading.outcome == "concerns"
    assert "referral" in reading.risks


@pytest.mark.parametrize(
    ("text", "risk"),
    [
        ("The police attended last night.", "police"),
        ("He was admitted to hospital on Saturday.", "hospital"),
        ("She has a small injury to her arm.", "injury"),
        ("We could not see him.", "could not see"),
        ("We have not yet been able to visit.", "not yet able"),
        ("Children's social care are involved.", "social care"),
    ],
)
def test_risk_words(text: str, risk: str) -> None:
    assert risk in read(text).risks


def test_service_name_is_not_a_hospital_risk() -> None:
    assert read("Thanks to the Hospital & Medical Needs Education Service team.").risks == ()


def test_risk_words_only_in_the_reply_part() -> None:
    body = (
        "Visited yesterday, seen at home. No concerns.\n\nGreg\n\n-----Original Message-----\n"
        "From: MNHES <attendance@service.example>\nSent: Friday, November 20, 2026 3:30 PM\n"
        "To: Greg <g@school.example>\nSubject: Pupil not seen [NS-1]\n\n"
        "If at immediate risk contact the police on 999 and make a referral to children's social care.\n"
    )
    reply = split_reply(body, RULES.quotes)
    assert "police" not in reply.text
    reading = read(reply.text)
    assert reading.risks == () and reading.outcome == "seen_safe"


def test_actions() -> None:
    assert "contact change" in read("Please update your contact details: our new DSL is T. H.").actions
    assert "question to the Service" in read("Which pupil is this about?").actions
    assert read("Could you arrange the home visit please?").actions == ()


def test_sentences_keep_initials() -> None:
    assert sentences("J.T. seen and well. Back Monday.") == ["J.T. seen and well.", "Back Monday."]


@pytest.mark.parametrize(
    "text",
    [
        "I rang mum this morning, she says he is fine and will be back on Monday.",
        "Spoke to dad on the phone; J.T. is poorly with flu and is off until next week.",
    ],
)
def test_parent_only_is_not_a_sighting(text: str) -> None:
    assert (read(text).kind, read(text).outcome) == ("check_done", "not_seen")


def test_video_call_with_the_child_is_a_sighting() -> None:
    assert read("I rang mum and spoke to him on a video call, he is fine.").outcome == "seen_safe"
