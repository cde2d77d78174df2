"""What a reply says, and whether a person must look before the case changes. Pure.

`classify_message` puts the pieces together: our loop header -> `loop`; machine mail ->
`auto_reply` / `bounce`; the Service's own staff -> `other`; otherwise the sender's own words
(quotes.py) are read with the phrase tables of rules/classify.yaml, sentence by sentence, with
negation and future-tense windows. `needs_review` follows fixtures/replies/README.md: risk words
in the sender's own text, an outcome other than seen_safe, an unverified sender, DMARC failure,
no case, something a person must act on, an uncertain reading, a permanent bounce.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime

from worker.clock import local_date
from worker.inbox import dates
from worker.inbox.directory import CaseDirectory
from worker.inbox.machine import MachineVerdict, detect_machine
from worker.inbox.match import CaseMatch, match_case
from worker.inbox.parse import ParsedMessage
from worker.inbox.quotes import Reply, split_reply
from worker.inbox.reply_rules import ClassifyRules, Pattern, ReplyRules

REVIEW_OUTCOMES = ("not_seen", "concerns", "referred")
# The most of a body that is read: nobody writes a longer reply, and reading megabytes (a log
# pasted in, or an attack) would hold up every message behind it. A person reads the rest.
MAX_TEXT = 100_000
FORM_TYPES = ("application/pdf", "application/msword", "application/vnd.openxmlformats", "image/")


@dataclass
class Classification:
    kind: str  # check_requested | check_done | pupil_seen | other | auto_reply | bounce | loop
    case_ref: str | None
    check_date: date | None
    outcome: str | None
    next_steps: str | None
    needs_review: bool
    review_reasons: list[str] = field(default_factory=list)
    sender: str = ""
    sender_verified: bool | None = None
    failed_recipient: str | None = None
    failed_role: str | None = None
    bounce_status: str | None = None
    bounce_permanent: bool | None = None
    confidence: float = 0.0
    reply_text: str = ""
    matched_by: str | None = None
    message_id: str = ""
    subject: str = ""

    def to_json(self) -> dict[str, object]:
        """The contract's fields first, then the rest (dates as ISO text)."""
        data = asdict(self)
        data["check_date"] = self.check_date.isoformat() if self.check_date else None
        head = ["kind", "case_ref", "check_date", "outcome", "next_steps", "needs_review"]
        return {key: data[key] for key in head} | {k: v for k, v in data.items() if k not in head}


@dataclass(frozen=True)
class Reading:
    """What the sender's own words say."""

    kind: str
    outcome: str | None
    check_date: date | None
    next_steps: str | None
    risks: tuple[str, ...]
    actions: tuple[str, ...]
    confidence: float
    mixed: tuple[str, ...]


# --- sentences and windows -------------------------------------------------------------------

# "Date of visit: 23/11", "Outcome: seen": a form-style line is its own sentence.
LABEL_LINE = re.compile(r"^[-*\u2022]?\s*[A-Z][\w /'&()-]{1,30}:\s+\S")


def sentences(text: str) -> list[str]:
    """Paragraphs joined, then split at sentence ends (initials such as 'J.T. seen' stay whole)."""
    out: list[str] = []
    for para in re.split(r"\n\s*\n", (text or "").replace("\u2019", "'").replace("\u2018", "'")):
        lines = [line.strip() for line in para.split("\n") if line.strip()]
        joined: list[str] = []
        for line in lines:
            if joined and not re.match(r"^[-*\u2022]\s", line) and not LABEL_LINE.match(line):
                joined[-1] += " " + line
            else:
                joined.append(line)
        for chunk in joined:
            out += [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])", chunk) if s.strip()]
    return out


def _window(sentence: str, start: int, rules: ClassifyRules) -> list[str]:
    prefix = sentence[:start]
    last = 0
    for brk in rules.clause_breaks.finditer(prefix):
        last = brk.end()
    words = re.findall(r"[\w']+", prefix[last:].lower())
    return words[-rules.window_words :]


def _has_cue(words: list[str], cues: tuple[str, ...]) -> bool:
    joined = " " + " ".join(words) + " "
    for cue in cues:
        if cue == "n't":
            if any(word.endswith("n't") for word in words):
                return True
        elif cue.startswith("'"):
            if any(word.endswith(cue) for word in words):
                return True
        elif f" {cue} " in joined:
            return True
    return False


def _found(sentence: str, pattern: Pattern, rules: ClassifyRules, future: bool = False) -> bool:
    for match in pattern.regex.finditer(sentence):
        words = _window(sentence, match.start(), rules)
        if pattern.negatable and (
            _has_cue(words, rules.negation_cues) or rules.negated_after.match(sentence[match.end() :])
        ):
            continue
        if future and _has_cue(words, rules.future_cues):
            continue
        return True
    return False


def _any(sentence: str, patterns: tuple[Pattern, ...], rules: ClassifyRules, future: bool = False) -> bool:
    return any(_found(sentence, p, rules, future) for p in patterns)


# --- reading the sender's words -----------------------------------------------------------------


def read_reply(text: str, ref: date | None, rules: ClassifyRules) -> Reading:
    """Kind, outcome, check date, next steps, risk words and actions in the sender's own text."""
    parts = sentences(text)
    evidence: dict[str, list[int]] = {}
    for rule in rules.kinds:
        hits = [i for i, s in enumerate(parts) if _any(s, rule.patterns, rules, rule.future_blocks)]
        if hits:
            evidence[rule.name] = hits
    strong = {
        rule.name
        for rule in rules.kinds
        if any(_found(s, p, rules, rule.future_blocks) for s in parts for p in rule.patterns if not p.weak)
    }
    # Weak evidence ("spoke to mum at drop-off") yields to another kind found in the same reply.
    found = [rule.name for rule in rules.kinds if rule.name in evidence]
    kind = next((name for name in found if name in strong or len(found) == 1), found[0] if found else "other")
    mixed = tuple(name for name in evidence if name != kind and {kind, name} == {"check_requested", "check_done"})
    outcome = check_date = next_steps = None
    if kind == "check_done":
        outcome = next(
            (name for name, patterns in rules.outcomes if any(_any(s, patterns, rules) for s in parts)), None
        )
        child_seen = any(_any(s, rules.child_seen, rules) for s in parts)
        if outcome in (None, "seen_safe") and not child_seen and any(_any(s, rules.parent_only, rules) for s in parts):
            outcome = "not_seen"  # only a parent was spoken to
        check_date = _check_date(parts, evidence["check_done"], ref, rules)
        next_steps = _next_steps(parts, ref, rules)
    clean = rules.service_names.sub(" ", text or "")
    risks = tuple(name for name, regex in rules.risk if regex.search(clean))
    actions = [name for name, patterns in rules.action if any(_any(s, patterns, rules) for s in parts)]
    if kind != "check_done" and "check_done" in evidence:
        # The family contact that yielded to a sighting still says something a person must read.
        heard = next((name for name, patterns in rules.outcomes if any(_any(s, patterns, rules) for s in parts)), None)
        if heard in ("not_seen", "concerns", "referred"):
            actions.append(f"family contact reports {heard.replace('_', ' ')}")
    request_sentences = set(evidence.get("check_requested", []))
    if any(s.rstrip().endswith("?") for i, s in enumerate(parts) if i not in request_sentences):
        actions.append("question to the Service")
    conf = rules.confidence
    if kind == "check_done":
        confidence = conf["check_done_with_outcome"] if outcome else conf["check_done_without_outcome"]
    else:
        confidence = conf.get(kind, conf["other"])
    if mixed:
        confidence -= conf.get("mixed_penalty", 0.3)
    return Reading(kind, outcome, check_date, next_steps, risks, tuple(actions), round(confidence, 2), mixed)


def _past_text(sentence: str, rules: ClassifyRules) -> str:
    """The sentence without its clauses about what comes next ("back on Monday", "will visit Friday")."""
    keep = []
    for clause in rules.clause_breaks.split(sentence):
        words = re.findall(r"[\w']+", clause.lower())
        if _has_cue(words, rules.future_cues) or _has_cue(words, rules.not_check_date):
            continue
        keep.append(clause)
    return " , ".join(keep)


def _check_date(parts: list[str], hits: list[int], ref: date | None, rules: ClassifyRules) -> date | None:
    """The day of the check: from a sentence reporting it, else the ones either side of the first,
    else any sentence about the check (`check_date_hints`), else the reply's own day (the README:
    relative words and a missing date resolve against the Date header; an explicit date wins)."""
    if ref is None:
        return None
    first = hits[0]
    order = [*hits, first - 1, first + 1]
    order += [i for i, s in enumerate(parts) if i not in order and _any(s, rules.check_date_hints, rules)]
    for index in order:
        if 0 <= index < len(parts):
            found = dates.check_date_in(_past_text(parts[index], rules), ref)
            if found is not None:
                return found
    return ref


def _next_steps(parts: list[str], ref: date | None, rules: ClassifyRules) -> str | None:
    chosen: list[str] = []
    for sentence in parts:
        clauses = [c.strip(" ,;") for c in re.split(r";|,\s+(?=[a-z])|(?<!\s)\s+[-–—]\s+|,\s+(?=[A-Z]\.[A-Z]\.|mum|dad)", sentence)]
        keep = [c for c in clauses if c and _any(c, rules.next_steps, rules)]
        if keep:
            text = ", ".join(keep)
            chosen.append(text if text.endswith((".", "!", "?")) else text + ".")
    if not chosen:
        return None
    text = " ".join(chosen)
    if ref is not None:
        text = dates.spell_out(text, ref)
    return text[:400]


# --- putting it together -----------------------------------------------------------------------


def _dmarc_failed(msg: ParsedMessage) -> bool:
    return any(re.search(r"\bdmarc\s*=\s*fail\b", v, re.I) for v in msg.header_all("Authentication-Results"))


def _addressed_to_service(msg: ParsedMessage, directory: CaseDirectory) -> bool:
    """Whether the Service is in To (not only in Cc); with no To at all, assume it is."""
    if not msg.to:
        return True
    ours, domains = directory.service_addresses(), directory.service_domains()
    return any(a in ours or a.rpartition("@")[2] in domains for a in msg.to)


def _reference_day(msg: ParsedMessage, received_at: datetime | None) -> date | None:
    when = msg.date or received_at
    return local_date(when) if when else None


def classify_message(
    msg: ParsedMessage,
    directory: CaseDirectory,
    rules: ReplyRules,
    *,
    secret: bytes | None = None,
    loop_header: str = "X-MNHES-Courier",
    received_at: datetime | None = None,
) -> Classification:
    """Read one parsed message against the case directory. Never changes anything."""
    base = {"sender": msg.from_addr, "message_id": msg.message_id, "subject": msg.subject}
    if loop_header and msg.header(loop_header) is not None:
        return Classification("loop", None, None, None, None, False, [f"our own {loop_header} header"], confidence=1.0, **base)
    machine = detect_machine(msg, rules.machine)
    reply = split_reply(msg.text[:MAX_TEXT], rules.quotes, msg.subject, msg.from_name) if machine.kind is None else None
    match = match_case(msg, directory, secret, own_text=reply.text if reply else "", bounce=machine.kind == "bounce")
    if machine.kind is not None:
        return _machine(msg, machine, match, base)
    assert reply is not None
    return _human(msg, reply, match, directory, rules, received_at, base)


def _machine(msg: ParsedMessage, machine: MachineVerdict, match: CaseMatch, base: dict) -> Classification:
    reasons: list[str] = []
    result = Classification(machine.kind or "auto_reply", match.case_ref, None, None, None, False, reasons, confidence=0.95, matched_by=match.how, **base)
    if machine.kind == "bounce":
        result.failed_recipient = machine.failed_recipient
        result.failed_role = match.case.role_of(machine.failed_recipient) if match.case else None
        if match.case is not None and machine.failed_recipient and result.failed_role is None:
            # Not an address this case's emails go to: a forged or misdirected bounce.
            reasons.append(f"failed recipient is not a registered school contact of {match.case.case_ref}")
        result.bounce_status = machine.status
        result.bounce_permanent = machine.permanent
        if machine.permanent:
            who = result.failed_role or "an address"
            reasons.append(f"permanent delivery failure ({machine.status or 'no status'}) to {who}")
        elif machine.permanent is None:
            reasons.append("delivery failure of unknown kind")
    if match.case is None and not (match.ours and machine.kind == "auto_reply"):
        reasons.append("no case match")
    if match.conflicts:
        reasons.append("other case references: " + ", ".join(match.conflicts))
    result.needs_review = bool(reasons)
    return result


def _human(
    msg: ParsedMessage,
    reply: Reply,
    match: CaseMatch,
    directory: CaseDirectory,
    rules: ReplyRules,
    received_at: datetime | None,
    base: dict,
) -> Classification:
    reasons: list[str] = []
    case = match.case
    result = Classification("other", match.case_ref, None, None, None, False, reasons, reply_text=reply.text, matched_by=match.how, **base)
    if case is None:
        reasons.append("no case match")
    if match.conflicts:
        reasons.append("other case references: " + ", ".join(match.conflicts))
    if len(msg.text) > MAX_TEXT:
        reasons.append(f"long message: only the first {MAX_TEXT} characters were read")
    sender = msg.from_addr
    unclear = getattr(msg, "sender_problem", None)
    if unclear:
        reasons.append(f"sender unclear: {unclear}")
    from_service = sender in directory.service_addresses() or msg.sender_domain in directory.service_domains()
    if from_service and not unclear and not _dmarc_failed(msg):
        result.confidence = 0.9  # the Service's own staff: never a school response
        result.needs_review = bool(reasons)
        return result
    if _dmarc_failed(msg):
        reasons.append("dmarc=fail")
    if case is not None:
        # An unclear From never verifies, whatever its first address says.
        result.sender_verified = case.verifies(sender) and not unclear
        if not result.sender_verified:
            reasons.append("sender not verified for the Main School")
    if not reply.text.strip():
        result.confidence = 0.8 if match.ours or reply.is_forward else 0.4
        if not match.ours and reply.quoted:
            reasons.append("forwarded or quoted message without comment")
        elif not reply.quoted and not msg.attachments:
            reasons.append("empty message")
        elif not reply.quoted:
            reasons.append("attachment only")
        result.needs_review = bool(reasons)
        return result
    reading = read_reply(reply.text, _reference_day(msg, received_at), rules.classify)
    if reply.is_forward and not _addressed_to_service(msg, directory):
        # "Jo - can you pick this up?" above a forward sent To a colleague asks the colleague, not us.
        actions = tuple(a for a in reading.actions if a != "question to the Service")
        kind = "other" if reading.kind == "check_requested" else reading.kind
        reading = replace(reading, kind=kind, actions=actions)
    result.kind = reading.kind
    result.confidence = reading.confidence
    if reading.kind == "check_done":
        result.check_date, result.outcome, result.next_steps = reading.check_date, reading.outcome, reading.next_steps
        if reading.outcome in REVIEW_OUTCOMES:
            reasons.append(f"outcome: {reading.outcome}")
        if reading.outcome is None:
            forms = [a for a in msg.attachments if not a.inline and a.content_type.startswith(FORM_TYPES)]
            reasons.append("outcome not stated" + (" (see attachment)" if forms else ""))
    reasons += [f"risk words: {name}" for name in reading.risks]
    reasons += [f"action: {name}" for name in reading.actions]
    if reading.mixed:
        reasons.append("mixed: " + ", ".join((reading.kind, *reading.mixed)))
    if reading.confidence < rules.classify.confidence["review_below"] and not any(r.startswith("outcome not") for r in reasons):
        reasons.append(f"low confidence ({reading.confidence})")
    result.needs_review = bool(reasons)
    return result
