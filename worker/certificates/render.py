"""Attendance Certificate PDF: the rendering edge (Jinja2 -> HTML -> WeasyPrint -> PDF).

The content (marks, codes, totals) is computed elsewhere as a plain dict; this module only
presents it, so the PDF can never say something the content does not. Rendering is offline:
the URL fetcher refuses everything but files inside the templates folder (and data: URLs),
and fonts are bundled there, so the output does not depend on the machine or the network.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import jinja2
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from worker.attendance.codes import CodeBook
from worker.errors import CourierError

TEMPLATE = "certificate.html.j2"
STYLESHEET = "certificate.css"
PDF_VARIANT = "pdf/ua-1"  # tagged PDF, document language and title: screen readers can read it

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
)  # fmt: skip
_PLACES = {
    "service": "Service",
    "main_school": "Main School",
    "none": "None (C2)",
    None: "Not on roll",
}
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


class CertificateRenderError(CourierError):
    """The Attendance Certificate could not be rendered."""


class RefusedURL(ValueError):
    """The certificate referenced something outside the templates folder: no network while rendering."""

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(f"refused to fetch {url!r}: only files inside the templates folder")


@dataclass(frozen=True)
class RenderContext:
    """What the certificate says besides its content: who sends it, its identity, its status."""

    service_name: str
    service_mailbox: str
    service_phone: str
    key_tutor_name: str
    reference: str  # e.g. AC-71063-2026-11-16
    content_hash: str  # sha256 hex of the content, computed by the caller
    issued_on: date
    amended: bool = False
    changes: tuple[str, ...] = ()  # e.g. "2026-11-18 AM: N -> O"
    code_legend: Mapping[str, str] = field(default_factory=dict)  # code -> meaning


def legend_for(content: Mapping[str, Any], codebook: CodeBook) -> dict[str, str]:
    """The meanings of the codes this certificate shows, in the codebook's order."""
    used = {
        cell.get(key)
        for day in content["days"]
        for cell in (day["AM"], day["PM"])
        for key in ("service_mark", "main_school_code")
    }
    return {code: entry.meaning for code, entry in codebook.codes.items() if code in used}


class LocalOnlyFetcher(URLFetcher):
    """Fetches only files inside `root` and data: URLs; anything else raises RefusedURL.

    `fail_on_errors=True` makes a refused or missing resource stop the rendering instead of
    WeasyPrint's default of warning and carrying on: a certificate with a missing font or an
    external reference is a bug to see, not a document to send.
    """

    def __init__(self, root: Path) -> None:
        super().__init__(allowed_protocols=("file", "data"), fail_on_errors=True)
        self.root = root.resolve()

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file" and parts.netloc in ("", "localhost"):
            path = Path(url2pathname(parts.path)).resolve()
            if path.is_relative_to(self.root):
                if not path.is_file():
                    raise FileNotFoundError(f"{path}: no such file in the templates folder")
                return super().fetch(path.as_uri(), headers)
        raise RefusedURL(url)


@dataclass(frozen=True)
class _Renderer:
    """Per templates folder: the Jinja2 environment, fonts and stylesheet, loaded once."""

    templates_dir: Path
    env: jinja2.Environment
    fetcher: LocalOnlyFetcher
    font_config: FontConfiguration
    stylesheet: CSS


@lru_cache(maxsize=4)
def _renderer(templates_dir: Path) -> _Renderer:
    # FontConfiguration and CSS are not thread-safe; the worker renders in one thread.
    fetcher = LocalOnlyFetcher(templates_dir)
    font_config = FontConfiguration()
    try:
        stylesheet = CSS(
            filename=str(templates_dir / STYLESHEET), font_config=font_config, url_fetcher=fetcher
        )
    except FatalURLFetchingError as exc:
        raise CertificateRenderError(
            f"{templates_dir / STYLESHEET}: {exc.__cause__ or exc}",
            templates_dir=str(templates_dir),
        ) from exc
    except OSError as exc:
        raise CertificateRenderError(
            f"{templates_dir / STYLESHEET}: {exc}", templates_dir=str(templates_dir)
        ) from exc
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return _Renderer(templates_dir, env, fetcher, font_config, stylesheet)


def long_date(day: date) -> str:
    """'Monday 16 November 2026': a register date nobody can misread (no locale involved)."""
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def short_date(day: date) -> str:
    """'Mon 16 Nov': inside a table whose week is stated in full above it."""
    return f"{_WEEKDAYS[day.weekday()][:3]} {day.day} {_MONTHS[day.month - 1][:3]}"


def _mark_text(cell: Mapping[str, Any]) -> str:
    mark = cell.get("service_mark")
    if mark is None:
        return "No mark yet" if cell.get("pending") else "\u2014"
    late = cell.get("minutes_late")
    return f"{mark} ({late} min late)" if late else str(mark)


def _code_note(cell: Mapping[str, Any], open_: bool) -> str:
    """Why there is no code to record for this session (shown under the dash)."""
    if not open_:
        return "Service closed"
    if cell.get("place") == "main_school":
        return "Your own register"
    if cell.get("place") is None:
        return "Not on roll"
    return ""


def _days(content: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One entry per day (label, open, and its AM and PM rows, ready to print)."""
    out = []
    for day in content["days"]:
        when = date.fromisoformat(day["date"])
        open_ = bool(day["service_open"])
        rows = []
        for session in ("AM", "PM"):
            cell = day[session]
            rows.append(
                {
                    "session": session,
                    "open": open_,
                    "expected_at": _PLACES[cell.get("place")],
                    "mark": _mark_text(cell),
                    "code": cell.get("main_school_code"),
                    "code_note": _code_note(cell, open_),
                    "pending": bool(cell.get("pending")),
                    "reason": cell.get("reason") or "",
                }
            )
        # A closed day's reason is the same for both sessions: printed once, across both rows.
        closed_reason = rows[0]["reason"] or rows[1]["reason"] or "Service closed"
        out.append(
            {"label": short_date(when), "open": open_, "rows": rows, "closed_reason": closed_reason}
        )
    return out


def _view(content: Mapping[str, Any], context: RenderContext) -> dict[str, Any]:
    pupil, school, totals = content["pupil"], content["main_school"], content["totals"]
    week_start = date.fromisoformat(content["week_start"])
    week_end = date.fromisoformat(content["week_end"])
    percent = totals.get("attendance_percent")
    return {
        "ctx": context,
        "pupil": pupil,
        "pupil_name": f"{pupil['forename']} {pupil['surname']}",
        "date_of_birth": long_date(date.fromisoformat(pupil["date_of_birth"])).split(" ", 1)[1],
        "school": school,
        "week_start": long_date(week_start),
        "week_end": long_date(week_end),
        "due": long_date(date.fromisoformat(content["certificate_due"])),
        "issued": long_date(context.issued_on),
        "issued_iso": context.issued_on.isoformat(),
        "attended_code": "D" if pupil.get("registration") == "D" else "K",
        "days": _days(content),
        "totals": totals,
        "percent": "n/a" if percent is None else f"{float(percent):.1f}%",
    }


def render_certificate_html(
    content: Mapping[str, Any], context: RenderContext, templates_dir: Path
) -> str:
    """The certificate as HTML (what the PDF is made from; for tests and debugging)."""
    if not _SHA256_HEX.match(context.content_hash):
        raise CertificateRenderError(
            f"content_hash must be 64 lowercase hex digits, got {context.content_hash!r}",
            reference=context.reference,
        )
    try:
        view = _view(content, context)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CertificateRenderError(
            f"certificate {context.reference}: content is not in the expected shape "
            f"({type(exc).__name__}: {exc})",
            reference=context.reference,
        ) from exc
    renderer = _renderer(Path(templates_dir).resolve())
    try:
        return renderer.env.get_template(TEMPLATE).render(**view)
    except jinja2.TemplateError as exc:
        raise CertificateRenderError(
            f"{renderer.templates_dir / TEMPLATE}: {exc}", reference=context.reference
        ) from exc


def render_certificate_pdf(
    content: Mapping[str, Any], context: RenderContext, templates_dir: Path
) -> bytes:
    """The certificate as an A4 PDF/UA-1 document with embedded fonts."""
    html_text = render_certificate_html(content, context, templates_dir)
    renderer = _renderer(Path(templates_dir).resolve())
    try:
        document = HTML(
            string=html_text,
            base_url=renderer.templates_dir.as_uri() + "/",
            url_fetcher=renderer.fetcher,
        )
        pdf = document.write_pdf(
            stylesheets=[renderer.stylesheet],
            font_config=renderer.font_config,
            pdf_variant=PDF_VARIANT,
        )
    except FatalURLFetchingError as exc:  # a BaseException: catch it by name
        raise CertificateRenderError(
            f"certificate {context.reference}: {exc.__cause__ or exc}",
            reference=context.reference,
        ) from exc
    assert pdf is not None  # write_pdf without a target returns the bytes
    return pdf
