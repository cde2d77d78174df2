"""The Attendance Certificate PDF: read back what a Main School would read.

Text is taken out of the rendered PDF with pypdf, so these tests check the document itself, not
the HTML it came from. One certificate is built here (runs everywhere, with the names that break
encodings); the six of expected/certificates.json are rendered when ../shared is present.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import socket
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from worker.attendance.codes import codebook_at
from worker.certificates.render import (
    CertificateRenderError,
    LocalOnlyFetcher,
    RefusedURL,
    RenderContext,
    legend_for,
    render_certificate_html,
    render_certificate_pdf,
)

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "templates"
RULES = REPO / "rules"

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
LONG_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
)  # fmt: skip
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
FOOTER_TOP_PT = 22 / 25.4 * 72  # the page's bottom margin (22 mm) holds the footer
CLOSED = "Service closed: INSET day (staff training)"
NOTE = "Family\u2019s car broke down, tutor phoned"  # typographic apostrophe U+2019


# ---------------------------------------------------------------- building content and context


def cell(place, mark=None, code=None, *, reason=None, pending=False, late=None) -> dict:
    return {
        "place": place,
        "service_mark": mark,
        "main_school_code": code,
        "reason": reason,
        "pending": pending,
        "minutes_late": late,
    }


def built_content(forename: str, surname: str) -> dict[str, Any]:
    """A week with every kind of session: present, late, C2, absence with a note, Main School,
    pending with and without a mark, a closure day."""
    return {
        "pupil": {
            "pupil_ref": "90001",
            "upn": "A999000000001",
            "forename": forename,
            "surname": surname,
            "date_of_birth": "2014-03-07",
            "registration": "K",
        },
        "main_school": {
            "urn": "107999",
            "name": "St Ó Briain\u2019s Test Academy",
            "certificate_day": "Friday",
            "delivery": "per_school",
        },
        "week_start": "2026-11-16",
        "week_end": "2026-11-20",
        "certificate_due": "2026-11-19",
        "days": [
            {
                "date": "2026-11-16",
                "weekday": "Mon",
                "service_open": True,
                "AM": cell("service", "/", "K"),
                "PM": cell("service", "\\", "K"),
            },
            {
                "date": "2026-11-17",
                "weekday": "Tue",
                "service_open": True,
                "AM": cell("service", "L", "K", late=10),
                "PM": cell("none", None, "C2"),
            },
            {
                "date": "2026-11-18",
                "weekday": "Wed",
                "service_open": True,
                "AM": cell("service", "O", "O", reason=NOTE),
                "PM": cell("main_school"),
            },
            {
                "date": "2026-11-19",
                "weekday": "Thu",
                "service_open": True,
                "AM": cell("service", "N", "N", pending=True),
                "PM": cell("service", None, None, pending=True),
            },
            {
                "date": "2026-11-20",
                "weekday": "Fri",
                "service_open": False,
                "AM": cell("service", reason=CLOSED),
                "PM": cell("service", reason=CLOSED),
            },
        ],  # fmt: skip
        "totals": {
            "sessions_offered": 6,
            "sessions_attended": 3,
            "attendance_percent": 50.0,
            "pending_sessions": 2,
        },
    }


def content_hash(content: dict) -> str:
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def make_context(content: dict, *, amended=False, changes=(), tutor="Siân Ní Bhriain"):
    return RenderContext(
        service_name="Northfold Hospital and Medical Needs Education Service",
        service_mailbox="attendance@service.example",
        service_phone="01632 960123",
        key_tutor_name=tutor,
        reference=f"AC-{content['pupil']['pupil_ref']}-{content['week_start']}",
        content_hash=content_hash(content),
        issued_on=date.fromisoformat(content["certificate_due"]),
        amended=amended,
        changes=tuple(changes),
        code_legend=legend_for(content, codebook_at(str(RULES))),
    )


# ---------------------------------------------------------------- reading the PDF back


def flat(text: str) -> str:
    return " ".join(text.split())


def pdf_text(pdf: bytes) -> str:
    return flat(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


def footer_text(pdf: bytes) -> str:
    """Text drawn inside the bottom page margin of every page (where the footer lives)."""
    pieces: list[str] = []

    def visit(text, cm, tm, _font, _size):
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        if text.strip() and y < FOOTER_TOP_PT:
            pieces.append(text)

    for page in PdfReader(io.BytesIO(pdf)).pages:
        page.extract_text(visitor_text=visit)
    return flat(" ".join(pieces))


def day_label(iso: str) -> str:
    d = date.fromisoformat(iso)
    return f"{WEEKDAYS[d.weekday()]} {d.day} {MONTHS[d.month - 1]}"


def long_date(iso: str) -> str:
    d = date.fromisoformat(iso)
    names = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    return f"{names[d.weekday()]} {d.day} {LONG_MONTHS[d.month - 1]} {d.year}"


def day_segments(text: str, content: dict) -> dict[str, str]:
    """The session table's text, cut into one piece per day (from its label to the next)."""
    labels = [day_label(day["date"]) for day in content["days"]]
    start = text.index("Sessions and codes to record")
    ends = [*labels[1:], "Totals for the week"]
    out = {}
    for label, end in zip(labels, ends, strict=True):
        a = text.index(label, start)
        b = text.index(end, a + len(label))
        out[label] = text[a:b]
        start = b
    return out


def token(code: str | None) -> str:
    shown = "—" if code is None else code
    return rf"(?<!\S){re.escape(shown)}(?!\S)"


def assert_certificate_text(pdf: bytes, content: dict, context: RenderContext) -> None:
    """Everything a Main School copies into its register is in the PDF, exactly."""
    text = pdf_text(pdf)
    pupil = content["pupil"]
    assert f"{pupil['forename']} {pupil['surname']}" in text
    if pupil["upn"]:
        assert pupil["upn"] in text
    assert content["main_school"]["name"] in text
    assert content["main_school"]["urn"] in text
    assert long_date(content["week_start"]) in text
    assert long_date(content["week_end"]) in text
    dob = date.fromisoformat(pupil["date_of_birth"])
    assert f"{dob.day} {LONG_MONTHS[dob.month - 1]} {dob.year}" in text

    segments = day_segments(text, content)
    for day in content["days"]:
        segment = segments[day_label(day["date"])]
        am, pm = day["AM"], day["PM"]
        # AM's code to record comes before PM's, each as a token of its own
        pattern = (
            rf"\bAM\b.*?{token(am['main_school_code'])}.*?\bPM\b.*?{token(pm['main_school_code'])}"
        )
        assert re.search(pattern, segment), (day["date"], segment)
        pending = sum(1 for c in (am, pm) if c["pending"])
        assert segment.count("PENDING (not final)") == pending, segment
        for c in (am, pm):
            if c["reason"]:
                assert flat(c["reason"]) in segment, segment
        if not day["service_open"]:
            assert "Service closed" in segment
    assert text.count("PENDING (not final)") == content["totals"]["pending_sessions"]

    totals = content["totals"]
    numbers = re.search(
        r"Pending \(not final\) (\d+) (\d+) (\S+) (\d+)", text[text.index("Totals for the week") :]
    )
    assert numbers, text
    percent = totals["attendance_percent"]
    assert numbers.groups() == (
        str(totals["sessions_offered"]),
        str(totals["sessions_attended"]),
        "n/a" if percent is None else f"{percent:.1f}%",
        str(totals["pending_sessions"]),
    )

    footer = footer_text(pdf)
    assert context.reference in footer
    assert context.content_hash in footer
    assert ("AMENDED" in text) == context.amended
    for change in context.changes:
        assert change in text


# ---------------------------------------------------------------- the built certificate

NAMES = [
    ("Zoë", "O'Neill"),
    ("Łukasz", "Ní Bhriain"),
    ("Siân", "Lăcătuș"),  # ș U+0219
    ("\u0218tefan", "Wi\u015bniewska"),  # Ș U+0218, ś U+015B
]


@pytest.mark.parametrize(("forename", "surname"), NAMES)
def test_built_certificate_reads_back_exactly(forename: str, surname: str) -> None:
    content = built_content(forename, surname)
    context = make_context(content)
    pdf = render_certificate_pdf(content, context, TEMPLATES)
    assert_certificate_text(pdf, content, context)
    text = pdf_text(pdf)
    assert f"{forename} {surname}" in text  # exact code points, no mojibake or decomposition
    assert NOTE in text
    assert "Siân Ní Bhriain" in text
    assert "St Ó Briain\u2019s Test Academy" in text


def test_built_certificate_rows_say_what_the_school_must_do() -> None:
    content = built_content("Zoë", "O'Neill")
    pdf = render_certificate_pdf(content, make_context(content), TEMPLATES)
    segments = day_segments(pdf_text(pdf), content)
    assert "AM Service / K PM Service \\ K" in segments["Mon 16 Nov"]
    assert "AM Service L (10 min late) K PM None (C2) — C2" in segments["Tue 17 Nov"]
    assert "PM Main School — — Your own register" in segments["Wed 18 Nov"]
    assert "AM Service N N PENDING (not final)" in segments["Thu 19 Nov"]
    assert "PM Service No mark yet — PENDING (not final)" in segments["Thu 19 Nov"]
    assert segments["Fri 20 Nov"].count("— Service closed") == 2
    assert segments["Fri 20 Nov"].count(CLOSED) == 1  # printed once across both sessions


def test_attendance_code_for_dual_registered_pupils_is_d() -> None:
    content = built_content("Zoë", "O'Neill")
    content["pupil"]["registration"] = "D"
    text = pdf_text(render_certificate_pdf(content, make_context(content), TEMPLATES))
    assert "A session attended at the Service is recorded as D." in text


def test_amended_certificate_says_so_and_lists_the_changes() -> None:
    content = built_content("Łukasz", "Ní Bhriain")
    changes = ("2026-11-18 AM: N -> O", "2026-11-19 PM: N -> M")
    context = make_context(content, amended=True, changes=changes)
    pdf = render_certificate_pdf(content, context, TEMPLATES)
    text = pdf_text(pdf)
    assert "AMENDED CERTIFICATE" in text
    assert text.index("AMENDED CERTIFICATE") < text.index("Sessions and codes to record")
    assert "AMENDED" in footer_text(pdf)
    assert_certificate_text(pdf, content, context)


def test_page_is_a4_tagged_and_titled_without_the_pupil_name() -> None:
    content = built_content("Zoë", "O'Neill")
    context = make_context(content)
    reader = PdfReader(io.BytesIO(render_certificate_pdf(content, context, TEMPLATES)))
    for page in reader.pages:
        box = page.mediabox
        assert float(box.width) == pytest.approx(595.28, abs=1)
        assert float(box.height) == pytest.approx(841.89, abs=1)
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en-GB"
    assert root["/MarkInfo"]["/Marked"]
    assert "/StructTreeRoot" in root
    assert root["/ViewerPreferences"]["/DisplayDocTitle"]
    assert 'pdfuaid:part="1"' in root["/Metadata"].get_object().get_data().decode()
    title = reader.metadata.title
    assert title == f"Attendance Certificate {context.reference}"
    assert "Zoë" not in title and "O'Neill" not in title


def _fonts(resources: DictionaryObject, seen: set[int]) -> list[DictionaryObject]:
    """Every font used by a page, its Form XObjects and their resources."""
    fonts = []
    for font in (resources.get("/Font") or {}).values():
        fonts.append(font.get_object())
    for xobject in (resources.get("/XObject") or {}).values():
        obj = xobject.get_object()
        if id(obj) not in seen and "/Resources" in obj:
            seen.add(id(obj))
            fonts += _fonts(obj["/Resources"].get_object(), seen)
    return fonts


def test_every_font_is_the_bundled_one_and_embedded() -> None:
    content = built_content("\u0218tefan", "Lăcătuș")
    pdf = render_certificate_pdf(content, make_context(content), TEMPLATES)
    fonts = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        fonts += _fonts(page["/Resources"].get_object(), set())
    assert fonts
    for font in fonts:
        # WeasyPrint names the PDF font after the @font-face family: no machine font slipped in
        assert "Certificate-Sans" in str(font["/BaseFont"]), font["/BaseFont"]
        described = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        descriptor = described["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, font["/BaseFont"]


def test_the_bundled_fonts_carry_their_licence() -> None:
    licence = (TEMPLATES / "fonts" / "LICENSE-DejaVu.txt").read_text(encoding="utf-8")
    assert "Bitstream Vera Fonts Copyright" in licence
    assert "Arev Fonts Copyright" in licence
    css = (TEMPLATES / "certificate.css").read_text(encoding="utf-8")
    for name in re.findall(r'url\("([^"]+)"\)', css):
        assert (TEMPLATES / name).is_file(), name


# ---------------------------------------------------------------- no network, ever


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Records (and blocks) every attempt to open a network connection."""
    attempts: list[object] = []

    def connect(self, address):
        attempts.append(address)
        raise OSError("network disabled in this test")

    def create_connection(address, *args, **kwargs):
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    return attempts


@pytest.mark.parametrize(
    "url",
    [
        "http://192.0.2.1/x.png",
        "https://192.0.2.1/x.css",
        "HTTP://192.0.2.1/x.png",
        "ftp://192.0.2.1/x.ttf",
        "file:///etc/passwd",
        "file://192.0.2.1/share/x.png",
    ],
)
def test_fetcher_refuses_anything_outside_the_templates(url: str, no_network: list) -> None:
    with pytest.raises(RefusedURL):
        LocalOnlyFetcher(TEMPLATES).fetch(url)
    assert no_network == []


def test_fetcher_refuses_a_path_that_climbs_out_of_the_templates() -> None:
    with pytest.raises(RefusedURL):
        LocalOnlyFetcher(TEMPLATES).fetch(TEMPLATES.as_uri() + "/../pyproject.toml")


def test_fetcher_serves_template_files_and_data_urls(no_network: list) -> None:
    fetcher = LocalOnlyFetcher(TEMPLATES)
    font = fetcher.fetch((TEMPLATES / "fonts" / "DejaVuSans.ttf").as_uri())
    try:
        assert font.read(4) == b"\x00\x01\x00\x00"  # a TrueType font
    finally:
        font.close()
    data = fetcher.fetch("data:text/plain;charset=utf-8,Zo%C3%AB")
    assert data.read() == "Zoë".encode()
    assert no_network == []


def _templates_with(tmp_path: Path, markup: str) -> Path:
    """A copy of the templates whose certificate carries `markup` at the top of the body."""
    copy = tmp_path / "templates"
    shutil.copytree(TEMPLATES, copy)
    page = copy / "certificate.html.j2"
    page.write_text(
        page.read_text(encoding="utf-8").replace("<body>", "<body>" + markup, 1), encoding="utf-8"
    )
    return copy


def test_external_reference_in_a_template_stops_rendering_without_network(
    tmp_path: Path, no_network: list
) -> None:
    templates = _templates_with(tmp_path, '<img src="http://192.0.2.1/x.png" alt="">')
    content = built_content("Zoë", "O'Neill")
    with pytest.raises(CertificateRenderError, match=r"192\.0\.2\.1"):
        render_certificate_pdf(content, make_context(content), templates)
    assert no_network == []


def test_data_url_in_a_template_is_fine(tmp_path: Path, no_network: list) -> None:
    pixel = (
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
        "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    )
    templates = _templates_with(tmp_path, f'<img src="{pixel}" alt="">')
    content = built_content("Zoë", "O'Neill")
    assert render_certificate_pdf(content, make_context(content), templates).startswith(b"%PDF")
    assert no_network == []


def test_markup_in_the_content_is_printed_as_text(no_network: list) -> None:
    content = built_content("Zoë <b>", "O'Neill")
    hostile = '<img src="http://192.0.2.1/x.png"> see http://192.0.2.1/'
    content["days"][2]["AM"]["reason"] = hostile
    context = make_context(content)
    html = render_certificate_html(content, context, TEMPLATES)
    assert '<img src="http://192.0.2.1' not in html
    assert "&lt;img" in html and "Zoë &lt;b&gt;" in html
    text = pdf_text(render_certificate_pdf(content, context, TEMPLATES))
    assert hostile.replace(" ", "") in text.replace(" ", "")  # the line may wrap inside the URL
    assert "Zoë <b> O'Neill" in text
    assert no_network == []


# ---------------------------------------------------------------- bad input


def test_a_hash_that_is_not_sha256_hex_is_refused() -> None:
    content = built_content("Zoë", "O'Neill")
    context = make_context(content)
    bad = RenderContext(**{**context.__dict__, "content_hash": "not-a-hash"})
    with pytest.raises(CertificateRenderError, match="content_hash"):
        render_certificate_pdf(content, bad, TEMPLATES)


def test_content_missing_a_field_names_it() -> None:
    content = built_content("Zoë", "O'Neill")
    context = make_context(content)
    del content["totals"]
    with pytest.raises(CertificateRenderError, match="totals"):
        render_certificate_pdf(content, context, TEMPLATES)


def test_nothing_offered_prints_no_percentage() -> None:
    content = built_content("Zoë", "O'Neill")
    content["totals"] = {
        "sessions_offered": 0,
        "sessions_attended": 0,
        "attendance_percent": None,
        "pending_sessions": 2,
    }
    context = make_context(content)
    pdf = render_certificate_pdf(content, context, TEMPLATES)
    assert_certificate_text(pdf, content, context)


# ---------------------------------------------------------------- the shared fixtures


def _fixture_certificates(fixtures_dir: Path) -> tuple[list[dict], dict]:
    data = json.loads((fixtures_dir / "expected" / "certificates.json").read_text("utf-8"))
    amended = {
        (a["pupil_ref"], a["week_start"]): a
        for a in data["amended_certificates"]
        if a["school_record_changed"]
    }
    return data["certificates"], amended


@pytest.mark.parametrize("index", range(6))
def test_expected_certificates_render_on_one_page(fixtures_dir: Path, index: int) -> None:
    certificates, amended = _fixture_certificates(fixtures_dir)
    assert len(certificates) == 6
    entry = certificates[index]
    content = {key: entry[key] for key in (
        "pupil", "main_school", "week_start", "week_end", "certificate_due", "days", "totals"
    )}  # fmt: skip
    change = amended.get((content["pupil"]["pupil_ref"], content["week_start"]))
    context = make_context(
        content, amended=change is not None, changes=change["changes"] if change else ()
    )
    pdf = render_certificate_pdf(content, context, TEMPLATES)
    assert_certificate_text(pdf, content, context)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
