"""Reading one typed value (a column type of rules/columns.yaml) from its text.

Each reader returns the value or raises BadValue with a defect id and a reason naming the
value. Dates are DD/MM/YYYY as Arbor writes them: an ISO date in an export is reported rather
than guessed at, because a reformatted file may hold other silent changes.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from worker.attendance.codes import CodeBook, UnknownCode
from worker.imports.columns import ColumnSpec
from worker.imports.defects import BadValue
from worker.imports.upn import upn_problem

SESSIONS = ("AM", "PM")

_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::00)?$")
_EMAIL = re.compile(r"^[^@\s;,<>]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
_UPN_SHAPE = re.compile(r"^[A-Z][0-9]{11}[0-9A-Z]$")
_DOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$")


def parse_date(text: str) -> date:
    match = _DMY.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        try:
            return date(year, month, day)
        except ValueError:
            raise BadValue("impossible_date", f"{text!r} is not a real date", text) from None
    if _ISO.match(text):
        raise BadValue(
            "iso_date", f"{text!r} is written YYYY-MM-DD; the export writes dates DD/MM/YYYY", text
        )
    raise BadValue("bad_date", f"{text!r} is not a date DD/MM/YYYY", text)


def parse_time(text: str) -> str:
    match = _TIME.match(text)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour < 24 and minute < 60:
            return f"{hour:02d}:{minute:02d}"
    raise BadValue("bad_time", f"{text!r} is not a time HH:MM", text)


def parse_session(text: str) -> str:
    value = text.upper()
    if value in SESSIONS:
        return value
    raise BadValue("unknown_roll_call", f"{text!r} is not a roll call (AM or PM)", text)


def parse_minutes(text: str) -> int:
    if text.isascii() and text.isdigit():
        return int(text)
    raise BadValue("bad_minutes_late", f"{text!r} is not a whole number of minutes", text)


def parse_code(text: str, codebook: CodeBook) -> str:
    try:
        return codebook.normalise(text)
    except UnknownCode as exc:
        raise BadValue("unknown_code", str(exc), text) from None


def parse_upn(text: str) -> str:
    value = text.upper()
    problem = upn_problem(value)
    if problem:
        raise BadValue("bad_upn", f"not a valid UPN: {problem}", text)
    return value


def parse_email(text: str) -> str:
    if _EMAIL.match(text):
        return text
    raise BadValue("bad_email", f"{text!r} is not an email address", text)


def parse_emails(text: str) -> str:
    """';'-separated addresses -> the same, tidied ('a@x.example;b@y.example')."""
    parts = [part.strip() for part in text.split(";") if part.strip()]
    for part in parts:
        if "," in part and not _EMAIL.match(part):
            raise BadValue("bad_email", f"{part!r} is not an email address (separate two addresses with ';')", text)
    return ";".join(parse_email(part) for part in parts)


# Public mail services: anyone can have an address there, so as a school's domain one would
# let any stranger's reply count as the school's. Register the person's address instead.
PUBLIC_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.co.uk", "live.com",
    "live.co.uk", "msn.com", "yahoo.com", "yahoo.co.uk", "ymail.com", "icloud.com", "me.com",
    "mac.com", "aol.com", "aol.co.uk", "btinternet.com", "sky.com", "talktalk.net",
    "virginmedia.com", "ntlworld.com", "protonmail.com", "proton.me", "gmx.com", "gmx.co.uk",
    "mail.com", "zoho.com", "yandex.com",
})


def parse_domains(text: str) -> str:
    out = []
    for part in text.split(";"):
        domain = part.strip().lower().lstrip("@")
        if not domain:
            continue
        if not _DOMAIN.match(domain):
            raise BadValue("bad_domain", f"{part.strip()!r} is not an email domain", text)
        if domain in PUBLIC_MAIL_DOMAINS:
            raise BadValue(
                "public_domain",
                f"{domain} is a public mail service: anyone can send from it, so it cannot stand "
                "for a school; put the person's own address in attendance_email or dsl_email",
                text,
            )
        out.append(domain)
    return ";".join(out)


def parse_choice(text: str, col: ColumnSpec) -> object:
    choices = col.choices or {}
    key = text.casefold()
    if key in choices:
        return choices[key]
    allowed = ", ".join(col.choice_labels)
    raise BadValue("unknown_value", f"{text!r} is not one of {allowed}", text)


def parse_value(col: ColumnSpec, text: str, codebook: CodeBook) -> object:
    """The typed value of `text` in column `col`; None for an allowed blank."""
    text = text.strip()
    if not text:
        if col.type == "code":
            raise BadValue("blank_mark", "the mark is blank", "")
        if col.blank_ok:
            return None
        raise BadValue("missing_value", "the value is blank", "")
    match col.type:
        case "text" | "ref":
            return text
        case "name":
            return unicodedata.normalize("NFC", text)
        case "upn":
            return parse_upn(text)
        case "date":
            return parse_date(text)
        case "time":
            return parse_time(text)
        case "session":
            return parse_session(text)
        case "code":
            return parse_code(text, codebook)
        case "minutes":
            return parse_minutes(text)
        case "email":
            return parse_email(text)
        case "emails":
            return parse_emails(text)
        case "domains":
            return parse_domains(text)
        case "choice":
            return parse_choice(text, col)
    raise AssertionError(f"unhandled column type {col.type}")


def plausible(col: ColumnSpec, text: str, codebook: CodeBook) -> bool:
    """Could `text` belong in `col`? Used to tell which column a short or long row lost or gained."""
    text = text.strip()
    if not text:
        return col.blank_ok or col.type == "code"
    if col.type in ("text", "name"):
        return col.type == "text" or any(ch.isalpha() for ch in text)
    if col.type == "ref":
        return " " not in text
    if col.type == "code":
        return len(text) <= 4 and " " not in text
    if col.type == "upn":
        return bool(_UPN_SHAPE.match(text.upper()))
    try:
        parse_value(col, text, codebook)
    except BadValue as exc:
        # a real date that is impossible or ISO is still a date in the right place
        return exc.defect in ("impossible_date", "iso_date")
    return True


# --- what any cell may hold --------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAK = re.compile(r"[\r\n\x85\u2028\u2029]")
# Columns that may run over several lines (a quoted field with line breaks): only notes, which
# go into certificate bodies. A line break elsewhere would end up in an email header (a
# staff name is a From display name) or a one-line listing.
MULTILINE_KEYS = frozenset({"note"})
# The widths of the database columns these keys are stored in (worker/db/models.py; a test
# keeps the two in step). Longer text would make PostgreSQL refuse the whole file.
MAX_LENGTH = {
    "urn": 16, "main_school_urn": 16, "pupil_ref": 32, "name": 200, "forename": 200,
    "surname": 200, "register": 200, "email": 320, "key_tutor_email": 320,
}


def cell_problem(col: ColumnSpec, text: str) -> BadValue | None:
    """What makes a cell unfit to store, whatever its type: control characters (a NUL byte),
    a line break outside a note, or more text than its database column holds."""
    control = _CONTROL.search(text)
    if control:
        code = f"0x{ord(control.group()):02X}"
        return BadValue("control_character",
                        f"the value holds the control character {code}; was the file damaged?", code)
    if col.key not in MULTILINE_KEYS and _LINE_BREAK.search(text.strip()):
        return BadValue("line_break", "the value runs over more than one line; only a note may",
                        " ".join(text.split()))
    limit = MAX_LENGTH.get(col.key)
    if limit is not None and len(text.strip()) > limit:
        return BadValue("too_long", f"the value has {len(text.strip())} characters; at most {limit} fit",
                        text.strip()[:limit] + "...")
    return None
