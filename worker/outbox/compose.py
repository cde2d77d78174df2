"""Composing emails: pure, from named templates to bytes. Sending is elsewhere.

Templates live in templates/emails/ as `<name>.subject.j2`, `<name>.txt.j2` and optionally
`<name>.html.j2` (as healthchecks does), so the Service can change wording without code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, getaddresses
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from worker.clock import local

LOOP_VALUE = "attendance-courier"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime: str = "application/pdf"


@dataclass
class Email:
    """An email ready to be rendered to bytes. No pupil name may go into `subject`."""

    kind: str
    from_addr: str
    from_name: str
    to: list[str]
    subject: str
    text: str
    message_id: str
    date: datetime
    cc: list[str] = field(default_factory=list)
    reply_to: str | None = None
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)

    def recipients(self) -> list[str]:
        seen: list[str] = []
        for address in [*self.to, *self.cc]:
            if address.lower() not in (s.lower() for s in seen):
                seen.append(address)
        return seen


@lru_cache(maxsize=4)
def _environment(templates_dir: str) -> tuple[Environment, Environment]:
    loader = FileSystemLoader(str(Path(templates_dir) / "emails"))
    text_env = Environment(loader=loader, autoescape=False, undefined=StrictUndefined, keep_trailing_newline=True)
    html_env = Environment(loader=loader, autoescape=select_autoescape(["html", "j2"]), undefined=StrictUndefined)
    for env in (text_env, html_env):
        env.filters["ukdate"] = lambda d: d.strftime("%d/%m/%Y") if d else ""
        env.filters["longdate"] = lambda d: f"{d:%A} {d.day} {d:%B %Y}" if d else ""
    return text_env, html_env


def render_parts(templates_dir: Path, name: str, context: dict[str, Any]) -> tuple[str, str, str | None]:
    """(subject, text, html or None) of the named template."""
    text_env, html_env = _environment(str(templates_dir))
    subject = text_env.get_template(f"{name}.subject.j2").render(**context).strip()
    text = text_env.get_template(f"{name}.txt.j2").render(**context)
    html_path = Path(templates_dir) / "emails" / f"{name}.html.j2"
    html = html_env.get_template(f"{name}.html.j2").render(**context) if html_path.exists() else None
    return " ".join(subject.split()), text, html


def to_bytes(email: Email, loop_header: str) -> bytes:
    """RFC 5322 bytes, CRLF. Everything we send says it is automatic, so auto-replies stay quiet."""
    msg = EmailMessage()
    name = " ".join((email.from_name or "").split())  # a name with a line break must not break the header
    msg["From"] = formataddr((name, email.from_addr)) if name else email.from_addr
    msg["To"] = ", ".join(email.to)
    if email.cc:
        msg["Cc"] = ", ".join(email.cc)
    if email.reply_to:
        msg["Reply-To"] = email.reply_to
    msg["Subject"] = email.subject
    msg["Date"] = format_datetime(local(email.date))
    msg["Message-ID"] = email.message_id
    if email.in_reply_to:
        msg["In-Reply-To"] = email.in_reply_to
    if email.references:
        msg["References"] = " ".join(email.references)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    msg[loop_header] = LOOP_VALUE
    for name, value in email.headers.items():
        msg[name] = value
    msg.set_content(email.text, cte="quoted-printable")
    if email.html:
        msg.add_alternative(email.html, subtype="html", cte="quoted-printable")
    for attachment in email.attachments:
        maintype, subtype = attachment.mime.split("/", 1)
        msg.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename)
    # No folding under 998 characters: some readers keep the space of a fold at the start of a subject.
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n", max_line_length=998))


def address_of(text: str) -> str:
    """The bare address of 'Name <a@b>' or 'a@b', lower-cased.

    Anything that is not one address comes back whole (lower-cased), so it matches nothing
    registered and the guard refuses it.
    """
    found = [addr for _, addr in getaddresses([text or ""]) if addr]
    if len(found) == 1 and "@" in found[0]:
        return found[0].lower()
    return (text or "").strip().lower()
