"""Raw replies as a Main School's mail client would send them, for the demo's inbox Maildir.

Real replies quote our email below the answer: Outlook with a `From:/Sent:/To:/Subject:` block
under a line of underscores (no `>`), Gmail with an `On ... wrote:` line and `>` quoting, in a
multipart/alternative with an HTML copy. The reader must cope with both, so the demo sends both.
Deterministic: the same arguments give the same bytes (Message-ID and boundary are hashes).
"""

from __future__ import annotations

import base64
import hashlib
import html
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from worker.clock import LONDON

CLIENTS = ("outlook", "gmail")
SUBJECT = "Pupil not seen for one week [{case_ref}]"
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")

DEFAULT_QUOTED = """Dear colleagues,

A pupil on roll at your school who attends the Hospital & Medical Needs
Education Service (MNHES reference {case_ref}) has not been seen by the
Service for one week.

Please reply to this email to tell us either that the school has carried
out a home welfare check (the date, who carried it out, the outcome and any
next steps), or that you would like MNHES to carry out the check.

Kind regards,

MNHES Attendance Team
Hospital & Medical Needs Education Service

Reference: {case_ref} (please keep it in the subject line when you reply)"""


def build_reply(
    *,
    original_message_id: str,
    case_ref: str,
    from_addr: str,
    to_addr: str,
    body: str,
    date: datetime,
    subject: str | None = None,
    client: str = "outlook",
    from_name: str | None = None,
    to_name: str = "MNHES Attendance",
    original_date: datetime | None = None,
    original_text: str | None = None,
) -> bytes:
    """A raw reply (CRLF) to our email `original_message_id` about case `case_ref`.

    `original_text` is the plain text of our email to quote (a short not-seen email naming
    the case when not given); `original_date` when we sent it (default: 4 hours earlier).
    """
    if client not in CLIENTS:
        raise ValueError(f"client must be one of {CLIENTS}, not {client!r}")
    if date.tzinfo is None:
        raise ValueError("date must be an aware datetime")
    msg_id = original_message_id.strip()
    if not msg_id.startswith("<"):
        msg_id = f"<{msg_id}>"
    sent = original_date or (date - timedelta(hours=4))
    quoted = (original_text or DEFAULT_QUOTED.format(case_ref=case_ref)).replace("\r\n", "\n")
    text = body.replace("\r\n", "\n").rstrip("\n")
    sender = formataddr((from_name, from_addr)) if from_name else from_addr
    service = formataddr((to_name, to_addr)) if to_name else to_addr
    original_subject = SUBJECT.format(case_ref=case_ref)
    digest = hashlib.sha256(
        "\x00".join([msg_id, case_ref, from_addr, to_addr, body, date.isoformat(), client]).encode()
    ).hexdigest()

    msg = EmailMessage(policy=policy.SMTP)
    msg["Return-Path"] = f"<{from_addr}>"
    msg["Delivered-To"] = to_addr
    if client == "outlook":
        msg["From"] = sender
        msg["To"] = service
        msg["Subject"] = subject if subject is not None else f"RE: {original_subject}"
        msg["Thread-Topic"] = original_subject
        msg["Thread-Index"] = base64.b64encode(bytes.fromhex(digest[:44])).decode()
        msg["Date"] = format_datetime(date)
        server = f"DB8PR06MB{int(digest[:6], 16) % 10000:04d}"
        msg["Message-ID"] = f"<{server}{digest[6:34].upper()}@{server}.eurprd06.prod.outlook.example>"
        msg["References"] = msg_id
        msg["In-Reply-To"] = msg_id
        msg["Accept-Language"] = "en-GB, en-US"
        block = "\n".join([
            "________________________________",
            f"From: {service}",
            f"Sent: {_outlook_date(sent)}",
            f"To: {sender}",
            f"Subject: {original_subject}",
        ])
        msg.set_content(f"{text}\n\n{block}\n\n{quoted}\n", subtype="plain", charset="utf-8",
                        cte="quoted-printable")
        msg["Content-Language"] = "en-GB"  # after set_content, which clears Content-* headers
    else:
        msg["MIME-Version"] = "1.0"
        msg["References"] = msg_id
        msg["In-Reply-To"] = msg_id
        msg["From"] = sender
        msg["Date"] = format_datetime(date)
        msg["Message-ID"] = f"<CA{digest[:38]}@mail.gmail.example>"
        msg["Subject"] = subject if subject is not None else f"Re: {original_subject}"
        msg["To"] = service
        attribution = f"On {_gmail_date(sent)}, {service} wrote:"
        quoted_lines = "\n".join(f"> {line}" if line else ">" for line in quoted.split("\n"))
        msg.set_content(f"{text}\n\n{attribution}\n\n{quoted_lines}\n", subtype="plain",
                        charset="utf-8", cte="quoted-printable")
        msg.add_alternative(_gmail_html(text, attribution, quoted), subtype="html", charset="utf-8",
                            cte="quoted-printable")
        msg.set_boundary("000000000000" + digest[:16])
        for part in msg.iter_parts():
            del part["MIME-Version"]  # only the top level carries it
    return msg.as_bytes(policy=policy.SMTP)


def _outlook_date(at: datetime) -> str:
    """'Wednesday, 27 January 2027 07:00' in London time, as en-GB Outlook shows it."""
    local = at.astimezone(LONDON)
    return f"{DAY_NAMES[local.weekday()]}, {local.day} {MONTH_NAMES[local.month - 1]} {local.year} {local:%H:%M}"


def _gmail_date(at: datetime) -> str:
    """'Wed, 27 Jan 2027 at 07:00' in London time, as Gmail's attribution line has it."""
    local = at.astimezone(LONDON)
    return (f"{DAY_NAMES[local.weekday()][:3]}, {local.day} {MONTH_NAMES[local.month - 1][:3]} "
            f"{local.year} at {local:%H:%M}")


def _gmail_html(text: str, attribution: str, quoted: str) -> str:
    answer = "".join(f"<div>{html.escape(line) or '<br>'}</div>" for line in text.split("\n"))
    paragraphs = "".join(
        f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in quoted.split("\n\n") if p
    )
    return (
        f'<div dir="ltr">{answer}</div><br><div class="gmail_quote gmail_quote_container">'
        f'<div dir="ltr" class="gmail_attr">{html.escape(attribution)}<br></div>'
        '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid '
        f'rgb(204,204,204);padding-left:1ex">{paragraphs}</blockquote></div>\n'
    )
