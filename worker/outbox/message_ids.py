"""Our Message-IDs: on the Service's domain, naming what they are about, signed with an HMAC.

A reply's In-Reply-To/References then tells us which case it answers, and a forged id
(or one from another instance) does not verify. Format, e.g. for a not-seen email:

    <ns.1042.2026w47.a1b2c3d4@service.example>
      kind.key.stamp.sig

`kind` and `key` are [a-z0-9-]+; the signature is the first 8 hex digits of
HMAC-SHA256(secret, "kind.key.stamp").
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime

from worker.clock import local

ID_RE = re.compile(
    r"<?(?P<kind>[a-z0-9-]+)\.(?P<key>[a-z0-9-]+)\.(?P<stamp>[a-z0-9-]+)\.(?P<sig>[0-9a-f]{8})@(?P<domain>[^>\s]+)>?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class OurId:
    kind: str
    key: str
    stamp: str
    domain: str
    verified: bool

    @property
    def case_number(self) -> int | None:
        """For kinds about a case (ns, reminder, welfare...), the key is the case number."""
        return int(self.key) if self.key.isdigit() else None


def _sig(secret: bytes, body: str) -> str:
    return hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()[:8]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-") or "x"


def make_message_id(kind: str, key: str, at: datetime, secret: bytes, domain: str, nonce: str = "") -> str:
    """`stamp` is the ISO week of `at` plus an optional nonce (so two ids of one key differ)."""
    iso = local(at).isocalendar()
    stamp = f"{iso.year}w{iso.week:02d}" + (f"-{_slug(nonce)}" if nonce else "")
    body = f"{_slug(kind)}.{_slug(key)}.{stamp}"
    return f"<{body}.{_sig(secret, body)}@{domain}>"


def parse_message_id(text: str, secret: bytes, domain: str) -> OurId | None:
    """Our id if `text` looks like one on our domain; `verified` says whether the HMAC matches."""
    match = ID_RE.search(text or "")
    if not match or match.group("domain").lower() != domain.lower():
        return None
    body = f"{match.group('kind')}.{match.group('key')}.{match.group('stamp')}".lower()
    return OurId(
        kind=match.group("kind").lower(),
        key=match.group("key").lower(),
        stamp=match.group("stamp").lower(),
        domain=match.group("domain").lower(),
        verified=hmac.compare_digest(_sig(secret, body), match.group("sig").lower()),
    )


def find_our_ids(header_value: str, secret: bytes, domain: str) -> list[OurId]:
    """Every id of ours in an In-Reply-To or References value, verified ones first."""
    found = []
    for token in re.findall(r"<[^<>]+>", header_value or ""):
        parsed = parse_message_id(token, secret, domain)
        if parsed:
            found.append(parsed)
    return sorted(found, key=lambda item: not item.verified)
