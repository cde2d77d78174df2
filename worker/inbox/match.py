"""Which case a message is about. Pure, against a CaseDirectory.

Order: our Message-ID in In-Reply-To, then in References (an exact id the directory knows, or
one of ours whose HMAC verifies), then the `[NS-nnnn]` token in the decoded Subject, then
`NS-nnnn` in the body, then, for a bounce, the returned original (its Message-ID or
`X-MNHES-Case`). A later method that names another case is recorded as a conflict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from worker.inbox.directory import CaseDirectory, CaseInfo
from worker.inbox.parse import ParsedMessage
from worker.outbox.message_ids import parse_message_id

SUBJECT_TOKEN = re.compile(r"\[\s*(NS)\s*-\s*(\d{1,9})\s*\]", re.IGNORECASE)
BODY_TOKEN = re.compile(r"(?<![\w-])(NS)-(\d{1,9})\b", re.IGNORECASE)
# Kinds of our signed ids whose key is a case number (a certificate's key is not).
CASE_ID_KINDS = frozenset({"ns", "reminder", "chase", "welfare", "escalation", "case"})
CASE_HEADER = "X-MNHES-Case"


@dataclass(frozen=True)
class CaseMatch:
    case: CaseInfo | None
    how: str | None  # in_reply_to | references | subject | body | bounce
    ours: bool  # the message answers an email we sent (known or verified id)
    conflicts: tuple[str, ...] = ()

    @property
    def case_ref(self) -> str | None:
        return self.case.case_ref if self.case else None


def _case_for_id(message_id: str, directory: CaseDirectory, secret: bytes | None) -> tuple[CaseInfo | None, bool]:
    """(case, ours) for one Message-ID."""
    case = directory.by_message_id(message_id)
    if case is not None:
        return case, True
    known = directory.is_known_message_id(message_id)
    if secret:
        for domain in directory.service_domains():
            ours = parse_message_id(message_id, secret, domain)
            if ours and ours.verified:
                if ours.kind in CASE_ID_KINDS and ours.case_number is not None:
                    return directory.by_ref(f"NS-{ours.case_number}"), True
                return None, True
    return None, known


def _ref_in(text: str, pattern: re.Pattern[str], directory: CaseDirectory) -> list[CaseInfo]:
    found: list[CaseInfo] = []
    for match in pattern.finditer(text or ""):
        case = directory.by_ref(f"NS-{int(match.group(2))}")
        if case is not None and case not in found:
            found.append(case)
    return found


def match_case(
    msg: ParsedMessage,
    directory: CaseDirectory,
    secret: bytes | None = None,
    own_text: str = "",
    bounce: bool = False,
) -> CaseMatch:
    """Find the case; `own_text` (the reply without quotes) is searched before the whole body."""
    candidates: list[tuple[str, CaseInfo]] = []
    ours = False
    for how, ids in (("in_reply_to", msg.in_reply_to), ("references", list(reversed(msg.references)))):
        for message_id in ids:
            case, is_ours = _case_for_id(message_id, directory, secret)
            ours = ours or is_ours
            if case is not None:
                candidates.append((how, case))
                break
    candidates += [("subject", case) for case in _ref_in(msg.subject, SUBJECT_TOKEN, directory)]
    body = _ref_in(own_text, BODY_TOKEN, directory) or _ref_in(msg.text, BODY_TOKEN, directory)
    candidates += [("body", case) for case in body[:1]]
    if bounce or not candidates:
        returned = _returned_case(msg, directory, secret)
        if returned is not None:
            candidates.append(("bounce", returned))
            ours = True
    if not candidates:
        return CaseMatch(None, None, ours)
    how, chosen = candidates[0]
    if bounce and any(h == "bounce" for h, _ in candidates):
        how, chosen = next((h, c) for h, c in candidates if h == "bounce")
    conflicts = tuple(sorted({c.case_ref for h, c in candidates if c.case_ref != chosen.case_ref and h != "body"}))
    return CaseMatch(chosen, how, ours or how in ("in_reply_to", "references"), conflicts)


def _returned_case(msg: ParsedMessage, directory: CaseDirectory, secret: bytes | None) -> CaseInfo | None:
    """The case of the original message a bounce returned (its Message-ID or X-MNHES-Case)."""
    if not msg.returned_headers:
        return None
    for message_id in re.findall(r"<[^<>]+>", msg.returned_header("Message-ID") or ""):
        case, _ = _case_for_id(message_id, directory, secret)
        if case is not None:
            return case
    header = msg.returned_header(CASE_HEADER) or ""
    found = _ref_in(header, BODY_TOKEN, directory)
    if found:
        return found[0]
    found = _ref_in(msg.returned_header("Subject") or "", SUBJECT_TOKEN, directory)
    return found[0] if found else None
