"""Helpers for the mail-in tests: a worker instance on the demo data, mail a school would send,
and reading and rebuilding mailboxes on the real mail stack (tests/mailstack.py).

The data is the project's own demo set (worker/demo/generate.py: spring 2027, five Main Schools,
cases NS-1 for pupil 61342 and NS-2 for 52806), so nothing here needs ../shared. A `tag` puts
every address on its own sub-domain (`dsl@calder-heights.t1a2b.example`), so tests sharing one
mail stack never share a mailbox; the stack accepts every domain ending in `.example`.
"""

from __future__ import annotations

import contextlib
import secrets
import smtplib
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from tests.helpers_instance import BaseInstance, parse_eml
from worker.app import App
from worker.clock import FixedClock, local, parse_local
from worker.config import load_settings
from worker.db.models import Case, ImportBatch, InboxMessage, OutboxMessage
from worker.demo.generate import SampleInfo, generate_sample
from worker.demo.replies import build_reply
from worker.service import TickReport

if TYPE_CHECKING:
    from tests.mailstack import MailStack

ROSTER_FILES = ("roster/schools.csv", "roster/staff.csv", "roster/pupils.csv")
LOOP_HEADER = "X-MNHES-Courier"

# The demo story (worker/demo/generate.py): who is not seen, and the addresses involved.
NS1_PUPIL = "61342"  # Calder Heights; not-seen email Mon 25 Jan 2027
NS2_PUPIL = "52806"  # Harrowgate Bridge (DSL at the trust); not-seen email Wed 27 Jan 2027
CALDER_DSL = "dsl@calder-heights.example"
CALDER_ATTENDANCE = "attendance@calder-heights.example"
TRUST_DSL = "safeguarding@pennine-learning-trust.example"
HARROWGATE_ATTENDANCE = "attendance@harrowgate-bridge.example"
DSL = "olivia.marsden@mnhes.example"
ATTENDANCE_LEAD = "bozena.nowicka@mnhes.example"
SERVICE_MAILBOX = "attendance@mnhes.example"


def new_tag() -> str:
    return "t" + uuid.uuid4().hex[:6]


def tagged(text: str, tag: str) -> str:
    """Every `.example` domain moved to its own sub-domain: `a@b.example` -> `a@b.TAG.example`."""
    return text.replace(".example", f".{tag}.example") if tag else text


# --- the instance ----------------------------------------------------------------------------


@dataclass
class Instance(BaseInstance):
    """A worker instance on a temporary home, replayed with a fixed clock (as `run --once --at`)."""

    home: Path
    app: App
    clock: FixedClock
    info: SampleInfo
    tag: str
    reports: list[TickReport] = field(default_factory=list)

    def addr(self, address: str) -> str:
        """The test's own version of a demo address."""
        return tagged(address, self.tag)

    @property
    def mailbox(self) -> str:
        return self.app.settings.service.mailbox

    def import_upfront(self, when: str = "2027-01-04 06:00", skip: tuple[str, ...] = ()) -> None:
        """The roster, calendar and the first Arbor exports, as the demo imports them."""
        at = self.at(when)
        paths = [step.path for step in self.info.imports if step.import_at <= at and step.kind not in skip]
        self.import_paths(paths, at)

    # reading the database --------------------------------------------------------------------
    def case_for(self, pupil_ref: str) -> Case:
        found = [c for c in self.cases() if c.pupil_ref == pupil_ref]
        assert found, f"no case for pupil {pupil_ref}: {[(c.ref, c.pupil_ref) for c in self.cases()]}"
        return found[-1]

    def _get(self, model: type, key: int) -> Any:
        with self.app.sessions() as session:
            row = session.get(model, key)
            session.expunge_all()
            return row

    def case(self, case_id: int) -> Case:
        return self._get(Case, case_id)

    def inbox(self) -> list[InboxMessage]:
        return self._all(select(InboxMessage).order_by(InboxMessage.id))

    def item(self, item_id: int) -> InboxMessage:
        return self._get(InboxMessage, item_id)

    def imports(self) -> list[ImportBatch]:
        return self._all(select(ImportBatch).order_by(ImportBatch.id))


def config_toml(
    tag: str,
    *,
    secret: str | None = None,
    smtp: tuple[str, int] | None = None,
    imap: tuple[str, int, str, str] | None = None,
    source: str | None = None,
    arbor_senders: list[str] | None = None,
    extra: str = "",
) -> str:
    """The instance's config.toml: the demo Service's mailbox, and the real servers when given."""
    lines = [
        "[service]",
        f'mailbox = "{tagged(SERVICE_MAILBOX, tag)}"',
        f'domain = "{tagged("mnhes.example", tag)}"',
        f'message_id_secret = "{secret or secrets.token_hex(32)}"',
    ]
    if smtp:
        host, port = smtp
        lines += ["[outgoing]", 'transport = "smtp"', "[outgoing.smtp]", f'host = "{host}"', f"port = {port}",
                  'security = "none"', "timeout_seconds = 10"]
    if imap or source:
        lines += ["[incoming]", f'source = "{"imap" if imap else source}"']
    if imap:
        host, port, username, password = imap
        lines += ["[incoming.imap]", f'host = "{host}"', f"port = {port}", 'security = "none"',
                  f'username = "{username}"', f'password = "{password}"', "timeout_seconds = 10"]
    if arbor_senders is not None:
        lines += ["[imports]", "arbor_report_senders = [" + ", ".join(f'"{a}"' for a in arbor_senders) + "]"]
    return "\n".join(lines) + "\n" + extra


def demo_instance(
    home: Path, *, tag: str = "", config: str | None = None, transport: Any = None, source: Any = None,
    start: str = "2027-01-04 06:00", import_data: bool = True, skip: tuple[str, ...] = (),
) -> Instance:
    """An instance on the demo data (addresses moved to the tag's sub-domains), data imported."""
    home.mkdir(parents=True, exist_ok=True)
    info = generate_sample(home / "sample")
    for name in ROSTER_FILES:
        path = info.folder / name
        path.write_text(tagged(path.read_text(encoding="utf-8"), tag), encoding="utf-8")
    (home / "config.toml").write_text(config if config is not None else config_toml(tag), encoding="utf-8")
    clock = FixedClock(parse_local(start))
    app = App(settings=load_settings(home, environ={}), clock=clock, transport_override=transport,
              source_override=source)
    inst = Instance(home=home, app=app, clock=clock, info=info, tag=tag)
    if import_data:
        inst.import_upfront(start, skip)
    return inst


# --- mail a school (or a machine) would send ------------------------------------------------------


def plain_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def reply_to(
    original: bytes | OutboxMessage, *, from_addr: str, to_addr: str, body: str, at: datetime,
    client: str = "outlook", from_name: str | None = None, headers: dict[str, str] | None = None,
    message_id: str | None = None,
) -> bytes:
    """A school's reply to one of our emails (the raw bytes as received, or its outbox row)."""
    raw = original.raw if isinstance(original, OutboxMessage) else original
    msg = parse_eml(raw)
    subject = str(msg["Subject"])
    case_ref = subject.rsplit("[", 1)[1].rstrip("]") if "[" in subject else "NS-0"
    out = build_reply(
        original_message_id=str(msg["Message-ID"]), case_ref=case_ref, from_addr=from_addr, to_addr=to_addr,
        body=body, date=at, client=client, from_name=from_name, original_text=plain_text(msg),
        subject=f"RE: {subject}" if client == "outlook" else f"Re: {subject}",
    )
    return _with_headers(out, headers or {}, message_id)


def _with_headers(raw: bytes, headers: dict[str, str], message_id: str | None = None) -> bytes:
    """Prepend (trace-like) headers; replace the Message-ID (None drops nothing, "" drops it)."""
    head, sep, rest = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if message_id is not None:
        lines = [line for line in lines if not line.lower().startswith(b"message-id:")]
        if message_id:
            lines.append(f"Message-ID: {message_id}".encode())
    extra = [f"{k}: {v}".encode() for k, v in headers.items()]
    return b"\r\n".join(extra + lines) + sep + rest


def simple_mail(
    *, from_addr: str, to_addr: str, subject: str, body: str, at: datetime, headers: dict[str, str] | None = None,
    message_id: str | None = None, from_name: str | None = None,
) -> EmailMessage:
    msg = EmailMessage(policy=policy.SMTP)
    for name, value in (headers or {}).items():
        msg[name] = value
    msg["From"] = formataddr((from_name, from_addr)) if from_name else from_addr
    msg["To"] = to_addr
    msg["Subject"] = subject
    msg["Date"] = format_datetime(local(at))
    if message_id != "":  # "" leaves it out, as some mail clients and scripts do
        msg["Message-ID"] = message_id or make_msgid(domain=from_addr.rpartition("@")[2])
    msg.set_content(body)
    return msg


def out_of_office(original: OutboxMessage, *, from_addr: str, to_addr: str, at: datetime) -> bytes:
    """An Exchange out-of-office answer to our email (RFC 3834 and Microsoft headers)."""
    sent = parse_eml(original.raw)
    msg = simple_mail(
        from_addr=from_addr, to_addr=to_addr, at=at,
        subject=f"Automatic reply: {sent['Subject']}",
        body="Thank you for your email. I am out of the office until Monday 1 February with no access "
             "to email. For urgent matters please contact the school office.\n",
        headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All",
                 "X-MS-Exchange-Inbox-Rules-Loop": from_addr},
    )
    msg["In-Reply-To"] = str(sent["Message-ID"])
    msg["References"] = str(sent["Message-ID"])
    return msg.as_bytes()


def bounce(original: OutboxMessage, *, failed: str, service_mailbox: str, at: datetime,
           reporting_mta: str = "mx.school.example") -> bytes:
    """A Postfix-style DSN (multipart/report) returning the headers of our email for `failed`."""
    when = format_datetime(local(at))
    boundary = f"bounce-{uuid.uuid4().hex}"
    diagnostic = f"550 5.1.1 <{failed}>: Recipient address rejected: User unknown in virtual mailbox table"
    returned = original.raw.partition(b"\r\n\r\n")[0].decode("utf-8", "replace")
    text = "\r\n".join([
        "Return-Path: <>",
        f"From: MAILER-DAEMON@{reporting_mta} (Mail Delivery System)",
        f"To: {service_mailbox}",
        "Subject: Undelivered Mail Returned to Sender",
        f"Date: {when}",
        f"Message-ID: {make_msgid(domain=reporting_mta)}",
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"',
        "",
        f"--{boundary}",
        "Content-Description: Notification",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        f"This is the mail system at host {reporting_mta}.",
        "",
        "I'm sorry to have to inform you that your message could not",
        "be delivered to one or more recipients.",
        "",
        f"<{failed}>: host {reporting_mta} said: {diagnostic}",
        "",
        f"--{boundary}",
        "Content-Description: Delivery report",
        "Content-Type: message/delivery-status",
        "",
        f"Reporting-MTA: dns; {reporting_mta}",
        f"Arrival-Date: {when}",
        "",
        f"Final-Recipient: rfc822; {failed}",
        f"Original-Recipient: rfc822;{failed}",
        "Action: failed",
        "Status: 5.1.1",
        f"Diagnostic-Code: smtp; {diagnostic}",
        "",
        f"--{boundary}",
        "Content-Description: Undelivered Message Headers",
        "Content-Type: text/rfc822-headers",
        "",
        returned,
        f"--{boundary}--",
        "",
    ])
    return text.encode("utf-8")


def with_attachment(msg: EmailMessage, filename: str, data: bytes, mime: str = "text/csv") -> bytes:
    maintype, subtype = mime.split("/")
    msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


# --- the real mail stack -------------------------------------------------------------------------


def smtp_send(stack: MailStack, raw: bytes, sender: str, recipients: list[str]) -> None:
    """Send as a school's mail server would: SMTP to Postfix, which hands it to Dovecot."""
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=10) as smtp:
        refused = smtp.sendmail(sender, recipients, raw)
    assert not refused, refused


def wait_for_mail(stack: MailStack, user: str, subject_part: str = "", count: int = 1, timeout: float = 15,
                  message_id: str | None = None) -> list[bytes]:
    """Poll `user`'s INBOX until `count` messages have `subject_part` in their subject (and the
    given Message-ID, if any); returns those."""
    deadline = time.monotonic() + timeout
    while True:
        found = []
        for raw in fetch_all(stack, user):
            msg = parse_eml(raw)
            if subject_part in str(msg["Subject"]) and message_id in (None, str(msg["Message-ID"])):
                found.append(raw)
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{user} got {len(found)} of {count} emails with {subject_part!r} "
                                 f"{message_id or ''} in {timeout}s\n{stack.logs()}")
        time.sleep(0.05)


def lmtp_deliver(stack: MailStack, messages: list[bytes], rcpt: str) -> None:
    """Deliver many messages to `rcpt`'s INBOX over one LMTP session (Dovecot, no Postfix)."""
    with smtplib.LMTP("127.0.0.1", stack.lmtp_port, timeout=30) as lmtp:
        for raw in messages:
            refused = lmtp.sendmail("sender@test-stack.example", [rcpt], raw)
            assert not refused, refused


def fetch_all(stack: MailStack, user: str, folder: str = "INBOX") -> list[bytes]:
    """Every message in `user`'s folder, oldest first, without marking anything read."""
    with contextlib.closing(_Login(stack, user)) as login:
        client = login.client
        if not client.folder_exists(folder):
            return []
        client.select_folder(folder, readonly=True)
        uids = sorted(client.search(["ALL"]))
        if not uids:
            return []
        data = client.fetch(uids, ["BODY.PEEK[]"])
        return [data[uid][b"BODY[]"] for uid in uids]


def folder_status(stack: MailStack, user: str, folder: str = "INBOX") -> tuple[int, int]:
    """(UIDVALIDITY, number of messages) of `user`'s folder."""
    with contextlib.closing(_Login(stack, user)) as login:
        info = login.client.select_folder(folder, readonly=True)
        return int(info[b"UIDVALIDITY"]), int(info[b"EXISTS"])


class _Login:
    def __init__(self, stack: MailStack, user: str) -> None:
        self.client = stack.imap(user)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.logout()


def recreate_inbox(stack: MailStack, user: str, messages: list[bytes]) -> None:
    """Delete `user`'s INBOX and create it again holding `messages` (as a mailbox migration does).

    IMAP cannot delete INBOX, so its Maildir files (messages, uid list, index) are removed on
    the server while nobody is logged in; Dovecot then gives the new INBOX a new UIDVALIDITY
    and numbers its messages from UID 1 again. The other folders (Processed) are kept.
    """
    doveadm = ["doveadm", "-c", str(stack.dovecot_conf)]
    subprocess.run([*doveadm, "kick", user], capture_output=True, timeout=30)  # "no users kicked" is fine
    home = stack.root / "mail" / user.lower()
    for sub in ("cur", "new", "tmp"):
        for path in (home / sub).iterdir():
            path.unlink()
    for path in home.iterdir():
        if path.is_file() and path.name.startswith(("dovecot-uidlist", "dovecot.index")):
            path.unlink()
    with contextlib.closing(_Login(stack, user)) as login:
        for raw in messages:
            login.client.append("INBOX", raw)
