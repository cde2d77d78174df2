"""Quote and signature stripping works on structure, in several languages."""

from __future__ import annotations

import pytest

from worker.inbox.quotes import split_reply
from worker.inbox.reply_rules import default_rules

Q = default_rules().quotes
ORIGINAL = "Dear colleagues,\nIf at risk, contact the police.\nReference: NS-1"


@pytest.mark.parametrize(
    "header",
    [
        "From: MNHES <attendance@service.example>\nSent: Friday, 20 November 2026 15:30\nTo: X <x@s.example>\nSubject: Pupil",
        "________________________________\nFrom: MNHES <attendance@service.example>\nSent: Friday\nTo: X\nSubject: Pupil",
        "-----Original Message-----\nFrom: MNHES\nSent: Friday\nTo: X\nSubject: Pupil",
        "-----Ursprüngliche Nachricht-----\nVon: MNHES\nGesendet: Freitag\nAn: X\nBetreff: Pupil",
        "De : MNHES\nEnvoyé : vendredi\nÀ : X\nObjet : Pupil",
        "Od: MNHES\nWysłano: piątek\nDo: X\nTemat: Pupil",
        "Oddi wrth: MNHES\nAnfonwyd: Dydd Gwener\nAt: X\nPwnc: Pupil",
    ],
)
def test_outlook_header_blocks(header: str) -> None:
    reply = split_reply(f"Seen today, all fine.\n\n{header}\n\n{ORIGINAL}\n", Q)
    assert reply.text == "Seen today, all fine."
    assert "police" in reply.quoted


@pytest.mark.parametrize(
    "attribution",
    [
        "On Fri, 20 Nov 2026 at 15:30, MNHES <attendance@service.example> wrote:",
        "On Fri, 20 Nov 2026 at 15:30, MNHES Attendance <\nattendance@service.example> wrote:",
        "Am Fr., 20. Nov. 2026 um 15:30 Uhr schrieb MNHES <attendance@service.example>:",
        "Le ven. 20 nov. 2026 à 15:30, MNHES <attendance@service.example> a écrit :",
        "W dniu 20.11.2026 o 15:30, MNHES <attendance@service.example> pisze:",
        "Ar Gwen, 20 Tach 2026 am 15:30, MNHES <attendance@service.example>\nysgrifennodd:",
    ],
)
def test_attributions_and_gt_quotes(attribution: str) -> None:
    quoted = "\n".join("> " + line for line in ORIGINAL.split("\n"))
    reply = split_reply(f"Seen today, all fine.\n\n{attribution}\n\n{quoted}\n", Q)
    assert reply.text == "Seen today, all fine."


def test_inline_answers_are_kept() -> None:
    body = "Answers below.\n\nOn Fri, 20 Nov 2026, MNHES <a@service.example> wrote:\n> - the date of the check\n\nDone on 25/11, seen.\n\n> - or ask MNHES to do it\n\nNo, not needed.\n\n> Kind regards\n"
    reply = split_reply(body, Q)
    assert reply.inline_answers
    assert "Done on 25/11, seen." in reply.text and "No, not needed." in reply.text
    assert "Kind regards" not in reply.text


def test_forward_with_no_words_of_its_own() -> None:
    body = "\n________________________________\nFrom: MNHES <a@service.example>\nSent: Friday\nTo: X\nSubject: Pupil\n\n" + ORIGINAL
    reply = split_reply(body, Q, subject="FW: Pupil not seen [NS-1]")
    assert reply.is_forward and reply.text == "" and "police" in reply.quoted


def test_gmail_forward_marker() -> None:
    reply = split_reply("FYI\n\n---------- Forwarded message ---------\nFrom: X\nDate: Fri\nSubject: Y\n\nBody", Q)
    assert reply.is_forward and reply.text == "FYI"


def test_signatures_and_footers() -> None:
    assert split_reply("Seen today.\n\nKind regards\nJo\nAttendance Officer", Q).text == "Seen today."
    assert split_reply("Seen today.\n-- \nJo Bloggs\nDSL", Q).text == "Seen today."
    assert split_reply("Seen today.\n\nSent from my iPhone", Q).text == "Seen today."
    assert split_reply("Thanks for this. Could you update the list?\n\nThanks\nJo", Q).text.startswith("Thanks for this.")


def test_disclaimer_is_dropped() -> None:
    text = "Seen today.\n\nThis email and any attachments are confidential. If you are not the intended recipient tell the police.\n"
    assert split_reply(text, Q).text == "Seen today."


def test_from_in_the_body_is_not_a_header() -> None:
    text = "The data comes From: our database, not From: external sources.\n\nThis is the message."
    assert split_reply(text, Q).text == text
