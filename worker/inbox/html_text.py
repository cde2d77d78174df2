"""HTML mail bodies as plain text that keeps the structure quote stripping needs.

Block elements become line breaks, list items "- " lines, `<hr>` an Outlook-style underscore
rule, and everything inside `<blockquote>` is prefixed with "> " (one per level), so the
plain-text quote rules in quotes.py also work on HTML-only replies (Gmail's quote, Outlook on
the web's divRplyFwdMsg block, Thunderbird's cite). Uses only the standard library's tolerant
`html.parser`, which never raises on broken markup.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

BLOCK = {
    "address", "article", "aside", "body", "center", "dd", "div", "dl", "dt", "fieldset",
    "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "html", "li",
    "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot", "th", "thead",
    "tr", "ul",
}  # fmt: skip
SKIP = {"head", "script", "style", "title", "template", "noscript", "xml"}
RULE = "_" * 32


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []  # (quote depth, text)
        self.current: list[str] = []
        self.depth = 0
        self.skip = 0
        self.pre = 0
        self.para_marks: list[int] = []

    # -- helpers ---------------------------------------------------------------------
    def _flush(self) -> None:
        text = "".join(self.current)
        self.current = []
        if not self.pre:
            text = re.sub(r"[ \t\r\n\f\u00a0]+", " ", text).strip()
        for line in text.split("\n") if self.pre else [text]:
            self.lines.append((self.depth, line))

    def _break(self) -> None:
        if self.current and "".join(self.current).strip():
            self._flush()
        else:
            self.current = []

    def _blank(self) -> None:
        self._break()
        if self.lines and self.lines[-1][1] != "":
            self.lines.append((self.depth, ""))

    # -- parser callbacks ----------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = tag.lower()
        if tag in SKIP:
            self.skip += 1
            return
        if self.skip:
            return
        if tag == "br":
            if "".join(self.current).strip():
                self._flush()
            else:
                self.current = []
                self.lines.append((self.depth, ""))
        elif tag == "hr":
            self._break()
            self.lines.append((self.depth, RULE))
        elif tag == "blockquote":
            self._blank()
            self.depth += 1
        elif tag == "p":
            # Outlook writes one <p class=MsoNormal> per line and an empty one per blank line.
            self._break()
            self.para_marks.append(len(self.lines))
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"):
            self._blank()
        elif tag == "li":
            self._break()
            self.current.append("- ")
        elif tag in ("td", "th"):
            if "".join(self.current).strip():
                self.current.append(" ")
        elif tag in BLOCK:
            self._break()
        if tag == "pre":
            self.pre += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag.lower() not in ("br", "hr", "img", "meta", "link", "input", "col", "wbr"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        tag = tag.lower()
        if tag in SKIP:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip:
            return
        if tag == "blockquote":
            self._blank()
            self.depth = max(0, self.depth - 1)
        elif tag == "p":
            self._break()
            mark = self.para_marks.pop() if self.para_marks else -1
            if len(self.lines) == mark:
                self._blank()
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"):
            self._blank()
        elif tag in BLOCK:
            self._break()
        if tag == "pre":
            self.pre = max(0, self.pre - 1)

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.current.append(data)

    def text(self) -> str:
        self._break()
        out: list[str] = []
        for depth, line in self.lines:
            prefix = "> " * depth if depth else ""
            out.append((prefix + line).rstrip() if line else prefix.rstrip())
        text = "\n".join(out)
        text = re.sub(r"\n{3,}", "\n\n", text)
        return text.strip("\n") + "\n" if text.strip() else ""


def html_to_text(html: str) -> str:
    """Readable text of an HTML body; quoted blocks prefixed with '> '. Never raises."""
    converter = _Converter()
    try:
        converter.feed(html or "")
        converter.close()
    except Exception:  # noqa: BLE001 - html.parser is tolerant; this is a last guard
        pass
    return converter.text()
