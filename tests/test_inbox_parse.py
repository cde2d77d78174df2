"""Parsing never raises for bad mail; the one error type is UnparseableMessage."""

from __future__ import annotations

import pytest

from worker.inbox.html_text import html_to_text
from worker.inbox.parse import UnparseableMessage, decode_bytes, decode_header_value, parse_message

BASE = b"From: A <a@school.example>\r\nTo: attendance@service.example\r\nSubject: Hi\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n"


def test_odd_message_id_is_kept_as_text() -> None:
    parsed = parse_message(BASE + b"Message-ID: <[83c4]@mail.school.example>\r\n\r\nHello\r\n")
    assert parsed.message_id == "<[83c4]@mail.school.example>" and not parsed.message_id_synthesised


def test_missing_message_id_is_synthesised_stably() -> None:
    raw = BASE + b"\r\nHello\r\n"
    first, second = parse_message(raw), parse_message(raw)
    assert first.message_id_synthesised and first.message_id == second.message_id
    assert first.message_id.startswith("<sha256-") and first.message_id.endswith("@synthesised.invalid>")
    assert parse_message(raw + b"x").message_id != first.message_id


@pytest.mark.parametrize("label", ["uft-8", "X-UNKNOWN", "utf8", "unknown-8bit"])
def test_bad_charset_labels_fall_back(label: str) -> None:
    defects: list[str] = []
    assert decode_bytes("caf\u00e9 \u2013 ok".encode(), label, defects) == "caf\u00e9 \u2013 ok"


def test_cp1252_under_a_utf8_label() -> None:
    defects: list[str] = []
    assert decode_bytes(b"she\x92s \x96 fine", "uft-8", defects) == "she\u2019s \u2013 fine"
    assert defects


def test_korean_outlook_alias() -> None:
    assert decode_bytes("안녕".encode("cp949"), "ks_c_5601-1987") == "안녕"


def test_rfc2047_split_inside_a_character() -> None:
    import base64

    data = "Caf\u00e9 [NS-1]".encode()
    a, b = base64.b64encode(data[:4]).decode(), base64.b64encode(data[4:]).decode()
    assert decode_header_value(f"=?UTF-8?B?{a}?=\r\n =?UTF-8?B?{b}?=") == "Caf\u00e9 [NS-1]"


def test_html_only_body_and_blockquote() -> None:
    raw = BASE + b"Content-Type: text/html; charset=utf-8\r\n\r\n<div>Seen today.</div><blockquote><p>Our email</p></blockquote>\r\n"
    parsed = parse_message(raw)
    assert parsed.body_source == "html"
    assert "Seen today." in parsed.text and "> Our email" in parsed.text


def test_empty_text_part_falls_back_to_html() -> None:
    raw = (
        BASE + b'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>Visited today</p>\r\n--b--\r\n"
    )
    assert parse_message(raw).text.strip() == "Visited today"


def test_attachments_are_listed_not_read() -> None:
    raw = (
        BASE + b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nSee form.\r\n"
        b'--b\r\nContent-Type: application/pdf; name="form.pdf"\r\nContent-Disposition: attachment; filename="form.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n"
    )
    parsed = parse_message(raw)
    assert [(a.name, a.content_type, a.size) for a in parsed.attachments] == [("form.pdf", "application/pdf", 9)]


def test_bare_lf_and_naive_date() -> None:
    parsed = parse_message(b"From: a@school.example\nDate: Mon, 23 Nov 2026 08:31:55 -0000\nSubject: x\n\nbody\n")
    assert parsed.date is not None and parsed.date.tzinfo is not None and parsed.text == "body\n"


@pytest.mark.parametrize("raw", [b"", b"   \r\n", b"just some words\nand more\n", b"\x00\x01\x02"])
def test_unparseable(raw: bytes) -> None:
    with pytest.raises(UnparseableMessage):
        parse_message(raw)


def test_not_bytes() -> None:
    with pytest.raises(UnparseableMessage):
        parse_message("text")  # type: ignore[arg-type]


def test_html_to_text_keeps_outlook_lines() -> None:
    text = html_to_text('<p class="MsoNormal">Hi<o:p></o:p></p><p class="MsoNormal"><o:p>&nbsp;</o:p></p><p class="MsoNormal">Seen.</p><hr><b>From:</b> x')
    assert text.splitlines()[:3] == ["Hi", "", "Seen."]
    assert text.splitlines()[3].startswith("____")
