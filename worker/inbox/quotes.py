"""The sender's own words: quotes, forwarded copies, signatures and disclaimers taken away.

Works on structure, not on our email's wording: a '>' prefix, an Outlook header block
(From/Sent/To/Subject in any listed language, with or without a rule line above it), an
"-----Original Message-----" line, an attribution ("On ... wrote:", wrapped or not, localised).
Everything after the first of these is quoted, except answers written between '>' quoted
lines, which are kept. A forward is kept whole as `quoted`; its own words are the text above
it. Pure: text in, Reply out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from worker.inbox.reply_rules import QuoteRules


@dataclass(frozen=True)
class Reply:
    text: str  # the sender's own words (signature and disclaimers removed)
    quoted: str  # everything recognised as quoted or forwarded
    signature: str
    is_forward: bool
    inline_answers: bool


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


DATE_LIKE = re.compile(r"\d{1,2}[:.]\d\d|\b(19|20)\d\d\b")


def _attribution_line(line: str, following: str, rules: QuoteRules) -> bool:
    """'On <date>, <name> <addr> wrote:' and its relatives, judged on one (joined) line."""
    line = line.strip()
    end = rules.attribution_end.search(line)
    if not end or len(line) > 400:
        return False
    tail = end.group(0)
    opener = bool(rules.attribution_opener.match(line))
    if "@" in tail:  # '... "Name" <addr>:' (no verb): needs a date or time in the line
        return bool(DATE_LIKE.search(line))
    if ":" not in tail:  # 'On ... wrote' without the colon: needs the opener and an address or date
        return opener and ("@" in line or bool(DATE_LIKE.search(line)))
    if opener or "@" in line or re.search(r"\d", line):
        return True
    return len(line) <= 80 and _is_quoted(following)


def _join_attributions(lines: list[str], rules: QuoteRules) -> list[str]:
    """'On Fri, ... <' + 'attendance@...> wrote:' -> one line (clients wrap at 76 columns)."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        starts = rules.attribution_opener.match(line) or DATE_LIKE.search(line)
        if starts and not _is_quoted(line) and not _attribution_line(line, "", rules):
            joined_at: tuple[str, int] | None = None
            for extra in (1, 2, 3):
                if i + extra >= len(lines):
                    break
                nxt = lines[i + extra]
                if (_is_quoted(nxt) and not re.match(r"^\s*>\s*:\s*$", nxt)) or not nxt.strip():
                    break
                joined = " ".join(part.strip() for part in lines[i : i + extra + 1])
                following = next((x for x in lines[i + extra + 1 : i + extra + 4] if x.strip()), "")
                if len(joined) < 400 and _attribution_line(joined, following, rules):
                    joined_at = (joined, extra)
                    break
            if joined_at:
                out.append(joined_at[0])
                i += joined_at[1] + 1
                continue
        out.append(line)
        i += 1
    return out


def _is_attribution(lines: list[str], i: int, rules: QuoteRules) -> bool:
    following = next((nxt for nxt in lines[i + 1 : i + 4] if nxt.strip()), "")
    return _attribution_line(lines[i], following, rules)


def _header_block_at(lines: list[str], i: int, rules: QuoteRules) -> int:
    """Length of an Outlook header block starting at line i (0 if none).

    The block is a run of 'Field: value' lines (blank lines allowed inside) that holds a `from`
    field and at least `block_min_fields` others, whatever their order.
    """
    if rules.field_of(lines[i]) is None:
        return 0
    seen: set[str] = set()
    end = i
    for j in range(i, min(len(lines), i + 1 + rules.block_window)):
        field = rules.field_of(lines[j])
        if field:
            seen.add(field)
            end = j + 1
        elif lines[j].strip() and j > end:
            break  # text after a gap: the block has ended
    others = len(seen - {"from"})
    return end - i if "from" in seen and others >= rules.block_min_fields else 0


def _separator_at(line: str, rules: QuoteRules) -> str | None:
    if any(p.match(line) for p in rules.forward_separators):
        return "forward"
    if any(p.match(line) for p in rules.separators):
        return "quote"
    return None


def _quote_start(lines: list[str], rules: QuoteRules) -> tuple[int, str] | None:
    """(index, what) of the first line that opens quoted or forwarded text."""
    for i, line in enumerate(lines):
        if _is_quoted(line):
            return i, "gt"
        kind = _separator_at(line, rules)
        if kind == "forward":
            return i, "forward"
        if kind == "quote":
            if line.strip().startswith("_"):
                # Outlook's rule line only counts when a header block follows it.
                nxt = next((k for k in range(i + 1, min(len(lines), i + 4)) if lines[k].strip()), None)
                if nxt is None or not _header_block_at(lines, nxt, rules):
                    continue
            return i, "separator"
        if _header_block_at(lines, i, rules):
            return i, "header"
        if _is_attribution(lines, i, rules):
            prev = lines[i - 1].strip() if i > 0 else ""
            if prev and len(prev) < 100 and DATE_LIKE.search(prev) and not prev.endswith((".", "!", "?")):
                return i - 1, "attribution"  # '<date> <name>' on the line above '<addr> wrote:'
            return i, "attribution"
    return None


def _skip_header(lines: list[str], start: int, rules: QuoteRules) -> int:
    """Index after the separator / attribution / header block that opens the quote."""
    i = start
    if not _separator_at(lines[i], rules) and not _is_attribution(lines, i, rules) and i + 1 < len(lines) and _is_attribution(lines, i + 1, rules):
        i += 1
    if _separator_at(lines[i], rules) or _is_attribution(lines, i, rules):
        i += 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i < len(lines):
        size = _header_block_at(lines, i, rules)
        if size:
            i += size
    while i < len(lines) and not lines[i].strip():
        i += 1
    return i


def _inline_answers(lines: list[str], rules: QuoteRules) -> list[str]:
    """Unquoted lines written between or after '>' quoted blocks (answers inline)."""
    kept: list[str] = []
    seen_quote = False
    for i, line in enumerate(lines):
        if _is_quoted(line):
            seen_quote = True
            if kept and kept[-1] != "":
                kept.append("")
            continue
        if not seen_quote:
            continue
        if _separator_at(line, rules) or _header_block_at(lines, i, rules) or _is_attribution(lines, i, rules):
            break  # an older message, not quoted with '>': the rest is quote
        kept.append(line)
    return kept


def is_forward_subject(subject: str, rules: QuoteRules) -> bool:
    """True when the first prefix of the subject is a forward ('FW:', 'Fwd:', 'WG:', 'YML:')."""
    match = re.match(r"^\s*(?:\[[^\]]*\]\s*)?([^\s:]{1,8})\s*:", subject or "")
    return bool(match) and match.group(1).lower() in rules.forward_prefixes


def strip_signature(lines: list[str], rules: QuoteRules, sender_name: str = "") -> tuple[list[str], list[str]]:
    """(body lines, signature lines): cut at '-- ', a client footer, or a short sign-off tail."""
    cut = None
    for i, line in enumerate(lines):
        if i > 0 and line.rstrip() in ("--", "-- ", "—", "__"):
            cut = i
            break
        if rules.footer.match(line):
            cut = i
            break
    if cut is None:
        names = {part.lower() for part in re.findall(r"[A-Za-zÀ-ÿ'-]+", sender_name or "") if len(part) > 1}
        # Non-blank lines after each line, and the longest of them, counted once from the end:
        # re-reading the tail for every line made a message of many lines cost n^2.
        tail_count, tail_longest = [0] * (len(lines) + 1), [0] * (len(lines) + 1)
        for i in range(len(lines) - 1, -1, -1):
            blank = not lines[i].strip()
            tail_count[i] = tail_count[i + 1] + (0 if blank else 1)
            tail_longest[i] = tail_longest[i + 1] if blank else max(tail_longest[i + 1], len(lines[i]))
        for i, line in enumerate(lines):
            if i == 0:
                continue
            short_tail = (tail_count[i + 1] <= rules.max_signature_lines
                          and tail_longest[i + 1] <= rules.max_signature_line_length)
            if rules.signoff.match(line) and short_tail:
                cut = i
                break
            words = re.findall(r"[A-Za-zÀ-ÿ'-]+", line)
            name_only = names and words and len(words) <= 3 and {w.lower() for w in words} <= names
            if name_only and short_tail and not any(c in line for c in ".?!:;"):
                cut = i
                break
    if cut is None:
        return lines, []
    # "Thanks, Rob" then "PS police attended last night": a postscript is the sender's own words.
    ps = next((j for j in range(cut, len(lines)) if POSTSCRIPT.match(lines[j])), None)
    if ps is not None:
        return lines[:cut] + [""] + lines[ps:], lines[cut:ps]
    return lines[:cut], lines[cut:]


POSTSCRIPT = re.compile(r"^\s*p\.?\s?p?\.?\s?s\b\.?\s*[:\-–]?", re.I)


def _drop_disclaimers(lines: list[str], rules: QuoteRules) -> list[str]:
    out: list[str] = []
    block: list[str] = []
    for line in [*lines, ""]:
        if line.strip():
            block.append(line)
            continue
        if block and not rules.disclaimer.search(" ".join(block)):
            out.extend(block)
        block = []
        out.append("")
    while out and not out[-1].strip():
        out.pop()
    return out


def _tidy(lines: list[str]) -> str:
    text = "\n".join(line.rstrip() for line in lines)
    text = re.sub(r"\n{3,}", "\n\n", text).strip("\n")
    return re.sub(r"\[cid:[^\]]*\]", "", text).strip()


def split_reply(text: str, rules: QuoteRules, subject: str = "", sender_name: str = "") -> Reply:
    """Split a body into the sender's own words and the rest (quotes, forwards, signature)."""
    lines = [line.rstrip() for line in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = _join_attributions(lines, rules)
    start = _quote_start(lines, rules)
    forward_subject = is_forward_subject(subject, rules)
    if start is None:
        # Disclaimers go first: a long one under the signature would hide the sign-off.
        own, signature = strip_signature(_drop_disclaimers(lines, rules), rules, sender_name)
        return Reply(_tidy(own), "", _tidy(signature), forward_subject, False)
    index, what = start
    head, region = lines[:index], lines[index:]
    is_forward = what == "forward" or (forward_subject and what in ("header", "separator"))
    own, signature = strip_signature(_drop_disclaimers(head, rules), rules, sender_name)
    inline: list[str] = []
    if not is_forward:
        after = _skip_header(lines, index, rules)
        first_body = next((line for line in lines[after:] if line.strip()), "")
        if what == "gt" or _is_quoted(first_body):
            inline, _ = strip_signature(_drop_disclaimers(_inline_answers(lines[index:], rules), rules), rules, sender_name)
    own_text = _tidy(own)
    inline_text = _tidy(inline)
    combined = "\n\n".join(part for part in (own_text, inline_text) if part)
    return Reply(combined, _tidy(region), _tidy(signature), is_forward, bool(inline_text))
