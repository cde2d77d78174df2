"""Raw email bytes -> ParsedMessage. Pure, and tolerant of the mail schools really send.

Headers are read from the raw items and decoded here (never through `policy.default`'s
lazy header objects, which raise on odd Message-IDs such as `<[83c4]@host>`); adjacent RFC 2047
words are joined before decoding, so a character split across two words survives. Bodies are
decoded with a charset fallback (the label's likely intent, UTF-8, Windows-1252, Latin-1) and each
fallback is recorded as a defect. HTML-only or empty text parts fall back to the HTML as text;
winmail.dat is opened with tnefparse. Attachments are listed, never interpreted.

The only exception that leaves `parse_message` is `UnparseableMessage`: the caller quarantines
the message with its text.
"""

from __future__ import annotations

import codecs
import difflib
import email
import email.header
import email.policy
import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message

from worker.errors import CourierError
from worker.inbox.html_text import html_to_text

MAX_DEPTH = 25
COMMON_CHARSETS = [
    "utf-8", "us-ascii", "iso-8859-1", "iso-8859-2", "iso-8859-15", "windows-1250",
    "windows-1252", "utf-16", "koi8-r", "iso-2022-jp", "shift_jis", "euc-jp", "euc-kr",
    "gb2312", "gbk", "big5",
]  # fmt: skip
# Labels seen in the wild whose meaning is known, or that mean "no idea" (None).
CHARSET_ALIASES: dict[str, str | None] = {
    "uft-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-bom": "utf-8-sig",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "x-unknown": None,
    "unknown": None,
    "unknown-8bit": None,
    "x-user-defined": None,
    "none": None,
    "default": None,
    "iso-8859-1": "cp1252",  # Windows mail labels cp1252 text as Latin-1; cp1252 is a superset
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "utf-8",  # 8-bit bytes under an ASCII label are usually UTF-8
    "ascii": "utf-8",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "windows-874": "cp874",
}


class UnparseableMessage(CourierError):
    """The message could not be parsed as an email; it is quarantined with this error."""


@dataclass(frozen=True)
class Attachment:
    name: str | None
    content_type: str
    size: int
    inline: bool = False


@dataclass(frozen=True)
class DeliveryStatus:
    """One recipient block of an RFC 3464 report (or what an NDR's text says)."""

    recipient: str
    action: str
    status: str
    diagnostic: str = ""


@dataclass
class ParsedMessage:
    message_id: str
    message_id_synthesised: bool
    sha256: str
    subject: str
    from_addr: str
    from_name: str
    to: list[str]
    cc: list[str]
    date: datetime | None
    in_reply_to: list[str]
    references: list[str]
    headers: list[tuple[str, str]]
    text: str
    html: str | None
    body_source: str  # plain | html | tnef | none
    content_type: str
    attachments: list[Attachment] = field(default_factory=list)
    report_type: str | None = None
    delivery_status: list[DeliveryStatus] = field(default_factory=list)
    returned_headers: list[tuple[str, str]] = field(default_factory=list)
    returned_text: str = ""
    defects: list[str] = field(default_factory=list)
    # Why the From header does not name exactly one sender (two From headers, two addresses,
    # a '<' trick), or None. Such a sender is never taken as verified: which address a
    # person's mail client shows, and which one DMARC checked, cannot be told.
    sender_problem: str | None = None

    def header(self, name: str) -> str | None:
        """The first value of a header (decoded), or None."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    def header_all(self, name: str) -> list[str]:
        lowered = name.lower()
        return [value for key, value in self.headers if key.lower() == lowered]

    def returned_header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.returned_headers:
            if key.lower() == lowered:
                return value
        return None

    @property
    def sender_domain(self) -> str:
        return self.from_addr.rpartition("@")[2]


# --- text decoding --------------------------------------------------------------------------


def _codec(label: str | None) -> tuple[str | None, str | None]:
    """(codec name to try first, defect text) for a charset label."""
    if not label:
        return None, None
    norm = label.strip().strip("\"'").lower()
    if norm in CHARSET_ALIASES:
        target = CHARSET_ALIASES[norm]
        if target is None:
            return None, f"unknown charset {label!r}"
        return target, None
    try:
        return codecs.lookup(norm).name, None
    except LookupError:
        close = difflib.get_close_matches(norm, COMMON_CHARSETS, n=1, cutoff=0.7)
        if close:
            return close[0], f"unknown charset {label!r}, read as {close[0]}"
        return None, f"unknown charset {label!r}"


def decode_bytes(data: bytes, label: str | None, defects: list[str] | None = None) -> str:
    """Text of `data` under `label`, falling back to UTF-8, cp1252, then Latin-1 (never fails)."""
    first, defect = _codec(label)
    tried: list[str] = []
    for name in (first, "utf-8", "cp1252"):
        if not name or name in tried:
            continue
        tried.append(name)
        try:
            text = data.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
        if defects is not None:
            if defect:
                defects.append(defect)
            elif first and name != first:
                defects.append(f"body is not {label}; read as {name}")
        return text
    if defects is not None:
        defects.append(f"undecodable bytes under {label!r}; read as latin-1")
    return data.decode("latin-1")


def _fix_surrogates(value: str) -> str:
    """8-bit bytes in raw headers arrive as surrogate escapes: read them as UTF-8 or cp1252."""
    if not re.search(r"[\udc80-\udcff]", value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    return decode_bytes(data, "utf-8")


def decode_header_value(raw: str) -> str:
    """Unfold and decode a raw header value (RFC 2047), tolerating bad charsets and splits."""
    value = re.sub(r"\r?\n(?=[ \t])", "", _fix_surrogates(str(raw)))
    value = value.replace("\r", "").replace("\n", " ")
    if "=?" not in value:
        return value.strip()
    try:
        parts = email.header.decode_header(value)
    except Exception:  # noqa: BLE001 - malformed encoded words: keep the raw text
        return value.strip()
    pieces: list[tuple[str, str | None]] = []
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            text = decode_bytes(chunk, charset) if charset else chunk.decode("raw-unicode-escape")
        else:
            text = chunk
        pieces.append((text, charset))
    try:
        header = email.header.make_header([(text, "utf-8" if cs else None) for text, cs in pieces])
        decoded = str(header)
    except Exception:  # noqa: BLE001
        decoded = "".join(text for text, _ in pieces)
    # An encoded word can carry CR/LF or other controls ("=?utf-8?b?...?=" for "x\r\nBcc: ..."):
    # a decoded header is one line of text, wherever it is shown or stored.
    return _CONTROLS.sub(" ", decoded).strip()


_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]+")


def _ids(value: str | None) -> list[str]:
    if not value:
        return []
    found = [re.sub(r"\s+", "", token) for token in re.findall(r"<[^<>]+>", value)]
    if not found and value.strip() and " " not in value.strip():
        found = [f"<{value.strip().strip('<>')}>"]
    return found


def _addresses(values: list[str]) -> list[tuple[str, str]]:
    try:
        pairs = email.utils.getaddresses(values)
    except Exception:  # noqa: BLE001
        pairs = []
        for value in values:
            pairs += [("", addr) for addr in re.findall(r"[\w.+'-]+@[\w.-]+", value)]
    return [(name, addr.strip().lower()) for name, addr in pairs if "@" in addr]


def _date(value: str | None, defects: list[str]) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        defects.append(f"bad Date header {value!r}")
        return None
    if parsed is None:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


# --- MIME walking -----------------------------------------------------------------------------


def _raw_items(part: Message) -> list[tuple[str, str]]:
    try:
        return [(str(k), decode_header_value(v)) for k, v in part.raw_items()]
    except Exception:  # noqa: BLE001
        return []


def _param(part: Message, name: str) -> str | None:
    try:
        value = part.get_param(name)
    except Exception:  # noqa: BLE001
        return None
    if isinstance(value, tuple):  # RFC 2231: (charset, language, value)
        try:
            value = email.utils.collapse_rfc2231_value(value)
        except Exception:  # noqa: BLE001
            value = value[2]
    return decode_header_value(value) if isinstance(value, str) else None


def _ctype(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:  # noqa: BLE001
        return "text/plain"


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001
        name = None
    name = name or _param(part, "name")
    return decode_header_value(name) if name else None


def _is_attachment(part: Message) -> bool:
    try:
        disposition = (part.get_content_disposition() or "").lower()
    except Exception:  # noqa: BLE001
        disposition = ""
    return disposition == "attachment"


def _payload_bytes(part: Message, defects: list[str]) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception as exc:  # noqa: BLE001
        defects.append(f"cannot decode part {_ctype(part)}: {exc}")
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    return b""


def _part_text(part: Message, defects: list[str]) -> str:
    data = _payload_bytes(part, defects)
    return decode_bytes(data, _param(part, "charset"), defects).replace("\r\n", "\n").replace("\r", "\n")


class _Walker:
    def __init__(self) -> None:
        self.defects: list[str] = []
        self.attachments: list[Attachment] = []
        self.html: str | None = None
        self.delivery_status: list[DeliveryStatus] = []
        self.returned_headers: list[tuple[str, str]] = []
        self.returned_text = ""
        self.sources: list[str] = []

    # the body: (text, source) -------------------------------------------------------------
    def body(self, part: Message, depth: int = 0) -> str:
        if depth > MAX_DEPTH:
            self.defects.append("MIME nesting too deep; inner parts skipped")
            return ""
        ctype = _ctype(part)
        if ctype in ("message/rfc822", "message/global", "text/rfc822-headers"):
            self.returned(part, depth)
            self.listed(part)
            return ""
        if ctype == "message/delivery-status":
            self.dsn(part)
            return ""
        payload = part.get_payload()
        if part.is_multipart() and isinstance(payload, list):
            return self.multipart(part, ctype, payload, depth)
        if ctype == "application/ms-tnef":
            self.listed(part)
            return self.tnef(part)
        if _is_attachment(part):
            self.listed(part)
            return ""
        if ctype == "text/plain" or (ctype.startswith("text/") and ctype not in ("text/html", "text/calendar", "text/x-vcard", "text/vcard")):
            text = _part_text(part, self.defects)
            self._source("plain", text)
            return text
        if ctype == "text/html":
            html = _part_text(part, self.defects)
            self.html = self.html or html
            text = html_to_text(html)
            self._source("html", text)
            return text
        self.listed(part)
        return ""

    def multipart(self, part: Message, ctype: str, subs: list[Message], depth: int) -> str:
        if ctype == "multipart/alternative":
            texts = [(self._kind(sub), sub) for sub in subs]
            chosen = ""
            for kind in ("plain", "other", "html"):
                for sub_kind, sub in texts:
                    if sub_kind == kind:
                        candidate = self.body(sub, depth + 1)
                        if candidate.strip() and not chosen:
                            chosen = candidate
            return chosen
        if ctype == "multipart/related" and subs:
            text = self.body(subs[0], depth + 1)
            for sub in subs[1:]:
                self.listed(sub)
            return text
        if ctype == "multipart/report" and subs:
            out = self.body(subs[0], depth + 1)
            for sub in subs[1:]:
                self.body(sub, depth + 1)
            return out
        texts = [self.body(sub, depth + 1) for sub in subs]
        return "\n".join(text.rstrip("\n") + "\n" for text in texts if text.strip())

    def _source(self, name: str, text: str) -> None:
        if text.strip():
            self.sources.append(name)

    @staticmethod
    def _kind(part: Message) -> str:
        ctype = _ctype(part)
        if ctype == "text/plain":
            return "plain"
        if ctype == "text/html":
            return "html"
        return "other"

    # side outputs ---------------------------------------------------------------------------
    def listed(self, part: Message) -> None:
        ctype = _ctype(part)
        if ctype.startswith("multipart/"):
            return
        size = len(_payload_bytes(part, self.defects)) if not ctype.startswith("message/") else len(str(part.get_payload()))
        try:
            inline = (part.get_content_disposition() or "").lower() == "inline"
        except Exception:  # noqa: BLE001
            inline = False
        self.attachments.append(Attachment(_filename(part), ctype, size, inline))

    def tnef(self, part: Message) -> str:
        data = _payload_bytes(part, self.defects)
        try:
            import tnefparse

            tnef = tnefparse.TNEF(data)
        except Exception as exc:  # noqa: BLE001 - a broken winmail.dat is a defect, not a failure
            self.defects.append(f"winmail.dat not readable: {type(exc).__name__}")
            return ""
        for item in getattr(tnef, "attachments", []) or []:
            name = getattr(item, "long_filename", None) or getattr(item, "name", None)
            if callable(name):
                name = name()
            if isinstance(name, bytes):
                name = decode_bytes(name, "cp1252")
            size = len(getattr(item, "data", b"") or b"")
            self.attachments.append(Attachment(str(name) if name else None, "application/octet-stream", size))
        body = getattr(tnef, "body", None)
        html = getattr(tnef, "htmlbody", None)
        if body:
            self._source("tnef", "x")
            return body if isinstance(body, str) else decode_bytes(body, "cp1252", self.defects)
        if html:
            html_text = html if isinstance(html, str) else decode_bytes(html, "utf-8", self.defects)
            self.html = self.html or html_text
            self._source("tnef", "x")
            return html_to_text(html_text)
        return ""

    def returned(self, part: Message, depth: int) -> None:
        """The original message inside a bounce: its headers and text (first one only)."""
        if self.returned_headers:
            return
        if _ctype(part) == "text/rfc822-headers":
            text = _part_text(part, self.defects)
            inner = email.message_from_string(text, policy=email.policy.compat32)
            self.returned_headers = _raw_items(inner)
            return
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if isinstance(payload, str):
            inner = email.message_from_string(payload, policy=email.policy.compat32)
        if not isinstance(inner, Message):
            return
        self.returned_headers = _raw_items(inner)
        sub = _Walker()
        self.returned_text = sub.body(inner, depth + 1) if depth < MAX_DEPTH else ""

    def dsn(self, part: Message) -> None:
        payload = part.get_payload()
        blocks: list[list[tuple[str, str]]] = []
        if isinstance(payload, list):
            blocks = [_raw_items(block) for block in payload if isinstance(block, Message)]
        if not blocks or not any(blocks[1:]):
            text = _part_text(part, self.defects) if not isinstance(payload, list) else ""
            blocks = _header_blocks(text) or blocks
        for block in blocks[1:] if len(blocks) > 1 else blocks:
            fields = {key.lower(): value for key, value in block}
            recipient = fields.get("final-recipient") or fields.get("original-recipient") or ""
            recipient = recipient.split(";", 1)[-1].strip().strip("<>").lower()
            if not recipient:
                continue
            self.delivery_status.append(
                DeliveryStatus(
                    recipient=recipient,
                    action=fields.get("action", "").strip().lower(),
                    status=fields.get("status", "").strip().split(" ")[0],
                    diagnostic=fields.get("diagnostic-code", "").strip(),
                )
            )


def _header_blocks(text: str) -> list[list[tuple[str, str]]]:
    """Blank-line separated 'Name: value' blocks (a delivery-status body read by hand)."""
    blocks: list[list[tuple[str, str]]] = []
    for chunk in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        items: list[tuple[str, str]] = []
        for line in chunk.split("\n"):
            if line[:1] in (" ", "\t") and items:
                items[-1] = (items[-1][0], items[-1][1] + " " + line.strip())
            elif ":" in line:
                key, _, value = line.partition(":")
                items.append((key.strip(), value.strip()))
        if items:
            blocks.append(items)
    return blocks


# --- entry point --------------------------------------------------------------------------------

KEY_HEADERS = {"from", "date", "subject", "message-id", "to", "received", "return-path", "sender"}


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse raw bytes; raises only UnparseableMessage (no headers, not bytes, or a parser bug)."""
    if not isinstance(raw, bytes | bytearray):
        raise UnparseableMessage(f"not bytes: {type(raw).__name__}")
    raw = bytes(raw)
    if not raw.strip():
        raise UnparseableMessage("empty message")
    try:
        return _parse(raw)
    except UnparseableMessage:
        raise
    except RecursionError as exc:
        raise UnparseableMessage(f"MIME structure too deep: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - the contract: one error type for the caller
        raise UnparseableMessage(f"{type(exc).__name__}: {exc}") from exc


def _obsolete_names(raw: bytes) -> bytes:
    """RFC 822's obsolete 'From  : x' (space before the colon) -> 'From: x', headers only."""
    head, sep, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    return re.sub(rb"(?m)^([!-9;-~]+)[ \t]+:", rb"\1:", head) + sep + body


def _parse(raw: bytes) -> ParsedMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    headers = _raw_items(msg)
    names = {key.lower() for key, _ in headers}
    if not names & KEY_HEADERS:
        msg = email.message_from_bytes(_obsolete_names(raw), policy=email.policy.default)
        headers = _raw_items(msg)
        names = {key.lower() for key, _ in headers}
    if not names & KEY_HEADERS:
        raise UnparseableMessage("no mail headers (From, Date, Subject, Message-ID...) found")
    defects = [type(defect).__name__ for defect in getattr(msg, "defects", [])]

    def first(name: str) -> str | None:
        for key, value in headers:
            if key.lower() == name:
                return value
        return None

    digest = hashlib.sha256(raw).hexdigest()
    ids = _ids(first("message-id"))
    synthesised = not ids
    message_id = ids[0] if ids else f"<sha256-{digest}@synthesised.invalid>"
    senders = _addresses([first("from") or first("sender") or ""])
    from_name, from_addr = senders[0] if senders else ("", "")
    sender_problem = _sender_problem([v for k, v in headers if k.lower() == "from"])
    walker = _Walker()
    text = walker.body(msg)
    ctype = _ctype(msg)
    report_type = (_param(msg, "report-type") or "").lower() or None if ctype == "multipart/report" else None
    source = walker.sources[0] if walker.sources else "none"
    return ParsedMessage(
        message_id=message_id,
        message_id_synthesised=synthesised,
        sha256=digest,
        subject=first("subject") or "",
        from_addr=from_addr,
        from_name=from_name,
        to=[addr for _, addr in _addresses([v for k, v in headers if k.lower() == "to"])],
        cc=[addr for _, addr in _addresses([v for k, v in headers if k.lower() == "cc"])],
        date=_date(first("date"), defects),
        in_reply_to=_ids(first("in-reply-to")),
        references=_ids(" ".join(v for k, v in headers if k.lower() == "references")),
        headers=headers,
        text=text.replace("\r\n", "\n"),
        html=walker.html,
        body_source=source if text.strip() else "none",
        content_type=ctype,
        attachments=walker.attachments,
        report_type=report_type,
        delivery_status=walker.delivery_status,
        returned_headers=walker.returned_headers,
        returned_text=walker.returned_text,
        defects=defects + walker.defects,
        sender_problem=sender_problem,
    )


def _sender_problem(values: list[str]) -> str | None:
    """None when the From header(s) name exactly one address; else what is wrong."""
    if not values:
        return "no From header"
    if len(values) > 1:
        return f"{len(values)} From headers"
    try:
        pairs = email.utils.getaddresses(values)
    except Exception:  # noqa: BLE001
        return "the From header cannot be read"
    if len(pairs) != 1 or "@" not in pairs[0][1]:
        return "the From header does not hold exactly one address"
    if re.search(r"[\x00-\x1f\x7f]", pairs[0][1]):
        return "the From address holds control characters"
    return None
