"""Writes the held-out paraphrase set: one .eml per sample (as a mail client would send it) and
its expected .json, plus cases.json. Run once by hand: `python tests/data/replies_paraphrase/make_set.py`.

The expected answers below were written from ../shared/fixtures/replies/README.md (kinds,
outcomes, dates, needs_review), never by running the classifier. The .eml files are the data;
this script is how they were made and how to add more (append to SAMPLES, run it again: the
output is deterministic). Everything is invented: .example domains, pupils by initials, phone
numbers in the Ofcom drama range.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import quopri
import textwrap
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

HERE = Path(__file__).parent
SERVICE = {
    "mailbox": "attendance@service.example",
    "dsl": "dsl@service.example",
    "attendance_lead": "attendance.lead@service.example",
    "own_domain": "service.example",
}

SCHOOLS = {
    "oak": ("Oakfield Primary School", "990301", ["oakfield-primary.example"],
            [("Siobhan Brennan", "s.brennan@oakfield-primary.example", "DSL"),
             ("Oakfield Primary Office", "office@oakfield-primary.example", "attendance / office")]),
    "riv": ("Riverside Community College", "990302", ["riverside-cc.example"],
            [("Marcus Obi", "m.obi@riverside-cc.example", "DSL"),
             ("Riverside Attendance", "attendance@riverside-cc.example", "attendance"),
             ("Agnieszka Kowalczyk", "a.kowalczyk@riverside-cc.example", "Head of Year 9 / attendance")]),
    "sta": ("St Aidan's CE Academy", "990303", ["staidans.example", "staidans-trust.example"],
            [("Precious Nwosu", "p.nwosu@staidans.example", "DSL"),
             ("St Aidan's Welfare", "welfare@staidans.example", "attendance / welfare")]),
    "bec": ("Beckett Park High School", "990304", ["beckettpark.example"],
            [("Rob Ellison", "r.ellison@beckettpark.example", "DSL"),
             ("Beckett Park Attendance", "attendance@beckettpark.example", "attendance"),
             ("Joanne McGrath", "j.mcgrath@beckettpark.example", "attendance officer")]),
    "lar": ("Larchwood Junior School", "990305", ["larchwood-jun.example"],
            [("Helen Ashdown", "head@larchwood-jun.example", "Headteacher / DSL"),
             ("Larchwood Office", "office@larchwood-jun.example", "attendance / office")]),
    "kin": ("Kingsmead Academy", "990306", ["kingsmead.example"],
            [("Dev Chauhan", "d.chauhan@kingsmead.example", "DSL"),
             ("Kingsmead Attendance", "attendance@kingsmead.example", "attendance")]),
}  # fmt: skip

NOV20 = datetime.fromisoformat("2026-11-20T15:30:00+00:00")
OCT09 = datetime.fromisoformat("2026-10-09T14:30:00+00:00")  # 15:30 BST
NOV27 = datetime.fromisoformat("2026-11-27T15:30:00+00:00")
# case: (school, initials, pronoun, key tutor, safeguarding risk, sent)
CASES = {
    "NS-2101": ("oak", "A.B.", "he", "Amara Osei", False, NOV20),
    "NS-2102": ("riv", "C.D.", "she", "Tom Leckie", False, NOV20),
    "NS-2103": ("sta", "E.F.", "he", "Bethan Rees", True, NOV20),
    "NS-2104": ("bec", "G.H.", "she", "Farah Iqbal", False, NOV20),
    "NS-2105": ("lar", "I.K.", "he", "Amara Osei", False, NOV20),
    "NS-2106": ("kin", "L.M.", "she", "Tom Leckie", True, NOV20),
    "NS-2107": ("riv", "N.P.", "he", "Farah Iqbal", False, NOV20),
    "NS-2108": ("bec", "R.S.", "he", "Bethan Rees", True, NOV20),
    "NS-2109": ("oak", "T.W.", "she", "Amara Osei", False, NOV20),
    "NS-2110": ("kin", "Y.Z.", "he", "Tom Leckie", False, OCT09),
    "NS-2111": ("sta", "O.A.", "she", "Bethan Rees", False, NOV27),
    "NS-2112": ("lar", "K.J.", "he", "Farah Iqbal", True, NOV20),
}

PEOPLE = {
    "sb": ("Siobhan Brennan", "s.brennan@oakfield-primary.example"),
    "oak_office": ("Oakfield Primary Office", "office@oakfield-primary.example"),
    "oak_flo": ("Kerry Dunne", "k.dunne@oakfield-primary.example"),  # domain only
    "mo": ("Marcus Obi", "m.obi@riverside-cc.example"),
    "riv_att": ("Riverside Attendance", "attendance@riverside-cc.example"),
    "ak": ("Agnieszka Kowalczyk", "a.kowalczyk@riverside-cc.example"),
    "pn": ("Precious Nwosu", "p.nwosu@staidans.example"),
    "pn_trust": ("Precious Nwosu", "precious.nwosu@staidans-trust.example"),  # second domain
    "sa_welfare": ("St Aidan's Welfare", "welfare@staidans.example"),
    "re": ("Rob Ellison", "r.ellison@beckettpark.example"),
    "jm": ("Joanne McGrath", "j.mcgrath@beckettpark.example"),
    "bp_att": ("Beckett Park Attendance", "attendance@beckettpark.example"),
    "ha": ("Helen Ashdown", "head@larchwood-jun.example"),
    "lj_office": ("Larchwood Office", "office@larchwood-jun.example"),
    "dc": ("Dev Chauhan", "d.chauhan@kingsmead.example"),
    "km_att": ("Kingsmead Attendance", "attendance@kingsmead.example"),
    "webmail": ("Siobhan B", "siobhan.b1979@gmail.example"),  # personal webmail: unverified
    "svc_dsl": ("Nadia Quinn", "n.quinn@service.example"),  # the Service's own DSL
}


@dataclass
class Sample:
    name: str
    case: str | None  # the case the reply is about (None: cannot be matched)
    client: str
    sender: str
    date: str
    body: str
    expect: tuple[str, str | None, str | None, str | None, bool]  # kind, check_date, outcome, next_steps, review
    notes: str
    inline: tuple[str, str] | None = None  # gmail_inline: answers after bullet 1 and bullet 2
    options: dict = field(default_factory=dict)


# --- the outgoing email, as the case's school received it ----------------------------------------


def message_id(ref: str) -> str:
    number = ref.split("-")[1]
    sent = CASES[ref][5]
    year, week, _ = sent.date().isocalendar()
    tag = hashlib.sha256(f"paraphrase-{ref}".encode()).hexdigest()[:8]
    return f"<ns.{number}.{year}w{week:02d}.{tag}@service.example>"


def _long(day: date) -> str:
    return f"{day.strftime('%A')} {day.day} {day.strftime('%B %Y')}"


def original_text(ref: str) -> str:
    school_key, initials, _, tutor, risk, sent = CASES[ref]
    school = SCHOOLS[school_key][0]
    since = sent.date() - timedelta(days=7)
    paras = [
        "Dear colleagues,",
        f"{initials} (MNHES reference {ref}), who is on roll at {school} and attends the Hospital & "
        f"Medical Needs Education Service (MNHES), has not been seen by the Service since {_long(since)}.",
    ]
    if risk:
        check = sent.date() + timedelta(days=5)
        paras.append(
            f"{initials} is recorded by MNHES as having safeguarding risks, so the MNHES Designated "
            f"Safeguarding Lead will arrange a home welfare check on {_long(check)} unless we hear that "
            f"the school has done one. If you believe {initials} is at immediate risk of harm, contact "
            "the police on 999 and make a referral to children's social care without delay."
        )
    else:
        paras.append(
            f"We have no specific concerns at present, but it is now one week since {initials} was last seen."
        )
    paras.append(
        "It is the Main School's responsibility to carry out a home welfare check if you consider it "
        "necessary as part of your attendance and welfare process. Please reply to this email to tell us either:"
    )
    out = [textwrap.fill(p, 72) for p in paras]
    out.append(BULLET1 + "\n" + BULLET2)
    if not risk:
        out.append(textwrap.fill(
            f"If {initials} has not been seen by anyone for two weeks, the MNHES Designated "
            "Safeguarding Lead will arrange a home welfare check.", 72))
    out.append("Kind regards,")
    out.append(f"{tutor}\nKey Tutor, on behalf of the MNHES Attendance Team\nHospital & Medical Needs Education Service")
    out.append("Copied to: MNHES Designated Safeguarding Lead; MNHES Attendance Lead\n"
               f"Reference: {ref} (please keep it in the subject line when you reply)")
    return "\n\n".join(out)


BULLET1 = ("  - that the school has carried out a home welfare check: the date, who\n"
           "    carried it out, the outcome and any next steps; or")
BULLET2 = ("  - that you would like MNHES to carry out the check (for example, if\n"
           "    the relationship between home and school has broken down).")


def recipients(ref: str) -> list[tuple[str, str]]:
    contacts = SCHOOLS[CASES[ref][0]][3]
    return [(n, a) for n, a, _ in contacts[:2]]


def subject(ref: str) -> str:
    return f"Pupil not seen for one week [{ref}]"


def _addr(name: str, address: str) -> str:
    return f"{name} <{address}>"


def _from_service(ref: str) -> str:
    return f"{CASES[ref][3]} via MNHES Attendance <attendance@service.example>"


SERVICE_CC = "MNHES Designated Safeguarding Lead <dsl@service.example>; MNHES Attendance Lead <attendance.lead@service.example>"


def outlook_block(ref: str, style: str = "desktop") -> str:
    to = "; ".join(_addr(n, a) for n, a in recipients(ref))
    sent = CASES[ref][5]
    local = sent + timedelta(hours=1) if sent.month == 10 else sent
    if style == "mobile":
        when = local.strftime("%A, %B ") + f"{local.day}, {local.year} " + local.strftime("%I:%M:04 %p").lstrip("0")
    else:
        when = f"{local.strftime('%A')}, {local.day} {local.strftime('%B %Y %H:%M')}"
    return (f"From: {_from_service(ref)}\nSent: {when}\nTo: {to}\nCc: {SERVICE_CC}\n"
            f"Subject: {subject(ref)}")


def gmail_attribution(ref: str) -> str:
    sent = CASES[ref][5]
    local = sent + timedelta(hours=1) if sent.month == 10 else sent
    line = (f"On {local.strftime('%a')}, {local.day} {local.strftime('%b %Y')} at {local.strftime('%H:%M')}, "
            f"{CASES[ref][3]} via MNHES Attendance <attendance@service.example> wrote:")
    if len(line) > 76:  # Gmail wraps the attribution like any other line
        cut = line.rfind("<") + 1
        return line[:cut] + "\n" + line[cut:]
    return line


def apple_attribution(ref: str) -> str:
    sent = CASES[ref][5]
    local = sent + timedelta(hours=1) if sent.month == 10 else sent
    return (f"On {local.day} {local.strftime('%b %Y')}, at {local.strftime('%H:%M')}, "
            f"{CASES[ref][3]} via MNHES Attendance <attendance@service.example> wrote:")


def thunderbird_attribution(ref: str) -> str:
    sent = CASES[ref][5]
    local = sent + timedelta(hours=1) if sent.month == 10 else sent
    return f"On {local.strftime('%d/%m/%Y %H:%M')}, {CASES[ref][3]} via MNHES Attendance wrote:"


def gt(text: str, first_bom: bool = False) -> str:
    lines = text.split("\n")
    if first_bom:
        lines[0] = "\ufeff" + lines[0]
    return "\n".join(f"> {line}" if line else ">" for line in lines)


# --- HTML ----------------------------------------------------------------------------------------


def _html_paras(text: str) -> list[str]:
    out = []
    for para in text.split("\n\n"):
        lines = para.split("\n")
        if all(line.lstrip().startswith("- ") for line in lines):
            items = "".join(f"<li>{html.escape(line.lstrip()[2:])}</li>" for line in lines)
            out.append(f"<ul>{items}</ul>")
        else:
            out.append("<br>\n".join(html.escape(line) for line in lines))
    return out


def original_html(ref: str) -> str:
    paras = original_text(ref).split("\n\n")
    out = []
    for para in paras:
        if para.startswith("  - "):
            items = [" ".join(x.split()) for x in para.replace("\n    ", " ").split("\n")]
            out.append("<ul>" + "".join(f"<li>{html.escape(i[2:])}</li>" for i in items) + "</ul>")
        elif "Key Tutor" in para or "Reference:" in para:
            out.append("<p>" + html.escape(para).replace("\n", "<br>\n") + "</p>")
        else:
            out.append("<p>" + html.escape(" ".join(para.split("\n"))) + "</p>")
    return '<div style="font-family:Arial,Helvetica,sans-serif;font-size:11pt;color:#1a1a1a">\n' + "\n".join(out) + "\n</div>"


def outlook_web_html(s: Sample, ref: str) -> str:
    style = 'style="font-family: Aptos, Aptos_EmbeddedFont, Calibri, Helvetica, sans-serif; font-size: 12pt; color: rgb(0, 0, 0);"'
    divs = []
    for para in s.body.split("\n\n"):
        for line in para.split("\n"):
            divs.append(f'<div class="elementToProof" {style}>{html.escape(line)}</div>')
        divs.append(f'<div class="elementToProof" {style}><br></div>')
    block = outlook_block(ref, "mobile").split("\n")
    head = "<br>\n".join(
        f"<b>{html.escape(line.split(':', 1)[0])}:</b>{html.escape(line.split(':', 1)[1])}" for line in block
    )
    return (
        '<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n'
        '<style type="text/css" style="display:none;"> P {margin-top:0;margin-bottom:0;} </style>\n'
        '</head>\n<body dir="ltr">\n' + "\n".join(divs) + '\n<div id="appendonsend"></div>\n'
        '<hr style="display:inline-block;width:98%" tabindex="-1">\n'
        '<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt" color="#000000">'
        + head + "</font>\n<div>&nbsp;</div>\n</div>\n" + original_html(ref) + "\n</body>\n</html>\n"
    )


def outlook_desktop_html(s: Sample, ref: str) -> str:
    ps = []
    for para in s.body.split("\n\n"):
        for line in para.split("\n"):
            ps.append(f'<p class="MsoNormal">{html.escape(line)}<o:p></o:p></p>')
        ps.append('<p class="MsoNormal"><o:p>&nbsp;</o:p></p>')
    block = outlook_block(ref).split("\n")
    head = "<br>\n".join(
        f"<b>{html.escape(line.split(':', 1)[0])}:</b>{html.escape(line.split(':', 1)[1])}" for line in block
    )
    return (
        '<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:w="urn:schemas-microsoft-com:office:word">\n<head>\n'
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n'
        '<style><!-- p.MsoNormal {margin:0cm; font-size:11.0pt; font-family:"Calibri",sans-serif;} --></style>\n'
        '</head>\n<body lang="EN-GB" link="#0563C1" vlink="#954F72" style="word-wrap:break-word">\n'
        '<div class="WordSection1">\n' + "\n".join(ps) + "\n"
        '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">\n'
        f'<p class="MsoNormal"><span lang="EN-US">{head}<o:p></o:p></span></p>\n</div>\n'
        '<p class="MsoNormal"><o:p>&nbsp;</o:p></p>\n' + original_html(ref) + "\n</div>\n</body>\n</html>\n"
    )


def gmail_inline_html(plain: str) -> str:
    """Gmail's HTML for answers written between quoted blocks: one blockquote per '>' run."""
    out: list[str] = []
    run: list[str] = []
    for line in [*plain.split("\n"), ""]:
        if line.startswith(">"):
            run.append(html.escape(line[1:].lstrip()))
            continue
        if run:
            out.append('<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid '
                       'rgb(204,204,204);padding-left:1ex">' + "<br>\n".join(run) + "</blockquote>")
            run = []
        out.append(f"<div>{html.escape(line)}</div>" if line.strip() else "<div><br></div>")
    return '<div dir="ltr">' + "\n".join(out) + "</div>\n"


def simple_html(body: str, quote_html: str) -> str:
    parts = "".join(f"<div>{p}</div><div><br></div>" for p in _html_paras(body))
    return f'<div dir="ltr">{parts}</div>{quote_html}\n'


# --- clients -------------------------------------------------------------------------------------


def qp(text: str) -> bytes:
    return quopri.encodestring(text.encode("utf-8")).replace(b"\r\n", b"\n")


def b64(text: str) -> bytes:
    data = base64.encodebytes(text.encode("utf-8")).decode("ascii")
    return data.encode("ascii")


def part(ctype: str, payload: bytes, cte: str) -> bytes:
    return f"Content-Type: {ctype}\nContent-Transfer-Encoding: {cte}\n\n".encode() + payload


def alternative(boundary: str, plain: bytes, html_part: bytes) -> tuple[str, bytes]:
    b = boundary.encode()
    body = b"--" + b + b"\n" + plain + b"\n--" + b + b"\n" + html_part + b"\n--" + b + b"--\n"
    return f'multipart/alternative; boundary="{boundary}"', body


def build_body(s: Sample, ref: str | None) -> tuple[str, bytes, str]:
    """(Content-Type, body bytes, Content-Transfer-Encoding or '') for the sample's client."""
    c = s.client
    tag = hashlib.sha256(s.name.encode()).hexdigest()[:16]
    if c == "new_message" or ref is None:
        return 'text/plain; charset="utf-8"', qp(s.body + "\n"), "quoted-printable"
    orig = original_text(ref)
    if c == "outlook_plain":
        text = f"{s.body}\n\n________________________________\n{outlook_block(ref)}\n\n{orig}\n"
        return 'text/plain; charset="utf-8"', qp(text), "quoted-printable"
    if c == "outlook_chain":  # RE: FW: - a colleague's forward sits between the reply and ours
        fw_from, fw_to, fw_when, fw_text = s.options["chain"]
        text = (f"{s.body}\n\n________________________________\nFrom: {fw_from}\nSent: {fw_when}\n"
                f"To: {fw_to}\nSubject: FW: {subject(ref)}\n\n{fw_text}\n\n"
                f"________________________________\n{outlook_block(ref)}\n\n{orig}\n")
        return 'text/plain; charset="utf-8"', qp(text), "quoted-printable"
    if c == "outlook_forward":
        text = f"{s.body}\n\n________________________________\n{outlook_block(ref)}\n\n{orig}\n"
        return 'text/plain; charset="utf-8"', qp(text), "quoted-printable"
    if c == "outlook_desktop_html":
        plain = f"{s.body}\n\n{outlook_block(ref)}\n\n{orig}\n"
        ctype, body = alternative(
            f"_000_{tag}_",
            part('text/plain; charset="utf-8"', qp(plain), "quoted-printable"),
            part('text/html; charset="utf-8"', qp(outlook_desktop_html(s, ref)), "quoted-printable"),
        )
        if s.options.get("attachment"):
            name, ctype_att, data = s.options["attachment"]
            mixed = f"_004_{tag}_"
            body = (f"--{mixed}\nContent-Type: {ctype}\n\n".encode() + body
                    + f"\n--{mixed}\nContent-Type: {ctype_att}; name=\"{name}\"\n"
                      f"Content-Disposition: attachment; filename=\"{name}\"\n"
                      "Content-Transfer-Encoding: base64\n\n".encode()
                    + base64.encodebytes(data) + f"\n--{mixed}--\n".encode())
            ctype = f'multipart/mixed; boundary="{mixed}"'
        return ctype, body, ""
    if c == "outlook_web_html":
        return 'text/html; charset="utf-8"', b64(outlook_web_html(s, ref)), "base64"
    if c == "outlook_mobile":
        app = s.options.get("app", "iOS")
        link = "https://aka.ms/o0ukef" if app == "iOS" else "https://aka.ms/AAb9ysg"
        plain = f"{s.body}\n\nGet Outlook for {app}<{link}>\n________________________________\n{outlook_block(ref, 'mobile')}\n\n{orig}\n"
        html_body = simple_html(s.body, f'<div dir="auto">Get <a href="{link}">Outlook for {app}</a></div>'
                                '<div id="appendonsend"></div><hr style="display:inline-block;width:98%" tabindex="-1">'
                                '<div id="divRplyFwdMsg" dir="ltr">'
                                + "<br>".join(html.escape(x) for x in outlook_block(ref, "mobile").split("\n"))
                                + "</div>" + original_html(ref))
        ctype, body = alternative(f"_000_{tag}_", part('text/plain; charset="utf-8"', qp(plain), "quoted-printable"),
                                  part('text/html; charset="utf-8"', qp(html_body), "quoted-printable"))
        return ctype, body, ""
    if c in ("gmail", "gmail_inline"):
        if c == "gmail":
            plain = f"{s.body}\n\n{gmail_attribution(ref)}\n\n{gt(orig)}\n"
        else:
            assert s.inline is not None
            first, second = s.inline
            head, _, rest = orig.partition(BULLET1)
            _, _, tail = rest.partition(BULLET2)
            quoted_tail = gt(tail.strip("\n"))
            plain = (f"{s.body}\n\n{gmail_attribution(ref)}\n\n{gt(head.rstrip())}\n>\n{gt(BULLET1)}\n\n{first}\n\n"
                     f"{gt(BULLET2)}\n\n{second}\n\n{quoted_tail}\n")
        quote = ('<br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
                 + html.escape(gmail_attribution(ref).replace("<\n", "<")) + '<br></div>'
                 '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">'
                 + original_html(ref) + "</blockquote></div>")
        html_body = simple_html(s.body, quote) if c == "gmail" else gmail_inline_html(plain)
        ctype, body = alternative(f"0000000000{tag}", part('text/plain; charset="UTF-8"', qp(plain), "quoted-printable"),
                                  part('text/html; charset="UTF-8"', qp(html_body), "quoted-printable"))
        return ctype, body, ""
    if c in ("apple", "ios"):
        footer = f"\n\nSent from my {s.options.get('device', 'iPhone')}" if c == "ios" else ""
        quoted = gt(apple_attribution(ref) + "\n\n" + orig, first_bom=False)
        if c == "ios":
            lines = quoted.split("\n")
            lines[2] = "> \ufeff" + lines[2][2:]
            quoted = "\n".join(lines)
        plain = f"{s.body}{footer}\n\n{quoted}\n"
        quote = ('<div dir="ltr"><br><blockquote type="cite">' + html.escape(apple_attribution(ref))
                 + "<br><br>" + original_html(ref) + "</blockquote></div>")
        ctype, body = alternative(f"Apple-Mail-{tag.upper()[:8]}-{tag.upper()[8:12]}",
                                  part("text/plain; charset=utf-8", qp(plain), "quoted-printable"),
                                  part("text/html; charset=utf-8", qp(simple_html(s.body + footer, quote)), "quoted-printable"))
        return ctype, body, ""
    if c == "thunderbird":  # top-posted, format=flowed, 8bit
        text = f"{s.body}\n\n{thunderbird_attribution(ref)}\n{gt(orig)}\n"
        return "text/plain; charset=UTF-8; format=flowed", _flowed(text).encode("utf-8"), "8bit"
    if c == "thunderbird_bottom":  # Thunderbird's default: the answer below the quote
        body, _, sig = s.body.partition("\n-- \n")
        text = f"{thunderbird_attribution(ref)}\n{gt(orig)}\n\n{body}\n" + (f"\n-- \n{sig}\n" if sig else "")
        return "text/plain; charset=UTF-8; format=flowed", _flowed(text).encode("utf-8"), "8bit"
    raise ValueError(f"unknown client {c}")


def _flowed(text: str) -> str:
    """Wrap long unquoted lines at 72 with trailing spaces (RFC 3676 soft breaks)."""
    out = []
    for line in text.split("\n"):
        if line.startswith(">") or len(line) <= 72 or line == "-- ":
            out.append(line)
            continue
        wrapped = textwrap.wrap(line, 72, break_long_words=False, break_on_hyphens=False)
        out += [w + " " for w in wrapped[:-1]] + [wrapped[-1]]
    return "\n".join(out)


# --- headers -------------------------------------------------------------------------------------

MAILERS = {
    "outlook_plain": ("mail-am6eur05on2091.outbound.protection.outlook.example", "198.51.100.91"),
    "outlook_chain": ("mail-am6eur05on2092.outbound.protection.outlook.example", "198.51.100.92"),
    "outlook_forward": ("mail-am6eur05on2093.outbound.protection.outlook.example", "198.51.100.93"),
    "outlook_desktop_html": ("mail-db5eur03on2101.outbound.protection.outlook.example", "198.51.100.101"),
    "outlook_web_html": ("mail-vi1eur04on2110.outbound.protection.outlook.example", "198.51.100.110"),
    "outlook_mobile": ("mail-he1eur02on2120.outbound.protection.outlook.example", "198.51.100.120"),
    "gmail": ("mail-sor-f41.google.example", "203.0.113.41"),
    "gmail_inline": ("mail-sor-f42.google.example", "203.0.113.42"),
    "apple": ("smtp.schoolmail.example", "203.0.113.60"),
    "ios": ("smtp.schoolmail.example", "203.0.113.61"),
    "thunderbird": ("smtp.schoolmail.example", "203.0.113.62"),
    "thunderbird_bottom": ("smtp.schoolmail.example", "203.0.113.63"),
    "new_message": ("mis-relay.schoolmail.example", "203.0.113.70"),
}


def build(s: Sample) -> bytes:
    name, address = PEOPLE[s.sender]
    domain = address.rpartition("@")[2]
    when = parsedate_to_datetime(s.date)
    tag = hashlib.sha256(s.name.encode()).hexdigest()
    host, ip = MAILERS["new_message" if s.client == "unmatched" else s.client]
    dmarc = s.options.get("dmarc", "pass")
    h: list[str] = [
        f"Return-Path: <{address}>",
        "Delivered-To: attendance@service.example",
        f"Received: from {host} ({host} [{ip}])\n\tby mx1.service.example (Postfix) with ESMTPS id {tag[:10].upper()}\n"
        f"\tfor <attendance@service.example>; {format_datetime(when + timedelta(seconds=4))}",
        f"Authentication-Results: mx1.service.example;\n\tdkim=pass (2048-bit key) header.d={domain} header.s=selector1 "
        f"header.b={tag[10:18]};\n\tspf=pass smtp.mailfrom={domain};\n\tdmarc={dmarc} (p=QUARANTINE sp=QUARANTINE dis=NONE) "
        f"header.from={domain}",
        f"From: {name} <{address}>",
    ]
    case = CASES.get(s.case or "")
    if s.client == "outlook_forward":
        h.append(f"To: {s.options['to']}")
        h.append("CC: MNHES Attendance <attendance@service.example>")
    elif case:
        h.append(f"To: {case[3]} via MNHES Attendance <attendance@service.example>")
        others = [_addr(n, a) for n, a in recipients(s.case) if a != address]
        cc = ", ".join([*others, "MNHES Designated Safeguarding Lead <dsl@service.example>"])
        h.append(f"CC: {cc}")
    else:
        h.append("To: MNHES Attendance <attendance@service.example>")
    subj = s.options.get("subject")
    if subj is None:
        prefix = {"gmail": "Re: ", "gmail_inline": "Re: ", "apple": "Re: ", "ios": "Re: ", "thunderbird": "Re: ",
                  "thunderbird_bottom": "Re: ", "outlook_forward": "FW: ", "outlook_chain": "RE: FW: "}.get(s.client, "RE: ")
        subj = prefix + subject(s.case) if case else "Pupil not seen"
    h.append(f"Subject: {subj}")
    h.append(f"Date: {s.date}")
    mid = s.options.get("message_id") or f"<{tag[:24].upper()}@{domain}>"
    h.append(f"Message-ID: {mid}")
    threaded = case and s.client not in ("new_message", "unmatched")
    if threaded:
        ours = message_id(s.case)
        if s.client == "outlook_forward":
            h.append(f"References: {ours}")
        elif s.client == "outlook_chain":
            theirs = f"<{tag[24:48].upper()}@{domain}>"
            h.append(f"References: {ours}\n {theirs}")
            h.append(f"In-Reply-To: {theirs}")
        else:
            h.append(f"References: {ours}")
            h.append(f"In-Reply-To: {ours}")
    for extra in s.options.get("headers", []):
        h.append(extra)
    if s.client.startswith("outlook"):
        h += ["Accept-Language: en-GB, en-US", "Content-Language: en-GB", "X-MS-Has-Attach:" + (" yes" if s.options.get("attachment") else ""),
              "X-MS-TNEF-Correlator:"]
    if s.client in ("thunderbird", "thunderbird_bottom"):
        h.append("User-Agent: Mozilla Thunderbird")
    if s.client in ("apple",):
        h.append("X-Mailer: Apple Mail (2.3774.500.171.1.1)")
    if s.client == "ios":
        h.append("X-Mailer: iPhone Mail (22B91)")
    ctype, body, cte = build_body(s, s.case if threaded or s.client == "outlook_forward" else None)
    h.append("MIME-Version: 1.0")
    h.append(f"Content-Type: {ctype}")
    if cte:
        h.append(f"Content-Transfer-Encoding: {cte}")
    raw = ("\n".join(h) + "\n\n").encode("utf-8") + body
    if s.options.get("bare_lf"):
        return raw
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


# --- the samples ---------------------------------------------------------------------------------
# expect = (kind, check_date, outcome, next_steps or None, needs_review)

CD, CR, PS, OT, AR = "check_done", "check_requested", "pupil_seen", "other", "auto_reply"

SAMPLES: list[Sample] = [
    # check_done, seen_safe ---------------------------------------------------------------------
    Sample("p01-outlook-plain-visit-number-inside", "NS-2101", "outlook_plain", "sb", "Tue, 24 Nov 2026 10:05:41 +0000",
           "Hi Amara,\n\nHome visit 12 done this morning, seen and well.\n\nThanks\nSiobhan",
           (CD, "2026-11-24", "seen_safe", None, False),
           "The brief's failing example: a number between 'visit' and 'done'. 'this morning' = Date header day."),
    Sample("p02-gmail-flo-carried-out-visit", "NS-2102", "gmail", "mo", "Mon, 23 Nov 2026 16:40:12 +0000",
           "Hi Tom,\n\nOur FLO carried out a home visit this afternoon. C.D. was seen - she was in her pyjamas "
           "watching TV but was chatty and seemed fine. Mum says she has had a migraine most of last week. "
           "She should be back in on Wednesday.\n\nMarcus",
           (CD, "2026-11-23", "seen_safe", "C.D. should be back on Wednesday 25 November 2026.", False),
           "FLO abbreviation; 'carried out a home visit this afternoon'; seen and fine."),
    Sample("p03-apple-doorstep-visit-yesterday", "NS-2104", "apple", "re", "Wed, 25 Nov 2026 08:31:09 +0000",
           "We did a doorstep visit yesterday - G.H. came to the door with dad, looked well. No concerns.\n\nRob",
           (CD, "2026-11-24", "seen_safe", None, False),
           "Apple Mail, '> On ... wrote:' quoted attribution. 'did a doorstep visit'; 'No concerns' is negated."),
    Sample("p04-ios-visited-last-night", "NS-2105", "ios", "ha", "Tue, 24 Nov 2026 07:12:55 +0000",
           "Visited last night with our learning mentor. I.K. seen, all ok. Mum says he'll be in tomorrow.",
           (CD, "2026-11-23", "seen_safe", "I.K. will be in tomorrow (25 November 2026).", False),
           "iOS Mail: 'Sent from my iPhone' then a '>' quote whose first line carries U+FEFF. 'last night' = 23 Nov."),
    Sample("p05-thunderbird-bottom-safe-and-well-check", "NS-2107", "thunderbird_bottom", "ak", "Tue, 24 Nov 2026 12:20:03 +0000",
           "Dear Farah,\n\nI conducted a safe and well check at N.P.'s home on Monday 23rd at approx. 3.45pm "
           "together with our EWO. N.P. was seen in the living room with his older brother and mum. He appeared "
           "well and happy and the house was warm and tidy. He has been off with tonsillitis and is on antibiotics. "
           "We have agreed he will return to MNHES on Thursday 26th.\n\nKind regards\n\nAgnieszka Kowalczyk\n"
           "Head of Year 9\nRiverside Community College",
           (CD, "2026-11-23", "seen_safe", "N.P. will return to MNHES on Thursday 26 November 2026.", False),
           "Thunderbird bottom-posting (quote first, answer below), format=flowed. 'Monday 23rd' explicit; '3.45pm' is a time."),
    Sample("p06-outlook-mobile-terse-lowercase", "NS-2109", "outlook_mobile", "sb", "Wed, 25 Nov 2026 13:02:44 +0000",
           "welfare check completed 25/11 - T.W. seen, fine",
           (CD, "2026-11-25", "seen_safe", None, False),
           "Outlook for iOS ('Get Outlook for iOS' then the header block); terse, no capitals, no full stop."),
    Sample("p07-outlook-plain-all-caps", "NS-2101", "outlook_plain", "oak_office", "Mon, 23 Nov 2026 15:48:20 +0000",
           "HOME VISIT DONE TODAY BY MRS PATEL (FLO). A.B. SEEN AND WELL. NO CONCERNS.\n\nOAKFIELD OFFICE",
           (CD, "2026-11-23", "seen_safe", None, False),
           "All capitals from the registered office address."),
    Sample("p08-ios-no-punctuation", "NS-2102", "ios", "riv_att", "Tue, 24 Nov 2026 09:58:01 +0000",
           "hi tom did home visit this morning seen cd all fine she will be back in monday thx",
           (CD, "2026-11-24", "seen_safe", "She will be back in on Monday (30 November 2026).", False),
           "No punctuation or capitals at all; initials written 'cd'; 'did home visit' without an article."),
    Sample("p09-outlook-desktop-bullet-form", "NS-2104", "outlook_desktop_html", "jm", "Tue, 24 Nov 2026 14:15:37 +0000",
           "Hi Farah,\n\nHome visit update for G.H.:\n\n- Date: 24/11/2026\n- Carried out by: J McGrath (Attendance "
           "Officer) and R Ellison (DSL)\n- Outcome: G.H. seen at home, safe and well\n- Next steps: return to MNHES "
           "on Monday 30th\n\nThanks\nJo",
           (CD, "2026-11-24", "seen_safe", "Return to MNHES on Monday 30 November 2026.", False),
           "Outlook desktop multipart/alternative; the answer laid out as the bullet list our email asks for."),
    Sample("p10-gmail-form-fields-next-steps-none", "NS-2107", "gmail", "riv_att", "Wed, 25 Nov 2026 11:11:11 +0000",
           "Hello,\n\nDate of visit: 23.11.26\nCarried out by: EWO (Mr Hussain)\nOutcome: seen, no concerns\n"
           "Next steps: none\n\nRiverside Attendance Team",
           (CD, "2026-11-23", "seen_safe", None, False),
           "Form-style answer with field labels; '23.11.26' dotted date with a two-digit year; 'Next steps: none' -> null."),
    Sample("p11-outlook-web-teams-video-time-trap", "NS-2105", "outlook_web_html", "ha", "Wed, 25 Nov 2026 12:40:00 +0000",
           "Good afternoon,\n\nWe did a video call with I.K. and mum on Teams at 11.10 this morning as mum has covid "
           "and asked us not to come to the house. I.K. was seen, he was cheerful and showed me his Lego. No concerns."
           "\n\nHelen Ashdown\nHeadteacher and DSL",
           (CD, "2026-11-25", "seen_safe", None, False),
           "HTML-only Outlook on the web. A video check counts; '11.10' is a time, not 11 October."),
    Sample("p12-apple-facetime-flo-domain-sender", "NS-2109", "apple", "oak_flo", "Thu, 26 Nov 2026 09:20:31 +0000",
           "Hi Amara\n\nJust to update you, I FaceTimed T.W. and her mum yesterday afternoon. She looked well and was "
           "in good spirits, mum says she has had a bad cold.\n\nKerry Dunne\nFamily Liaison Officer",
           (CD, "2026-11-25", "seen_safe", None, False),
           "FLO at the school's domain (not registered: verified by domain). FaceTime = video check, child seen."),
    Sample("p13-outlook-plain-bst-undertook-welfare-check", "NS-2110", "outlook_plain", "dc", "Tue, 13 Oct 2026 09:12:33 +0100",
           "Hi Tom,\n\nOur attendance officer undertook a welfare check on Saturday morning. Y.Z. was seen at home "
           "with mum and his sister and appeared well. He is recovering from a chest infection and mum expects him "
           "back with you on Thursday.\n\nRegards\nDev",
           (CD, "2026-10-10", "seen_safe", "Mum expects Y.Z. back on Thursday 15 October 2026.", False),
           "October (BST, +0100 Date). 'on Saturday' = the most recent Saturday before Tue 13 Oct."),
    Sample("p14-gmail-second-domain-month-boundary", "NS-2111", "gmail", "pn_trust", "Tue, 1 Dec 2026 16:05:52 +0000",
           "Hi Bethan,\n\nI made a home visit on Mon 30th with our pastoral manager. O.A. seen, she is fine and will "
           "be back in school tomorrow.\n\nPrecious",
           (CD, "2026-11-30", "seen_safe", "O.A. will be back in school tomorrow (2 December 2026).", False),
           "Sender at the school's second domain. 'Mon 30th' written on 1 December means 30 November."),
    Sample("p15-outlook-desktop-risk-quote-safe-and-well", "NS-2112", "outlook_desktop_html", "ha", "Wed, 25 Nov 2026 08:02:17 +0000",
           "Good morning,\n\nSafe and well check carried out at 4pm yesterday by myself and our SENCo. K.J. was seen; "
           "he was in good spirits and the home was fine. No safeguarding concerns.\n\nHelen",
           (CD, "2026-11-24", "seen_safe", None, False),
           "Quoted original is the safeguarding-risk version (police, 999, social care): no flag."),
    Sample("p16-gmail-23rd-november-signature-child-protection", "NS-2103", "gmail", "pn", "Wed, 25 Nov 2026 10:27:40 +0000",
           "Dear Bethan,\n\nWelfare check completed on 23rd November by our DSL and EWO. E.F. was seen at his "
           "grandmother's address, he was well and happy to see us.\n\nKind regards\nPrecious Nwosu\n"
           "DSL / Child Protection Lead\nSt Aidan's CE Academy",
           (CD, "2026-11-23", "seen_safe", None, False),
           "'23rd November'; the signature's 'Child Protection Lead' is a role, not a risk; the quote is the risk version."),
    Sample("p17-outlook-mobile-typo-vist", "NS-2106", "outlook_mobile", "dc", "Tue, 24 Nov 2026 11:47:03 +0000",
           "Hi, home vist done this morning by our FLO, L.M. seen and safe, no concerns",
           (CD, "2026-11-24", "seen_safe", None, False),
           "Typo 'vist'; no full stop; risk-version quote below."),
    Sample("p88-outlook-desktop-hoy-and-i", "NS-2102", "outlook_desktop_html", "ak", "Thu, 26 Nov 2026 10:00:00 +0000",
           "Hi Tom,\n\nOur SENCo and I made a home visit on Tuesday after school. C.D. was seen with mum, she is OK "
           "and says she will be back at MNHES next week.\n\nAgnieszka",
           (CD, "2026-11-24", "seen_safe", "C.D. will be back at MNHES next week.", False),
           "Head of Year (registered by the school's contact list). 'on Tuesday' = 24 Nov."),
    Sample("p89-gmail-at-sign-time", "NS-2107", "gmail", "ak", "Thu, 26 Nov 2026 16:20:00 +0000",
           "Visited N.P. 23rd Nov @ 16:00 with DSL - seen, well, no concerns. Return date agreed for Mon 30th.",
           (CD, "2026-11-23", "seen_safe", "Return date agreed for Monday 30 November 2026.", False),
           "'23rd Nov @ 16:00'; terse list of outcomes."),
    Sample("p90-outlook-plain-deputy-and-i-monday-afternoon", "NS-2105", "outlook_plain", "ha", "Fri, 27 Nov 2026 09:00:00 +0000",
           "Morning Amara,\n\nOur deputy DSL and I carried out a home visit on Monday afternoon. I.K. was seen and is "
           "much better, no concerns.\n\nHelen",
           (CD, "2026-11-23", "seen_safe", None, False),
           "'on Monday afternoon' written on Friday 27 Nov = 23 Nov."),
    Sample("p91-ios-last-friday", "NS-2111", "ios", "pn", "Mon, 30 Nov 2026 08:10:00 +0000",
           "We visited last Friday after your email came in - O.A. was seen and is OK. She'll be in with you this week.",
           (CD, "2026-11-27", "seen_safe", "O.A. will be in with MNHES this week.", False),
           "'last Friday' on Monday 30 Nov = 27 Nov."),
    Sample("p95-outlook-chain-re-fw-flo", "NS-2101", "outlook_chain", "oak_flo", "Wed, 25 Nov 2026 17:00:00 +0000",
           "Hi Amara,\n\nI'm the FLO at Oakfield - Mrs Brennan asked me to reply. I did a home visit on 23/11 and A.B. "
           "was seen in the garden with his brother. All fine at home, he will be back with you on Monday.\n\n"
           "Kerry Dunne\nFamily Liaison Officer",
           (CD, "2026-11-23", "seen_safe", "A.B. will be back with MNHES on Monday 30 November 2026.", False),
           "RE: FW: chain: In-Reply-To is the school's forward, our id in References. The quoted forward asks "
           "'could you do a home visit' (to the FLO): quoted, so not a request.",
           options={"chain": ("Siobhan Brennan <s.brennan@oakfield-primary.example>",
                              "Kerry Dunne <k.dunne@oakfield-primary.example>", "Monday, 23 November 2026 08:12",
                              "Kerry, could you do a home visit for A.B. please? Thanks, S")}),
    Sample("p96-outlook-plain-formal-long-disclaimer", "NS-2108", "outlook_plain", "re", "Tue, 24 Nov 2026 16:30:00 +0000",
           "Dear Bethan,\n\nThank you for your email. I can confirm that a home visit was undertaken this morning by "
           "our Attendance Officer, Mrs McGrath, and our Pastoral Lead. R.S. was seen at the property with his "
           "mother. He appeared well, was appropriately dressed and engaged in conversation. His mother reports that "
           "he has been unwell with a stomach bug and she will ensure he attends MNHES from tomorrow. There are no "
           "safeguarding concerns arising from the visit.\n\nKind regards\n\nRob Ellison\nAssistant Headteacher | "
           "Designated Safeguarding Lead | Child Protection Officer\nBeckett Park High School\n\n"
           "This email and any files transmitted with it are confidential and intended solely for the use of the "
           "individual to whom they are addressed. If you have received this email in error please notify the "
           "sender. Any safeguarding concern should be reported to the police or children's social care.",
           (CD, "2026-11-24", "seen_safe", "R.S. will attend MNHES from tomorrow (25 November 2026).", False),
           "Long formal reply; signature role 'Child Protection Officer' and a disclaimer naming the police and "
           "social care: neither is the sender's report."),
    Sample("p97-outlook-mobile-android-visit-at-time", "NS-2107", "outlook_mobile", "riv_att", "Fri, 27 Nov 2026 10:45:00 +0000",
           "Home visit at 9.30 done, N.P. seen, fine.",
           (CD, "2026-11-27", "seen_safe", None, False),
           "Outlook for Android. A time inside the phrase; no date word: the Date header's day.",
           options={"app": "Android"}),
    Sample("p98-gmail-ewo-conducted-wednesday-25th", "NS-2102", "gmail", "mo", "Thu, 26 Nov 2026 09:30:00 +0000",
           "Tom - the EWO conducted a home visit on Wednesday 25th. C.D. seen, no concerns, returning Monday.",
           (CD, "2026-11-25", "seen_safe", "Returning Monday (30 November 2026).", False),
           "'conducted a home visit'; 'Wednesday 25th'."),
    Sample("p99-new-message-token-in-body", "NS-2104", "new_message", "re", "Wed, 25 Nov 2026 13:40:00 +0000",
           "Re NS-2104 - home visit made 25/11, G.H. seen, no concerns.\n\nRob Ellison\nBeckett Park High School",
           (CD, "2026-11-25", "seen_safe", None, False),
           "A new message (no threading, subject without token): the case is found from NS-2104 in the body.",
           options={"subject": "Home visit"}),
    # check_done, not_seen ----------------------------------------------------------------------
    Sample("p18-ios-visited-2x-no-answer", "NS-2108", "ios", "re", "Thu, 26 Nov 2026 08:15:00 +0000",
           "Visited 2x yesterday (11am and 3.30pm), no answer either time. Card left through the door. Will try "
           "again today with the EWO.",
           (CD, "2026-11-25", "not_seen", "Will try again today (26 November 2026) with the EWO.", True),
           "'Visited 2x'; no answer at the door -> not_seen -> review. Sent from my iPad.",
           options={"device": "iPad"}),
    Sample("p19-outlook-plain-no-answer-at-door", "NS-2101", "outlook_plain", "sb", "Tue, 24 Nov 2026 09:40:00 +0000",
           "Hi Amara,\n\nWe called at the house at 8.45 this morning but there was no answer at the door. A neighbour "
           "thinks the family may be away. We will try again this afternoon.\n\nSiobhan",
           (CD, "2026-11-24", "not_seen", "The school will try again this afternoon.", True),
           "'called at the house' = a visit; 'no answer at the door' -> not_seen."),
    Sample("p20-gmail-spoke-to-mum-did-not-see", "NS-2102", "gmail", "mo", "Tue, 24 Nov 2026 08:55:31 +0000",
           "Tom,\n\nSpoke to mum at the door yesterday but did not see C.D. - mum said she was asleep upstairs and "
           "wouldn't wake her. We have asked mum to bring her in for a meeting on Friday.\n\nMarcus",
           (CD, "2026-11-23", "not_seen", "Mum asked to bring C.D. in for a meeting on Friday 27 November 2026.", True),
           "Only a parent was spoken to; the child was not seen."),
    Sample("p21-outlook-web-phoned-mum-only", "NS-2104", "outlook_web_html", "jm", "Tue, 24 Nov 2026 12:03:10 +0000",
           "Hi,\n\nPhoned mum today, she says G.H. is fine and just has a cold. I didn't get to speak to G.H. "
           "herself.\n\nJo McGrath\nAttendance Officer",
           (CD, "2026-11-24", "not_seen", None, True),
           "A phone check with the parent only: not a sighting -> not_seen."),
    Sample("p22-ios-rang-home-mum-only-terse", "NS-2105", "ios", "ha", "Mon, 23 Nov 2026 17:31:09 +0000",
           "rang home today, spoke to mum only, says hes ok",
           (CD, "2026-11-23", "not_seen", None, True),
           "Terse phone check; 'spoke to mum only' -> not_seen."),
    Sample("p23-outlook-desktop-ewo-knocked-twice", "NS-2107", "outlook_desktop_html", "ak", "Wed, 25 Nov 2026 15:30:00 +0000",
           "Dear Farah,\n\nOur EWO knocked at the address twice on Tuesday - curtains closed, no response. A letter "
           "was posted through the door. We will visit again on Friday with our attendance officer.\n\nAgnieszka",
           (CD, "2026-11-24", "not_seen", "The school will visit again on Friday 27 November 2026.", True),
           "'knocked at the address'; 'no response' -> not_seen; 'on Tuesday' = 24 Nov."),
    Sample("p24-apple-grandad-answered-not-seen", "NS-2109", "apple", "oak_flo", "Wed, 25 Nov 2026 11:45:26 +0000",
           "Hi Amara,\n\nI went out to the house this morning. Grandad answered and said T.W. is staying with her dad "
           "this week, so I could not see her. We will try to get dad's address and visit there.\n\nKerry",
           (CD, "2026-11-25", "not_seen", "The school will try to get dad's address and visit there.", True),
           "The child is somewhere the checker could not see her -> not_seen."),
    Sample("p25-thunderbird-bst-would-not-open-door", "NS-2110", "thunderbird", "dc", "Tue, 13 Oct 2026 16:22:05 +0100",
           "Tom\n\nOur attendance officer visited on Saturday but Y.Z. was not seen - mum would only talk through the "
           "window and would not open the door. We will try again this week with the EWO.\n\nDev",
           (CD, "2026-10-10", "not_seen", "The school will try again this week with the EWO.", True),
           "Thunderbird top-posted (format=flowed), BST. Not seen; mum would not open the door."),
    Sample("p26-outlook-plain-no-one-home-december", "NS-2111", "outlook_plain", "sa_welfare", "Wed, 2 Dec 2026 09:14:47 +0000",
           "Home visit carried out 1/12 at 2.15pm. No one home and the neighbours have not seen the family for a few "
           "days. DSL informed and will try phone contact today.\n\nSt Aidan's Welfare Team",
           (CD, "2026-12-01", "not_seen", "The DSL will try phone contact today (2 December 2026).", True),
           "'1/12' = 1 December; 'No one home' -> not_seen."),
    Sample("p27-outlook-mobile-doorstep-lunchtime", "NS-2112", "outlook_mobile", "ha", "Mon, 23 Nov 2026 13:20:08 +0000",
           "Did a doorstep visit at lunchtime, no answer. Mum's phone going to voicemail. Will go back after school.",
           (CD, "2026-11-23", "not_seen", "Will go back after school.", True),
           "No date word ('at lunchtime'): the Date header's day. Risk-version quote."),
    Sample("p28-gmail-inline-visit-attempted", "NS-2106", "gmail_inline", "dc", "Tue, 24 Nov 2026 17:05:00 +0000",
           "Hi Tom, see below.",
           (CD, "2026-11-24", "not_seen", "The school will go again on Thursday 26 November 2026.", True),
           "Inline answers between our quoted bullets: 'Visit attempted ... nobody home'; 'Not at this stage' answers "
           "the request bullet.",
           inline=("Visit attempted Tues 24th by me and our EWO - nobody home.",
                   "Not at this stage, we will go again on Thursday.")),
    Sample("p92-outlook-mobile-not-seen-at-dads", "NS-2112", "outlook_mobile", "ha", "Wed, 25 Nov 2026 16:45:00 +0000",
           "Home visit done yesterday, K.J. not seen - mum said he was at his dad's. Will try dad's number tomorrow.",
           (CD, "2026-11-24", "not_seen", "Will try dad's number tomorrow (26 November 2026).", True),
           "'K.J. not seen' after a visit done."),
    Sample("p93-apple-video-call-would-not-come-on-camera", "NS-2106", "apple", "dc", "Thu, 26 Nov 2026 14:20:00 +0000",
           "Video call with mum at 1pm today but L.M. wouldn't come on camera, mum says she's in bed. We will visit "
           "in person tomorrow.",
           (CD, "2026-11-26", "not_seen", "The school will visit in person tomorrow (27 November 2026).", True),
           "A video check in which the child was not seen -> not_seen."),
    # check_done, concerns ----------------------------------------------------------------------
    Sample("p29-outlook-plain-some-concerns-home", "NS-2101", "outlook_plain", "sb", "Wed, 25 Nov 2026 10:10:10 +0000",
           "Hi Amara,\n\nOur FLO did a home visit yesterday. A.B. was seen, but we have some concerns about the home "
           "- it was very cluttered and there was no food in the fridge. We will discuss at our pastoral meeting on "
           "Thursday and follow up with mum.\n\nSiobhan",
           (CD, "2026-11-24", "concerns", "Pastoral meeting on Thursday 26 November 2026; follow up with mum.", True),
           "Seen, some concerns about the home, no referral -> concerns."),
    Sample("p30-gmail-not-threshold-worried", "NS-2104", "gmail", "re", "Tue, 24 Nov 2026 16:44:12 +0000",
           "Seen at home 24/11 by HOY. G.H. looked pale and tired and was quite withdrawn. Mum is struggling. Not at "
           "the threshold for a referral at this point but we are worried and will monitor closely.\n\nRob Ellison\nDSL",
           (CD, "2026-11-24", "concerns", "The school will monitor closely.", True),
           "HOY; a negated referral is still concerns."),
    Sample("p31-outlook-plain-caps-concerns-heating", "NS-2107", "outlook_plain", "riv_att", "Mon, 23 Nov 2026 16:00:00 +0000",
           "HOME VISIT COMPLETED 23/11. N.P. SEEN. CONCERNS RE HOME CONDITIONS - NO HEATING. EARLY HELP OFFERED TO "
           "MUM. WILL REVISIT FRIDAY.",
           (CD, "2026-11-23", "concerns", "Will revisit Friday (27 November 2026).", True),
           "All capitals; early help offered (not a referral made) -> concerns."),
    Sample("p32-apple-bruise-logged-monitor", "NS-2109", "apple", "sb", "Thu, 26 Nov 2026 15:52:00 +0000",
           "I visited T.W. this afternoon. She was seen and spoke to me but had a bruise on her cheek which she said "
           "was from PE. Mum gave the same account. I have logged it on CPOMS and we will monitor.",
           (CD, "2026-11-26", "concerns", "The school will monitor.", True),
           "An injury seen and logged, no referral -> concerns; 'bruise' is a risk word."),
    Sample("p33-ios-seen-some-concerns-dsl-aware", "NS-2102", "ios", "riv_att", "Tue, 24 Nov 2026 14:41:00 +0000",
           "Home visit done today. C.D. seen, some concerns about the home. DSL aware.",
           (CD, "2026-11-24", "concerns", None, True),
           "Terse concerns; 'DSL aware' is not a next step."),
    Sample("p34-outlook-web-not-himself-mash-threshold", "NS-2105", "outlook_web_html", "ha", "Thu, 26 Nov 2026 09:33:00 +0000",
           "Carried out a welfare check this morning - I.K. seen but did not look himself, very quiet and thin. Mum "
           "says he's not eating. It doesn't meet the threshold for MASH yet; we'll ring the GP with mum's consent "
           "and review on Monday.",
           (CD, "2026-11-26", "concerns", "Ring the GP with mum's consent; review on Monday 30 November 2026.", True),
           "Negated MASH threshold -> concerns (MASH is still a risk word: review)."),
    Sample("p94-gmail-hygiene-concerns", "NS-2109", "gmail", "sb", "Tue, 24 Nov 2026 13:13:00 +0000",
           "Home visit made this morning by our EWO, T.W. seen. Concerns about hygiene - she was in dirty clothes "
           "and the house smelt strongly of damp. We'll follow up with mum next week.",
           (CD, "2026-11-24", "concerns", "The school will follow up with mum next week.", True),
           "'Home visit made'; concerns about hygiene."),
    # check_done, referred ----------------------------------------------------------------------
    Sample("p35-outlook-plain-referral-csc", "NS-2103", "outlook_plain", "pn", "Wed, 25 Nov 2026 12:12:12 +0000",
           "Dear Bethan,\n\nHome visit completed yesterday by our DSL and FLO. E.F. was seen but there were "
           "significant concerns about the home conditions and a mark on his arm. We have made a referral to "
           "children's social care this morning and will share the outcome when we have it.\n\nPrecious",
           (CD, "2026-11-24", "referred", "Referral made to children's social care; the school will share the outcome.", True),
           "Referral to children's social care made -> referred."),
    Sample("p36-gmail-referred-to-mash", "NS-2106", "gmail", "dc", "Mon, 23 Nov 2026 15:15:00 +0000",
           "Visited at 10am. L.M. seen. Disclosure made - referred to MASH same day. Strategy discussion planned for "
           "tomorrow.",
           (CD, "2026-11-23", "referred", "Referred to MASH; strategy discussion tomorrow (24 November 2026).", True),
           "'referred to MASH'; no date word: the Date header's day."),
    Sample("p37-outlook-desktop-police-informed-csc", "NS-2108", "outlook_desktop_html", "re", "Wed, 25 Nov 2026 09:09:09 +0000",
           "Visited Tuesday, R.S. seen, he had a mark on his face and was reluctant to talk. Police informed and CSC "
           "referral submitted.",
           (CD, "2026-11-24", "referred", "Police informed; CSC referral submitted.", True),
           "Police informed and a CSC referral -> referred."),
    Sample("p38-thunderbird-early-help-referral", "NS-2112", "thunderbird", "ha", "Wed, 25 Nov 2026 10:00:00 +0000",
           "Home visit completed 24.11.26 with EWO. K.J. seen. Referral to early help made today with mum's agreement.",
           (CD, "2026-11-24", "referred", "Referral to early help made 25 November 2026.", True),
           "Early help referral counts as referred (the brief); '24.11.26' explicit."),
    Sample("p39-ios-referred-childrens-services-this-pm", "NS-2101", "ios", "sb", "Thu, 26 Nov 2026 17:10:00 +0000",
           "Safe and well check done this pm by FLO and DSL - A.B. seen. Concerns re home so we have referred to "
           "children's services. Outcome to follow.",
           (CD, "2026-11-26", "referred", "Referred to children's services; outcome to follow.", True),
           "'this pm' = that day; referred to children's services."),
    Sample("p40-outlook-plain-police-called-referral", "NS-2104", "outlook_plain", "re", "Thu, 26 Nov 2026 08:40:00 +0000",
           "Hi Farah,\n\nFurther to my call: our EWO and I visited G.H. yesterday evening. She was seen but disclosed "
           "an incident at home, so the police were called and a referral has been made to social care. Social care "
           "are leading now.\n\nRob",
           (CD, "2026-11-25", "referred", "Referral made to social care; social care are leading.", True),
           "Police called and referral made -> referred."),
    # check_done, outcome only elsewhere ---------------------------------------------------------
    Sample("p41-outlook-desktop-see-attached-form", "NS-2107", "outlook_desktop_html", "ak", "Tue, 24 Nov 2026 10:30:00 +0000",
           "Hi Farah,\n\nHome visit was done on Monday, please see the attached visit form.\n\nAgnieszka",
           (CD, "2026-11-23", None, None, True),
           "The outcome is only in the attached PDF: outcome null, review.",
           options={"attachment": ("Home visit record N.P..pdf", "application/pdf",
                                   b"%PDF-1.4\n% synthetic scan, no text layer\n%%EOF\n")}),
    Sample("p42-gmail-outcome-to-follow", "NS-2109", "gmail", "oak_office", "Wed, 25 Nov 2026 12:00:00 +0000",
           "Hi, our FLO has done a home visit today, she will email you the outcome later.\n\nOakfield Office",
           (CD, "2026-11-25", None, "The FLO will email the outcome later.", True),
           "A visit done, outcome not stated -> outcome null, review."),
    # check_requested ---------------------------------------------------------------------------
    Sample("p43-gmail-could-mnhes-please-visit", "NS-2101", "gmail", "sb", "Mon, 23 Nov 2026 08:50:00 +0000",
           "Hi Amara,\n\nCould MNHES please visit? Our FLO is on a course all week and I can't release anyone else."
           "\n\nThanks\nSiobhan",
           (CR, None, None, None, False), "'Could MNHES please visit?'"),
    Sample("p44-outlook-plain-like-the-service-to-do-check", "NS-2102", "outlook_plain", "mo", "Mon, 23 Nov 2026 10:20:00 +0000",
           "We'd like the Service to do the check please - mum has told us she won't let school staff in.",
           (CR, None, None, None, False), "'We'd like the Service to do the check'."),
    Sample("p45-ios-relationship-broken-can-you-go", "NS-2104", "ios", "re", "Mon, 23 Nov 2026 19:02:00 +0000",
           "Relationship with family has broken down, can you go?",
           (CR, None, None, None, False), "Terse request: 'can you go?' after 'relationship ... broken down'."),
    Sample("p46-outlook-web-one-of-your-team", "NS-2105", "outlook_web_html", "ha", "Tue, 24 Nov 2026 08:05:00 +0000",
           "Please could one of your team carry out the home visit? Dad is more likely to engage with MNHES than "
           "with us.",
           (CR, None, None, None, False), "'one of your team carry out the home visit'."),
    Sample("p47-outlook-mobile-can-you-do-welfare-check", "NS-2107", "outlook_mobile", "ak", "Mon, 23 Nov 2026 12:34:00 +0000",
           "Can you do the welfare check? We have no capacity this week.",
           (CR, None, None, None, False), "'Can you do the welfare check?'"),
    Sample("p48-apple-wonder-if-you-could-arrange", "NS-2109", "apple", "sb", "Mon, 23 Nov 2026 14:14:00 +0000",
           "Hi Amara,\n\nI wonder if you could arrange a home visit, as the family know T.W.'s tutor well and mum "
           "trusts her.\n\nSiobhan",
           (CR, None, None, None, False), "Indirect request: 'I wonder if you could arrange a home visit'."),
    Sample("p49-outlook-plain-grateful-undertake", "NS-2110", "outlook_plain", "dc", "Mon, 12 Oct 2026 09:45:00 +0100",
           "Dear Tom,\n\nWe would be grateful if MNHES would undertake the visit on this occasion, as relations "
           "between the family and school are strained.\n\nKind regards\nDev Chauhan",
           (CR, None, None, None, False), "'grateful if MNHES would undertake the visit'."),
    Sample("p50-gmail-would-it-be-possible", "NS-2111", "gmail", "pn", "Mon, 30 Nov 2026 11:00:00 +0000",
           "Would it be possible for MNHES to do the home visit? Mum has asked for it to be someone from your service.",
           (CR, None, None, None, False), "'Would it be possible for MNHES to do the home visit?'"),
    Sample("p51-outlook-desktop-take-this-one", "NS-2103", "outlook_desktop_html", "sa_welfare", "Mon, 23 Nov 2026 09:30:00 +0000",
           "Please can the Service take this one - our DSL is off sick and we don't have anyone trained to go out.",
           (CR, None, None, None, False), "'can the Service take this one'; risk-version quote."),
    Sample("p52-gmail-inline-yes-please", "NS-2106", "gmail_inline", "km_att", "Mon, 23 Nov 2026 10:45:00 +0000",
           "Answers below",
           (CR, None, None, None, False),
           "Inline: 'No.' under the check-done bullet, 'Yes please - we'd like MNHES to do it' under the request bullet.",
           inline=("No.", "Yes please - we'd like MNHES to do it. Mum has blocked our number.")),
    Sample("p53-apple-short-staffed-would-mnhes", "NS-2108", "apple", "jm", "Mon, 23 Nov 2026 13:00:00 +0000",
           "We're short-staffed this week so would MNHES be able to do the home visit?",
           (CR, None, None, None, False), "'would MNHES be able to do the home visit?'"),
    Sample("p54-ios-pls-do-hv", "NS-2112", "ios", "ha", "Mon, 23 Nov 2026 07:40:00 +0000",
           "pls can MNHES do HV, thx",
           (CR, None, None, None, False), "Abbreviations: 'pls', 'HV' (home visit), 'thx'."),
    Sample("p55-outlook-plain-long-better-if-mnhes", "NS-2107", "outlook_plain", "ak", "Mon, 23 Nov 2026 15:05:00 +0000",
           "Dear Farah,\n\nThank you for letting us know. Unfortunately the relationship between school and home has "
           "broken down following a complaint, and mum has said she will not engage with school staff. In the "
           "circumstances we think it would be better if MNHES carried out the home welfare check. I am happy to "
           "share any information you need.\n\nKind regards\nAgnieszka Kowalczyk",
           (CR, None, None, None, False), "'it would be better if MNHES carried out the home welfare check' (not a check done)."),
    Sample("p56-outlook-mobile-picked-up-by-mnhes", "NS-2102", "outlook_mobile", "mo", "Tue, 24 Nov 2026 07:58:00 +0000",
           "Can this be picked up by MNHES please? We've got nobody free to go out.",
           (CR, None, None, None, False), "Passive request: 'Can this be picked up by MNHES please?'"),
    Sample("p57-thunderbird-bottom-your-team-make-visit", "NS-2105", "thunderbird_bottom", "lj_office", "Mon, 23 Nov 2026 11:20:00 +0000",
           "Mrs Ashdown has asked if your team can make the home visit this time, as she is out on a course.\n\n"
           "Larchwood Office",
           (CR, None, None, None, False), "Reported request: 'asked if your team can make the home visit'."),
    # pupil_seen --------------------------------------------------------------------------------
    Sample("p58-gmail-was-in-school-today", "NS-2102", "gmail", "riv_att", "Mon, 23 Nov 2026 10:02:00 +0000",
           "Just to let you know C.D. was in school today.", (PS, None, None, None, False), "'was in school today'."),
    Sample("p59-outlook-plain-attended-period-1", "NS-2104", "outlook_plain", "bp_att", "Tue, 24 Nov 2026 11:30:00 +0000",
           "G.H. attended period 1 and 2 today but went home at break feeling unwell.",
           (PS, None, None, None, False), "'attended period 1 and 2'."),
    Sample("p60-apple-back-in-school-since-monday", "NS-2105", "apple", "lj_office", "Wed, 25 Nov 2026 09:00:00 +0000",
           "I.K. has been back in school since Monday.", (PS, None, None, None, False), "'back in school since Monday'."),
    Sample("p61-ios-is-in-today-came-in-at", "NS-2107", "ios", "ak", "Mon, 23 Nov 2026 10:35:00 +0000",
           "N.P. is in today - came in at 10.20 with mum.", (PS, None, None, None, False), "'is in today'; a time inside."),
    Sample("p62-outlook-web-registered-in-lessons", "NS-2109", "outlook_web_html", "oak_office", "Tue, 24 Nov 2026 09:12:00 +0000",
           "T.W. registered this morning and is in lessons.", (PS, None, None, None, False), "'registered this morning'."),
    Sample("p63-outlook-plain-bst-present-am-pm", "NS-2110", "outlook_plain", "km_att", "Wed, 14 Oct 2026 12:00:00 +0100",
           "YZ in school Mon and Tues this week, present AM and PM both days.",
           (PS, None, None, None, False), "Initials without dots; register wording 'present AM and PM'."),
    Sample("p64-gmail-came-into-school-tuesday", "NS-2111", "gmail", "pn", "Wed, 2 Dec 2026 14:00:00 +0000",
           "O.A. came into school on Tuesday for her maths mock and stayed for the afternoon.",
           (PS, None, None, None, False), "'came into school on Tuesday'."),
    Sample("p65-outlook-desktop-caps-in-school-today", "NS-2106", "outlook_desktop_html", "km_att", "Mon, 23 Nov 2026 09:05:00 +0000",
           "L.M. IS IN SCHOOL TODAY.", (PS, None, None, None, False), "All capitals; risk-version quote."),
    Sample("p66-outlook-mobile-teacher-saw-in-class", "NS-2112", "outlook_mobile", "ha", "Tue, 24 Nov 2026 12:20:00 +0000",
           "Our Year 5 teacher saw K.J. in class this morning, he's fine.",
           (PS, None, None, None, False), "'saw K.J. in class'."),
    Sample("p67-thunderbird-present-for-registration", "NS-2103", "thunderbird", "sa_welfare", "Tue, 24 Nov 2026 10:10:00 +0000",
           "E.F. was present for morning registration and has stayed all day.",
           (PS, None, None, None, False), "'present for morning registration'; risk-version quote."),
    Sample("p68-gmail-turned-up-at-break", "NS-2108", "gmail", "bp_att", "Wed, 25 Nov 2026 13:30:00 +0000",
           "R.S. turned up at break time today and has been in lessons since.",
           (PS, None, None, None, False), "'turned up at break'; 'in lessons'."),
    Sample("p69-apple-back-with-us-today", "NS-2101", "apple", "oak_office", "Mon, 23 Nov 2026 09:45:00 +0000",
           "A.B. is back with us today, he came in with dad this morning.",
           (PS, None, None, None, False), "'back with us today' from the Main School office."),
    Sample("p70-outlook-plain-in-school-disclosure-social-care", "NS-2108", "outlook_plain", "re", "Tue, 24 Nov 2026 15:00:00 +0000",
           "R.S. was in school today but told his tutor he had been hit at home. Our DSL has contacted children's "
           "social care.",
           (PS, None, None, None, True), "A sighting, but the sender's own text names children's social care -> review."),
    # other -------------------------------------------------------------------------------------
    Sample("p71-gmail-thanks-look-into-it", "NS-2101", "gmail", "sb", "Mon, 23 Nov 2026 08:30:00 +0000",
           "Thanks for letting us know, we'll look into it and get back to you.",
           (OT, None, None, None, False), "Acknowledgement."),
    Sample("p72-outlook-plain-received-passed-to-dsl", "NS-2104", "outlook_plain", "bp_att", "Fri, 20 Nov 2026 16:10:00 +0000",
           "Received, thank you - passed to our DSL.", (OT, None, None, None, False), "Acknowledgement."),
    Sample("p73-outlook-web-question-last-in", "NS-2105", "outlook_web_html", "lj_office", "Mon, 23 Nov 2026 14:00:00 +0000",
           "Can you tell me when I.K. was last in with you? Our records say he was in on the 16th.",
           (OT, None, None, None, True), "A question back to the Service -> review."),
    Sample("p74-gmail-contact-change-no-longer-dsl", "NS-2107", "gmail", "riv_att", "Tue, 24 Nov 2026 09:30:00 +0000",
           "Please note Mr Obi is no longer our DSL. Please send these emails to dsl@riverside-cc.example from now on.",
           (OT, None, None, None, True), "Contact change -> review."),
    Sample("p75-outlook-plain-human-out-of-office", "NS-2109", "outlook_plain", "sb", "Fri, 20 Nov 2026 15:45:00 +0000",
           "Hello,\n\nI am out of school on a course until Thursday 26th November. For anything urgent please contact "
           "our deputy DSL, Mrs Yates, on 01632 960155.\n\nSiobhan Brennan",
           (OT, None, None, None, True),
           "An out-of-office typed by a person (no auto headers): other; it redirects to another contact, so a person acts."),
    Sample("p76-ios-not-yet-able-to-visit", "NS-2102", "ios", "mo", "Mon, 23 Nov 2026 07:45:00 +0000",
           "We haven't been able to visit yet, hoping to go tomorrow.",
           (OT, None, None, None, True), "Not yet able to visit: no check made; review (as golden g15)."),
    Sample("p77-apple-will-visit-tomorrow", "NS-2104", "apple", "re", "Mon, 23 Nov 2026 12:00:00 +0000",
           "We will do a home visit tomorrow morning and let you know how it goes.",
           (OT, None, None, None, False), "A plan, not a check made and not a request."),
    Sample("p78-outlook-plain-wrong-school", "NS-2109", "outlook_plain", "oak_office", "Mon, 23 Nov 2026 11:11:00 +0000",
           "I think you have the wrong school - T.W. left us in September and is now on roll at Kingsmead Academy.",
           (OT, None, None, None, True), "Wrong school: a person must act."),
    Sample("p79-outlook-forward-with-comment-to-colleague", "NS-2103", "outlook_forward", "pn", "Mon, 23 Nov 2026 08:20:00 +0000",
           "Jo - can you pick this up please and let the Service know once done? Thanks, P",
           (OT, None, None, None, False),
           "Forward to a colleague, the Service only in Cc: the request is to the colleague, not to MNHES. Risk-version "
           "forwarded text must not flag.",
           options={"to": "Jo Okoro <j.okoro@staidans.example>"}),
    Sample("p80-gmail-question-part-time-timetable", "NS-2110", "gmail", "dc", "Mon, 12 Oct 2026 13:00:00 +0100",
           "Thanks Tom. Is Y.Z. still on a part-time timetable with you? That might explain it.",
           (OT, None, None, None, True), "A question to the Service."),
    Sample("p81-unmatched-visit-seen", None, "unmatched", "sb", "Mon, 23 Nov 2026 16:30:00 +0000",
           "Hi,\n\nOur FLO visited this morning and the pupil was seen and well.\n\nSiobhan",
           (CD, "2026-11-23", "seen_safe", None, True), "No token, no threading: cannot be matched -> review."),
    Sample("p82-gmail-service-own-dsl-reply-all", "NS-2106", "gmail", "svc_dsl", "Mon, 23 Nov 2026 12:30:00 +0000",
           "Hi Dev,\n\nThanks for the call. Tom and I will do the home visit tomorrow afternoon and I'll let you know "
           "the outcome.\n\nNadia Quinn\nMNHES DSL",
           (OT, None, None, None, False), "The Service's own DSL replying to all: not a school response."),
    Sample("p83-gmail-personal-webmail", "NS-2101", "gmail", "webmail", "Tue, 24 Nov 2026 19:40:00 +0000",
           "Hi Amara, Mrs Brennan here, writing from my own email as I'm at home. I visited A.B. today after school, "
           "he was seen and well.",
           (CD, "2026-11-24", "seen_safe", None, True), "Personal webmail: unverified sender -> review."),
    Sample("p84-outlook-plain-dmarc-fail", "NS-2104", "outlook_plain", "re", "Tue, 24 Nov 2026 10:00:00 +0000",
           "Home visit done today, G.H. seen and well, please close the case.",
           (CD, "2026-11-24", "seen_safe", None, True), "A registered address but dmarc=fail -> review.",
           options={"dmarc": "fail"}),
    Sample("p85-outlook-plain-police-at-weekend", "NS-2112", "outlook_plain", "ha", "Mon, 23 Nov 2026 08:00:00 +0000",
           "Just so you are aware, police were called to K.J.'s address at the weekend. I'll ring you this morning.",
           (OT, None, None, None, True), "Police in the sender's own words -> review."),
    Sample("p86-outlook-plain-out-of-office-subject", "NS-2107", "outlook_plain", "ak", "Fri, 20 Nov 2026 15:30:40 +0000",
           "I am out of the office until 30 November. If a child is at immediate risk please call the police on 999 "
           "or contact children's social care.",
           (AR, None, None, None, False), "Out-of-office by subject only; its text about the police never counts.",
           options={"subject": "Out of Office: Pupil not seen for one week [NS-2107]"}),
    Sample("p87-gmail-vacation-responder-headers", "NS-2105", "gmail", "lj_office", "Fri, 20 Nov 2026 15:31:02 +0000",
           "Thank you for your email. The school office is closed for an INSET day. Safeguarding concerns: please "
           "contact the police or children's social care.",
           (AR, None, None, None, False), "Auto-Submitted: auto-replied + Precedence: bulk (vacation responder).",
           options={"headers": ["Auto-Submitted: auto-replied", "Precedence: bulk"],
                    "subject": "Re: Pupil not seen for one week [NS-2105]"}),
]

# Second batch, written after the rules were tuned on the first and measured before any further
# change (the honest held-out figure in the report): new wordings, not variations of the above.
SAMPLES += [
    Sample("q01-outlook-plain-popped-round-to-see", "NS-2101", "outlook_plain", "sb", "Tue, 24 Nov 2026 08:20:00 +0000",
           "Morning Amara,\n\nMrs Dunne popped round to see A.B. at teatime yesterday - he's absolutely fine, just "
           "been poorly with a virus.\n\nSiobhan",
           (CD, "2026-11-23", "seen_safe", None, False), "'popped round to see A.B.'; 'absolutely fine'."),
    Sample("q02-gmail-been-out-to-family-home", "NS-2102", "gmail", "mo", "Wed, 25 Nov 2026 15:40:00 +0000",
           "Hi Tom,\n\nOur safeguarding officer has been out to the family home today. All is well - C.D. was up "
           "and dressed and chatted to us about her art work.\n\nMarcus",
           (CD, "2026-11-25", "seen_safe", None, False), "'has been out to the family home'; 'All is well'."),
    Sample("q03-ios-colon-completed-tues", "NS-2104", "ios", "re", "Thu, 26 Nov 2026 12:00:00 +0000",
           "Welfare check: completed Tues. Child seen. No issues.",
           (CD, "2026-11-24", "seen_safe", None, False), "Label style 'Welfare check: completed Tues'."),
    Sample("q04-outlook-mobile-been-round-twice-no-one-in", "NS-2105", "outlook_mobile", "ha", "Mon, 23 Nov 2026 16:10:00 +0000",
           "We've been round twice today and there's no one in. Mum isn't picking up either. I'll go round again "
           "first thing tomorrow.",
           (CD, "2026-11-23", "not_seen", "Will go round again tomorrow (24 November 2026).", True),
           "'been round twice', 'no one in' -> not_seen."),
    Sample("q05-apple-dad-at-door-not-able-to-see", "NS-2107", "apple", "ak", "Tue, 24 Nov 2026 17:30:00 +0000",
           "Visited at 4.15 - dad came to the door but said N.P. was at his cousin's. Not able to see him.",
           (CD, "2026-11-24", "not_seen", None, True), "Not able to see the child."),
    Sample("q06-outlook-web-phone-call-with-mum", "NS-2109", "outlook_web_html", "oak_office", "Wed, 25 Nov 2026 10:20:00 +0000",
           "Had a phone call with mum this morning - she says T.W. has tonsillitis and is on antibiotics. Didn't "
           "speak to T.W.",
           (CD, "2026-11-25", "not_seen", None, True), "Phone check with the parent only."),
    Sample("q07-thunderbird-teams-call-seen-on-camera", "NS-2110", "thunderbird", "dc", "Wed, 14 Oct 2026 09:30:00 +0100",
           "Hi Tom,\n\nWe held a Teams call with Y.Z. and his mum on Monday afternoon. He was seen on camera, looked "
           "tired but OK.\n\nDev",
           (CD, "2026-10-12", "seen_safe", None, False), "'held a Teams call with Y.Z.'; seen on camera."),
    Sample("q08-outlook-desktop-poor-state-anxious", "NS-2108", "outlook_desktop_html", "re", "Wed, 25 Nov 2026 08:45:00 +0000",
           "DSL and HOY visited 24/11. R.S. seen. The house was in a poor state and R.S. seemed anxious. We are "
           "worried about him and will discuss with the family support worker.",
           (CD, "2026-11-24", "concerns", "Discuss with the family support worker.", True), "Concerns, no referral."),
    Sample("q09-gmail-submitted-mash-referral", "NS-2103", "gmail", "pn", "Tue, 24 Nov 2026 14:00:00 +0000",
           "Following our home visit this morning we have submitted a MASH referral. E.F. was seen.",
           (CD, "2026-11-24", "referred", "MASH referral submitted.", True), "MASH referral submitted."),
    Sample("q10-ios-police-and-csc-informed", "NS-2106", "ios", "dc", "Tue, 24 Nov 2026 09:00:00 +0000",
           "Home visit yesterday. L.M. seen - disclosed that mum's partner hit her. Police and children's social "
           "care informed immediately.",
           (CD, "2026-11-23", "referred", "Police and children's social care informed.", True), "Police and CSC informed."),
    Sample("q11-outlook-plain-are-you-able-to", "NS-2104", "outlook_plain", "re", "Mon, 23 Nov 2026 09:10:00 +0000",
           "Are you able to do the home visit for us? We have tried but mum won't engage with school.",
           (CR, None, None, None, False), "'Are you able to do the home visit for us?'"),
    Sample("q12-gmail-please-could-mnhes-undertake", "NS-2112", "gmail", "ha", "Mon, 23 Nov 2026 11:30:00 +0000",
           "Please could MNHES undertake this welfare check - we are unable to as the family have moved out of our area.",
           (CR, None, None, None, False), "'Please could MNHES undertake this welfare check'."),
    Sample("q13-apple-grateful-one-of-your-tutors", "NS-2105", "apple", "ha", "Mon, 23 Nov 2026 13:40:00 +0000",
           "I'd be really grateful if one of your tutors could go out to see I.K. this week.",
           (CR, None, None, None, False), "'grateful if one of your tutors could go out to see I.K.'"),
    Sample("q14-outlook-mobile-happy-for-mnhes", "NS-2109", "outlook_mobile", "sb", "Mon, 23 Nov 2026 15:00:00 +0000",
           "Happy for MNHES to do the visit - mum prefers your team.",
           (CR, None, None, None, False), "'Happy for MNHES to do the visit'."),
    Sample("q15-thunderbird-member-of-your-team", "NS-2102", "thunderbird", "mo", "Mon, 23 Nov 2026 12:15:00 +0000",
           "Could a member of your team do a home visit please? Mum has been difficult with us.",
           (CR, None, None, None, False), "'a member of your team'."),
    Sample("q16-gmail-in-this-morning-for-registration", "NS-2101", "gmail", "oak_office", "Tue, 24 Nov 2026 10:40:00 +0000",
           "Just a quick one - A.B. was in this morning for registration and is currently in maths.",
           (PS, None, None, None, False), "'was in this morning for registration'."),
    Sample("q17-outlook-plain-attending-again", "NS-2104", "outlook_plain", "bp_att", "Thu, 26 Nov 2026 09:00:00 +0000",
           "G.H. has been attending again since Tuesday.", (PS, None, None, None, False), "'attending again since Tuesday'."),
    Sample("q18-ios-in-school-all-day-yesterday", "NS-2107", "ios", "ak", "Wed, 25 Nov 2026 11:00:00 +0000",
           "N.P. was in school all day yesterday and again today.", (PS, None, None, None, False), "Sighting."),
    Sample("q19-outlook-web-came-to-school-late", "NS-2102", "outlook_web_html", "riv_att", "Tue, 24 Nov 2026 10:30:00 +0000",
           "She came to school today, arrived late at 10:05.", (PS, None, None, None, False), "'came to school today'."),
    Sample("q20-apple-noted-keep-an-eye", "NS-2107", "apple", "riv_att", "Mon, 23 Nov 2026 08:40:00 +0000",
           "Noted, thank you. We'll keep an eye out.", (OT, None, None, None, False), "Acknowledgement."),
    Sample("q21-gmail-question-attendance", "NS-2111", "gmail", "pn", "Mon, 30 Nov 2026 09:00:00 +0000",
           "Could you let me know what MNHES's attendance for O.A. has been this half term?",
           (OT, None, None, None, True), "A question to the Service."),
    Sample("q22-outlook-plain-new-attendance-officer", "NS-2108", "outlook_plain", "bp_att", "Mon, 23 Nov 2026 10:00:00 +0000",
           "From Monday please can these emails go to our new attendance officer, Sam Reid (s.reid@beckettpark.example).",
           (OT, None, None, None, True), "Contact change."),
    Sample("q23-outlook-mobile-flo-going-out-thursday", "NS-2101", "outlook_mobile", "sb", "Tue, 24 Nov 2026 12:00:00 +0000",
           "Our FLO is going out to see the family on Thursday, I'll update you after.",
           (OT, None, None, None, False), "A plan, not a check made."),
    Sample("q24-outlook-plain-annual-leave-typed", "NS-2109", "outlook_plain", "sb", "Fri, 20 Nov 2026 16:30:00 +0000",
           "I'm on annual leave until 1st December. Please contact the school office for anything urgent.",
           (OT, None, None, None, True), "A person's own out-of-office note: the DSL is away; a person acts."),
    Sample("q25-gmail-visited-details-to-follow", "NS-2109", "gmail", "oak_flo", "Tue, 24 Nov 2026 16:50:00 +0000",
           "FLO visited this afternoon - will send details tomorrow.",
           (CD, "2026-11-24", None, "Details to follow tomorrow (25 November 2026).", True), "Outcome not stated."),
    Sample("q26-outlook-web-attempted-home-visit", "NS-2106", "outlook_web_html", "km_att", "Tue, 24 Nov 2026 14:05:00 +0000",
           "Attempted home visit at 13:30 today, no-one answered. Left a calling card.",
           (CD, "2026-11-24", "not_seen", None, True), "'Attempted home visit', 'no-one answered'."),
    Sample("q27-gmail-inline-done-visited", "NS-2107", "gmail_inline", "ak", "Thu, 26 Nov 2026 08:00:00 +0000",
           "Hi Farah - in line.",
           (CD, "2026-11-25", "seen_safe", None, False), "Inline: 'Done - visited 25/11, seen at home, fine.' and 'N/A'.",
           inline=("Done - visited 25/11, seen at home, fine.", "N/A")),
    Sample("q28-thunderbird-bottom-s-and-w-absolutely-fine", "NS-2112", "thunderbird_bottom", "ha", "Wed, 25 Nov 2026 13:00:00 +0000",
           "Safe & well check done by the DSL this morning, K.J. absolutely fine.\n-- \nHelen Ashdown\nHeadteacher",
           (CD, "2026-11-25", "seen_safe", None, False), "'Safe & well check'; Thunderbird '-- ' signature; risk quote above."),
    Sample("q29-apple-negated-referral-all-good", "NS-2103", "apple", "pn", "Wed, 25 Nov 2026 09:15:00 +0000",
           "Visited on Monday; E.F. seen, no concerns that would warrant a referral. All good.",
           (CD, "2026-11-23", "seen_safe", None, True),
           "Seen and safe, but the sender's own text mentions a referral (negated): the safe reading is review."),
    Sample("q30-gmail-webmail-pupil-seen", "NS-2101", "gmail", "webmail", "Tue, 24 Nov 2026 18:00:00 +0000",
           "A.B. was in school today.", (PS, None, None, None, True), "Unverified personal address -> review."),
    Sample("q31-outlook-desktop-seen-no-heating", "NS-2102", "outlook_desktop_html", "ak", "Wed, 25 Nov 2026 09:40:00 +0000",
           "Seen at home by our EWO on 23rd. C.D. OK in herself but there was no heating on and very little food. "
           "Food parcel to be dropped off tomorrow.",
           (CD, "2026-11-23", "concerns", "Food parcel to be dropped off tomorrow (26 November 2026).", True),
           "Seen but worries about the home."),
    Sample("q32-ios-checked-on-him-at-home", "NS-2105", "ios", "ha", "Wed, 25 Nov 2026 07:50:00 +0000",
           "Checked on him at home yesterday evening, all fine.",
           (CD, "2026-11-24", "seen_safe", None, False), "'Checked on him at home'."),
    Sample("q33-outlook-plain-hv-completed", "NS-2108", "outlook_plain", "jm", "Thu, 26 Nov 2026 16:00:00 +0000",
           "HV completed 26/11 - seen, happy, no concerns.",
           (CD, "2026-11-26", "seen_safe", None, False), "'HV' abbreviation."),
    Sample("q34-gmail-no-longer-at-school", "NS-2104", "gmail", "bp_att", "Mon, 23 Nov 2026 14:30:00 +0000",
           "G.H. is no longer on roll with us - she moved to Kingsmead Academy at half term.",
           (OT, None, None, None, True), "Not on roll any more: a person must act."),
]

# Third batch, again measured before any change made for it.
SAMPLES += [
    Sample("r01-outlook-plain-long-unannounced-visit", "NS-2101", "outlook_plain", "sb", "Thu, 26 Nov 2026 11:05:00 +0000",
           "Dear Amara,\n\nThank you for your email and apologies for the delay in replying - it has been a very busy "
           "week.\n\nI can confirm that our Family Liaison Officer, Mrs Dunne, and I made an unannounced visit to the "
           "family home on Tuesday afternoon (24th). A.B. answered the door with his mum. He was dressed, cheerful and "
           "told us he had been off with a bad cough. The home was warm and there was food in the kitchen.\n\nMum has "
           "agreed that A.B. will return to MNHES on Monday and we will check in with her on Friday.\n\nWith best "
           "wishes\n\nSiobhan Brennan\nDeputy Head / DSL",
           (CD, "2026-11-24", "seen_safe", "A.B. will return to MNHES on Monday; school checks in with mum on Friday.", False),
           "Long, several paragraphs; the child answered the door and was cheerful."),
    Sample("r02-gmail-no-answer-tv-on-concerned", "NS-2107", "gmail", "ak", "Mon, 23 Nov 2026 09:20:00 +0000",
           "Went round at 8am, no answer, but we could hear a TV on inside. We are concerned and will go back with the "
           "EWO at 12.",
           (CD, "2026-11-23", "not_seen", "Will go back with the EWO at 12.", True), "Not seen wins over concerns."),
    Sample("r03-ios-whatsapp-video-saw", "NS-2105", "ios", "ha", "Tue, 24 Nov 2026 15:45:00 +0000",
           "Mum agreed to a WhatsApp video call this afternoon and I saw I.K. - he was in bed but waved and chatted, "
           "seemed OK.",
           (CD, "2026-11-24", "seen_safe", None, False), "WhatsApp video call; child seen."),
    Sample("r04-outlook-mobile-can-mnhes-go-out", "NS-2104", "outlook_mobile", "re", "Mon, 23 Nov 2026 08:10:00 +0000",
           "Can MNHES go out this time?", (CR, None, None, None, False), "'Can MNHES go out this time?'"),
    Sample("r05-apple-over-to-you", "NS-2104", "apple", "jm", "Mon, 23 Nov 2026 09:50:00 +0000",
           "We don't have capacity to visit this week - over to you I'm afraid.",
           (CR, None, None, None, False), "'over to you' after 'no capacity to visit'."),
    Sample("r06-gmail-someone-from-mnhes-go-and-see", "NS-2109", "gmail", "sb", "Mon, 23 Nov 2026 13:25:00 +0000",
           "Please can someone from MNHES go and see T.W.?", (CR, None, None, None, False), "'go and see T.W.'"),
    Sample("r07-outlook-plain-was-here-period-3", "NS-2109", "outlook_plain", "oak_office", "Tue, 24 Nov 2026 13:00:00 +0000",
           "T.W. was here for period 3 onwards.", (PS, None, None, None, False), "'was here for period 3'."),
    Sample("r08-thunderbird-sighting-form-tutor", "NS-2102", "thunderbird", "riv_att", "Tue, 24 Nov 2026 09:10:00 +0000",
           "Sighting: C.D. seen by her form tutor at 8.50 this morning.",
           (PS, None, None, None, False), "Seen by her form tutor (at school)."),
    Sample("r09-outlook-desktop-in-school-spoke-to-mum-at-drop-off", "NS-2104", "outlook_desktop_html", "bp_att", "Mon, 23 Nov 2026 10:15:00 +0000",
           "G.H. is in school today. I also spoke to mum at drop-off who says she's feeling much better.",
           (PS, None, None, None, False), "A sighting at school; talking to mum at drop-off is not a welfare check."),
    Sample("r10-outlook-web-which-tutor-question", "NS-2103", "outlook_web_html", "pn", "Mon, 23 Nov 2026 12:45:00 +0000",
           "Can you confirm which tutor sees E.F.? I'd like to speak to them.",
           (OT, None, None, None, True), "A question to the Service."),
    Sample("r11-ios-aware-dsl-following-up", "NS-2107", "ios", "riv_att", "Mon, 23 Nov 2026 08:05:00 +0000",
           "Thanks - we are aware and our DSL is following this up.", (OT, None, None, None, False), "Acknowledgement."),
    Sample("r12-gmail-mum-under-the-influence", "NS-2109", "gmail", "oak_flo", "Wed, 25 Nov 2026 14:10:00 +0000",
           "Visit done 24/11 (FLO). T.W. seen. Mum appeared under the influence; T.W. says she is OK. Discussing with DSL "
           "today re next steps.",
           (CD, "2026-11-24", "concerns", "Discussing with the DSL re next steps.", True),
           "Seen, but the parent appeared under the influence: concerns."),
    Sample("r13-outlook-plain-strategy-meeting-csc-involved", "NS-2108", "outlook_plain", "re", "Thu, 26 Nov 2026 10:00:00 +0000",
           "Home visit 25/11. R.S. seen. Significant concerns - a strategy meeting has been called and CSC are now involved.",
           (CD, "2026-11-25", "referred", "Strategy meeting called; CSC involved.", True), "CSC involved after the visit: referred."),
    Sample("r14-outlook-mobile-tried-ringing-no-answer", "NS-2102", "outlook_mobile", "mo", "Mon, 23 Nov 2026 16:55:00 +0000",
           "Tried ringing mum three times today - no answer. Will try again tomorrow.",
           (CD, "2026-11-23", "not_seen", "Will try again tomorrow (24 November 2026).", True),
           "A phone check attempted, nobody answered -> not_seen."),
    Sample("r15-apple-ewo-saw-at-home", "NS-2106", "apple", "dc", "Wed, 25 Nov 2026 10:35:00 +0000",
           "Our EWO saw L.M. at home on Monday, she is fine.",
           (CD, "2026-11-23", "seen_safe", None, False), "'saw L.M. at home'."),
    Sample("r16-gmail-did-visit-please-let-us-know", "NS-2103", "gmail", "pn", "Thu, 26 Nov 2026 09:45:00 +0000",
           "Hi Bethan, thanks for the heads up. We did the home visit on Tuesday - E.F. seen, fine. Please let us know if "
           "he isn't back with you by Monday.",
           (CD, "2026-11-24", "seen_safe", "Let the school know if E.F. is not back by Monday 30 November 2026.", False),
           "Report plus a routine ask; risk-version quote."),
    Sample("r19-outlook-plain-nothing-further-to-report", "NS-2105", "outlook_plain", "lj_office", "Tue, 24 Nov 2026 14:30:00 +0000",
           "Our learning mentor completed a welfare visit this morning. I.K. seen. No safeguarding concerns noted, "
           "nothing further to report.",
           (CD, "2026-11-24", "seen_safe", None, False), "'nothing further to report'."),
    Sample("r20-thunderbird-welfare-call-facetime", "NS-2102", "thunderbird", "riv_att", "Tue, 24 Nov 2026 08:30:00 +0000",
           "Welfare call made to home 23/11; spoke with C.D. and mum via FaceTime, C.D. well.",
           (CD, "2026-11-23", "seen_safe", None, False), "Welfare call by FaceTime, child seen."),
    Sample("r21-ios-doorstep-check-seen-fine", "NS-2104", "ios", "jm", "Tue, 24 Nov 2026 11:50:00 +0000",
           "Doorstep check - seen - fine", (CD, "2026-11-24", "seen_safe", None, False), "Three words and dashes."),
    Sample("r22-outlook-web-send-full-name", "NS-2107", "outlook_web_html", "riv_att", "Mon, 23 Nov 2026 11:40:00 +0000",
           "We're not sure who this pupil is - could you send the full name?",
           (OT, None, None, None, True), "A question to the Service."),
    Sample("r23-outlook-plain-x-autoreply", "NS-2105", "outlook_plain", "ha", "Fri, 20 Nov 2026 15:31:30 +0000",
           "Thank you for your message. I'm currently out of the office with limited access to email.",
           (AR, None, None, None, False), "X-Autoreply header.", options={"headers": ["X-Autoreply: yes"]}),
    Sample("r24-outlook-chain-request-quoted-police", "NS-2105", "outlook_chain", "ha", "Tue, 24 Nov 2026 12:10:00 +0000",
           "Amara, can MNHES do the visit please? We've run out of options.\n\nHelen",
           (CR, None, None, None, False),
           "The quoted internal forward says 'FLO visited Monday, no answer, police informed': quoted, so no check done "
           "and no risk flag.",
           options={"chain": ("Larchwood Office <office@larchwood-jun.example>", "Helen Ashdown <head@larchwood-jun.example>",
                              "Monday, 23 November 2026 16:40", "Helen - FLO visited Monday, no answer, police informed.")}),
    Sample("r25-gmail-seen-in-school-by-hoy", "NS-2107", "gmail", "ak", "Tue, 24 Nov 2026 10:05:00 +0000",
           "N.P. seen in school by HOY today.", (PS, None, None, None, False), "'seen in school by HOY'."),
]

# Fourth batch: fresh paraphrases of the Service's own fixture situations, plus traps for
# over-eager rules; measured before any change made for it.
SAMPLES += [
    Sample("s01-outlook-mobile-went-out-first-thing", "NS-2101", "outlook_mobile", "sb", "Tue, 24 Nov 2026 09:35:00 +0000",
           "Hiya, our FLO went out first thing, A.B. seen, safe & well. Mum reckons he'll be back Monday.",
           (CD, "2026-11-24", "seen_safe", "Mum expects A.B. back on Monday 30 November 2026.", False),
           "'went out first thing'; no date word: the Date header's day."),
    Sample("s02-gmail-tried-the-house-no-one-answering", "NS-2102", "gmail", "mo", "Mon, 23 Nov 2026 15:20:00 +0000",
           "Tried the house this afternoon - no one answering. Have passed to our EWO who will try again tomorrow.",
           (CD, "2026-11-23", "not_seen", "The EWO will try again tomorrow (24 November 2026).", True),
           "'Tried the house' = a visit attempted; nobody answering."),
    Sample("s03-ios-good-news-shes-in-today", "NS-2109", "ios", "oak_office", "Mon, 23 Nov 2026 09:15:00 +0000",
           "Good news - she's in today!", (PS, None, None, None, False), "Terse sighting."),
    Sample("s04-outlook-web-ask-that-mnhes-complete", "NS-2104", "outlook_web_html", "re", "Mon, 23 Nov 2026 10:50:00 +0000",
           "The family will not let us in the house since the incident last month so we would ask that MNHES complete "
           "the check.",
           (CR, None, None, None, False), "'we would ask that MNHES complete the check'."),
    Sample("s05-apple-video-chat-doing-well", "NS-2103", "apple", "pn", "Tue, 24 Nov 2026 11:25:00 +0000",
           "I had a video chat with E.F. this morning with mum present - he's doing well.",
           (CD, "2026-11-24", "seen_safe", None, False), "Video chat with the child."),
    Sample("s06-outlook-plain-would-the-service-carry-out", "NS-2106", "outlook_plain", "dc", "Mon, 23 Nov 2026 11:15:00 +0000",
           "Please would the service carry out the welfare visit for L.M.", (CR, None, None, None, False),
           "'Please would the service carry out the welfare visit'."),
    Sample("s07-gmail-talkative-but-thin-revisit", "NS-2108", "gmail", "re", "Tue, 24 Nov 2026 17:20:00 +0000",
           "Home visit by me and Mrs Carr today. R.S. seen - talkative but thin, the flat was very cold and there was "
           "hardly any food. Not at referral stage but we've given vouchers and will revisit Weds.",
           (CD, "2026-11-24", "concerns", "Will revisit on Wednesday.", True), "Concerns, referral negated."),
    Sample("s08-outlook-mobile-many-thanks-passed-on", "NS-2104", "outlook_mobile", "bp_att", "Fri, 20 Nov 2026 16:45:00 +0000",
           "Many thanks - passed on to the DSL.", (OT, None, None, None, False), "Acknowledgement."),
    Sample("s09-thunderbird-referral-early-help-and-csc", "NS-2102", "thunderbird", "ak", "Tue, 24 Nov 2026 13:35:00 +0000",
           "I visited with the attendance officer yesterday - C.D. seen but the home conditions were poor. We have made "
           "a referral to early help and children's social care.",
           (CD, "2026-11-23", "referred", "Referral made to early help and children's social care.", True), "Referred."),
    Sample("s10-gmail-webmail-visit-seen", "NS-2101", "gmail", "webmail", "Mon, 23 Nov 2026 20:10:00 +0000",
           "Popped in to see A.B. on my way home tonight - he's fine.",
           (CD, "2026-11-23", "seen_safe", None, True), "Personal webmail: unverified."),
    Sample("s12-outlook-desktop-tues-pm-due-back", "NS-2105", "outlook_desktop_html", "lj_office", "Wed, 25 Nov 2026 09:25:00 +0000",
           "Visited Tues pm by attendance officer. I.K. at home with mum, no concerns. Due back with you Thurs.",
           (CD, "2026-11-24", "seen_safe", "Due back on Thursday 26 November 2026.", False), "'Visited Tues pm'."),
    Sample("s13-apple-arrived-in-school-in-class", "NS-2106", "apple", "km_att", "Mon, 23 Nov 2026 09:40:00 +0000",
           "L.M. arrived in school at 9.15 this morning and is in class.", (PS, None, None, None, False), "Sighting."),
    Sample("s14-ios-welfare-visit-mon-23rd-all-ok", "NS-2112", "ios", "ha", "Tue, 24 Nov 2026 08:00:00 +0000",
           "Welfare visit completed Mon 23rd. All ok. K.J. back in Weds.",
           (CD, "2026-11-23", "seen_safe", "K.J. back in school on Wednesday.", False), "Terse, 'All ok'."),
    Sample("s15-gmail-inline-done-yesterday", "NS-2111", "gmail_inline", "pn", "Tue, 1 Dec 2026 10:00:00 +0000",
           "Bethan - replies below.",
           (CD, "2026-11-30", "seen_safe", None, False), "Inline: 'Yes, done yesterday by our DSL. O.A. seen, well.' / 'No thanks.'",
           inline=("Yes, done yesterday by our DSL. O.A. seen, well.", "No thanks.")),
    Sample("s16-outlook-plain-leaving-replacement", "NS-2104", "outlook_plain", "re", "Wed, 25 Nov 2026 16:00:00 +0000",
           "Please note I am leaving Beckett Park at Christmas. From January please send these to my replacement, "
           "Ms Amy Chow (a.chow@beckettpark.example).",
           (OT, None, None, None, True), "Contact change."),
    Sample("s17-thunderbird-came-in-for-meeting-stayed", "NS-2104", "thunderbird", "bp_att", "Tue, 24 Nov 2026 15:10:00 +0000",
           "G.H. came in for a meeting with the SENCo and then stayed for the afternoon.",
           (PS, None, None, None, False), "Came in for a meeting and stayed."),
    Sample("s18-unmatched-which-pupil", None, "unmatched", "bp_att", "Mon, 23 Nov 2026 11:00:00 +0000",
           "Hi, is this about one of our Year 9 pupils? Please advise.",
           (OT, None, None, None, True), "No reference at all; a question."),
    Sample("s19-outlook-desktop-record-attached", "NS-2108", "outlook_desktop_html", "jm", "Wed, 25 Nov 2026 12:30:00 +0000",
           "Home visit done Tuesday 24th - the visit record is attached.",
           (CD, "2026-11-24", None, None, True), "Outcome only in the attachment.",
           options={"attachment": ("HV record.pdf", "application/pdf", b"%PDF-1.4\n% scan\n%%EOF\n")}),
    Sample("s20-gmail-service-attendance-lead", "NS-2102", "gmail", "svc_dsl", "Tue, 24 Nov 2026 09:00:00 +0000",
           "Marcus - thanks, we'll visit C.D. tomorrow with her tutor and update you.",
           (OT, None, None, None, False), "The Service's own staff."),
    Sample("s21-outlook-plain-phoned-mum-a-and-e", "NS-2103", "outlook_plain", "sa_welfare", "Wed, 25 Nov 2026 10:45:00 +0000",
           "Phoned mum today - E.F. was taken to A&E last night and has been kept in. Mum will let us know when he's home.",
           (CD, "2026-11-25", "not_seen", "Mum will let the school know when E.F. is home.", True),
           "Phone check, child in hospital: not seen; hospital -> review."),
    Sample("s22-apple-are-you-visiting-question", "NS-2106", "apple", "dc", "Mon, 23 Nov 2026 14:50:00 +0000",
           "Are you visiting L.M. this week? If not we can do it.", (OT, None, None, None, True),
           "A question to the Service, not a request nor a report."),
    Sample("s23-ios-will-visit-no-need-for-mnhes", "NS-2107", "ios", "ak", "Mon, 23 Nov 2026 12:50:00 +0000",
           "We will visit tomorrow and let you know - no need for MNHES to go out.", (OT, None, None, None, False),
           "A plan; the request is negated."),
    Sample("s24-outlook-mobile-havent-managed-yet", "NS-2109", "outlook_mobile", "sb", "Tue, 24 Nov 2026 16:15:00 +0000",
           "Haven't managed to get out to the house yet - will try Thursday.", (OT, None, None, None, True),
           "No check yet (as golden g15): review."),
    Sample("s25-outlook-mobile-seen-in-school-risk-quote", "NS-2112", "outlook_mobile", "lj_office", "Tue, 24 Nov 2026 10:10:00 +0000",
           "K.J. seen in school today.", (PS, None, None, None, False), "Risk-version quote below."),
    Sample("s26-gmail-knocked-curtains-drawn", "NS-2107", "gmail", "riv_att", "Wed, 25 Nov 2026 11:30:00 +0000",
           "Knocked several times at 10am, curtains drawn, no movement. Mum not answering her phone either.",
           (CD, "2026-11-25", "not_seen", None, True), "Knocked, nobody came."),
    Sample("s27-outlook-web-cut-on-lip", "NS-2102", "outlook_web_html", "mo", "Thu, 26 Nov 2026 14:00:00 +0000",
           "We saw C.D. at home today - she has a cut on her lip which mum says was from falling over. Logged and "
           "monitoring.",
           (CD, "2026-11-26", "concerns", "Logged and monitoring.", True), "An injury seen: concerns."),
]

# Fifth batch: measured before any change made for it (the last honest figure in the report).
SAMPLES += [
    Sample("t01-gmail-received-tac-meeting", "NS-2101", "gmail", "sb", "Mon, 23 Nov 2026 10:30:00 +0000",
           "Received with thanks. We have a TAC meeting on Thursday where we'll discuss attendance.",
           (OT, None, None, None, False), "Acknowledgement with a plan."),
    Sample("t02-outlook-plain-resend-certificate", "NS-2104", "outlook_plain", "bp_att", "Mon, 23 Nov 2026 11:45:00 +0000",
           "Could you resend the certificate for last week please? It didn't come through.",
           (OT, None, None, None, True), "A request to the Service about something else: a person answers."),
    Sample("t03-thunderbird-ewo-visited-saw-was-well", "NS-2108", "thunderbird", "re", "Tue, 24 Nov 2026 12:40:00 +0000",
           "Mrs Begum (EWO) visited the home on Monday 23 November and saw R.S., who was well and said he'd be back soon.",
           (CD, "2026-11-23", "seen_safe", "R.S. said he would be back soon.", False), "Explicit full date."),
    Sample("t04-ios-been-in-every-day", "NS-2102", "ios", "riv_att", "Thu, 26 Nov 2026 14:00:00 +0000",
           "Yes she's been in every day this week.", (PS, None, None, None, False), "'been in every day'."),
    Sample("t05-outlook-web-grateful-for-support-with-visit", "NS-2109", "outlook_web_html", "sb", "Mon, 23 Nov 2026 09:55:00 +0000",
           "We'd be grateful for MNHES support with a home visit as mum is refusing contact with school.",
           (CR, None, None, None, False), "'grateful for MNHES support with a home visit'."),
    Sample("t06-gmail-ewo-attended-address-no-reply", "NS-2107", "gmail", "ak", "Tue, 24 Nov 2026 13:15:00 +0000",
           "The EWO attended the address this morning. No reply at the door and the neighbour said they'd gone to Poland "
           "for a family funeral.",
           (CD, "2026-11-24", "not_seen", None, True), "'attended the address'; no reply at the door."),
    Sample("t07-outlook-plain-dad-aggressive", "NS-2104", "outlook_plain", "re", "Wed, 25 Nov 2026 15:15:00 +0000",
           "Visit completed. Child seen. Concerns about dad's behaviour towards staff - he was aggressive. Discussed with DSL.",
           (CD, "2026-11-25", "concerns", None, True), "Concerns; no date word."),
    Sample("t08-apple-following-visit-safeguarding-referral", "NS-2103", "apple", "pn", "Wed, 25 Nov 2026 11:20:00 +0000",
           "Following the visit on 24/11 we have made a safeguarding referral.",
           (CD, "2026-11-24", "referred", "Safeguarding referral made.", True), "Referral after the visit."),
    Sample("t09-outlook-web-bullets-by-outcome", "NS-2109", "outlook_web_html", "oak_flo", "Wed, 25 Nov 2026 16:30:00 +0000",
           "- Home visit: Wed 25/11, 3pm\n- By: FLO and SENCo\n- Outcome: T.W. seen at home, happy and well, no concerns\n"
           "- Next steps: returning to MNHES Monday",
           (CD, "2026-11-25", "seen_safe", "Returning to MNHES on Monday 30 November 2026.", False), "Bullet form."),
    Sample("t10-outlook-plain-automatic-reply-subject", "NS-2102", "outlook_plain", "mo", "Fri, 20 Nov 2026 15:30:20 +0000",
           "I am away from school until Monday 23 November. For urgent safeguarding matters contact the police or "
           "children's social care.",
           (AR, None, None, None, False), "'Automatic reply:' subject; Auto-Submitted header.",
           options={"subject": "Automatic reply: Pupil not seen for one week [NS-2102]",
                    "headers": ["Auto-Submitted: auto-replied", "X-MS-Exchange-Inbox-Rules-Loop: m.obi@riverside-cc.example"]}),
    Sample("t11-ios-has-mum-been-in-touch", "NS-2105", "ios", "ha", "Mon, 23 Nov 2026 08:25:00 +0000",
           "Thank you. Has mum been in touch with you at all?", (OT, None, None, None, True), "A question."),
    Sample("t12-gmail-called-round-saw-all-well", "NS-2102", "gmail", "mo", "Wed, 25 Nov 2026 08:50:00 +0000",
           "FLO called round after school yesterday, saw C.D. and mum, all well.",
           (CD, "2026-11-24", "seen_safe", None, False), "'called round', 'saw C.D.'."),
    Sample("t13-outlook-mobile-attended-p1-p5", "NS-2112", "outlook_mobile", "lj_office", "Wed, 25 Nov 2026 15:30:00 +0000",
           "K.J. attended school today (P1-P5).", (PS, None, None, None, False), "Attended school today."),
    Sample("t14-apple-you-guys-do-the-check", "NS-2107", "apple", "riv_att", "Mon, 23 Nov 2026 10:05:00 +0000",
           "Could you guys do the check this time round please?", (CR, None, None, None, False), "'you guys'."),
    Sample("t15-outlook-plain-will-ask-flo", "NS-2101", "outlook_plain", "sb", "Mon, 23 Nov 2026 09:05:00 +0000",
           "I'll ask our FLO to do a home visit and come back to you.", (OT, None, None, None, False), "A plan."),
    Sample("t16-thunderbird-mum-answered-out-with-friends", "NS-2106", "thunderbird", "dc", "Tue, 24 Nov 2026 16:40:00 +0000",
           "Went to the address at 3.30pm - mum answered but said L.M. was out with friends, so not seen.",
           (CD, "2026-11-24", "not_seen", None, True), "Parent at the door, child not seen."),
    Sample("t17-apple-checked-in-on-her", "NS-2111", "apple", "pn", "Tue, 1 Dec 2026 12:00:00 +0000",
           "Checked in on O.A. at home this morning, she's fine, back in school tomorrow.",
           (CD, "2026-12-01", "seen_safe", "Back in school tomorrow (2 December 2026).", False), "'Checked in on O.A. at home'."),
    Sample("t18-gmail-who-is-this-regarding", "NS-2107", "gmail", "riv_att", "Mon, 23 Nov 2026 13:10:00 +0000",
           "Sorry, who is this regarding? We have two pupils with those initials.", (OT, None, None, None, True), "A question."),
    Sample("t20-outlook-desktop-has-been-carried-out", "NS-2107", "outlook_desktop_html", "ak", "Thu, 26 Nov 2026 12:00:00 +0000",
           "A home visit has been carried out and the child was seen safe and well.",
           (CD, "2026-11-26", "seen_safe", None, False), "Formal passive."),
    Sample("t21-ios-undertaken-23-11-26", "NS-2107", "ios", "riv_att", "Thu, 26 Nov 2026 08:30:00 +0000",
           "Safe and well check undertaken 23/11/26 by DSL - N.P. was seen and is fine.",
           (CD, "2026-11-23", "seen_safe", None, False), "Full numeric date."),
    Sample("t22-gmail-black-eye-keep-an-eye", "NS-2105", "gmail", "ha", "Tue, 24 Nov 2026 17:00:00 +0000",
           "Visited today - I.K. seen, but he had a black eye which he said was from football. Mum's explanation matched. "
           "We will keep an eye on him.",
           (CD, "2026-11-24", "concerns", "The school will keep an eye on him.", True), "An injury seen: concerns."),
]


def expected(s: Sample) -> dict:
    kind, check_date, outcome, next_steps, review = s.expect
    ref = s.case if s.client != "unmatched" else None
    return {"kind": kind, "case_ref": ref, "check_date": check_date, "outcome": outcome,
            "next_steps": next_steps, "needs_review": review, "notes": s.notes}


def cases_json() -> dict:
    schools = [
        {"name": n, "urn": u, "domains": d, "registered_contacts": [{"name": a, "address": b, "role": c} for a, b, c in cs]}
        for n, u, d, cs in SCHOOLS.values()
    ]
    cases = []
    for ref, (school_key, initials, pronoun, tutor, risk, sent) in CASES.items():
        name, urn, domains, _ = SCHOOLS[school_key]
        cases.append({
            "case_ref": ref, "pupil_initials": initials, "pupil_pronoun": pronoun, "main_school": name,
            "main_school_urn": urn, "school_domains": domains,
            "registered_contacts": [a for _, a in recipients(ref)], "key_tutor": tutor, "safeguarding_risk": risk,
            "not_seen_since": (sent.date() - timedelta(days=7)).isoformat(), "sent": sent.isoformat(),
            "message_id": message_id(ref), "subject": subject(ref),
        })
    return {"about": "Synthetic case table for the paraphrase replies in this folder (all .example). Times are UTC.",
            "service": SERVICE, "schools": schools, "cases": cases}


def main() -> None:
    names = [s.name for s in SAMPLES]
    assert len(names) == len(set(names)), "duplicate sample names"
    (HERE / "cases.json").write_text(json.dumps(cases_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for s in SAMPLES:
        (HERE / f"{s.name}.eml").write_bytes(build(s))
        (HERE / f"{s.name}.json").write_text(json.dumps(expected(s), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(SAMPLES)} samples written to {HERE}")


if __name__ == "__main__":
    main()
