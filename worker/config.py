"""Settings, read once and strictly.

Only this module reads the environment. Precedence: built-in defaults < `config.toml`
in the instance folder < `ATTENDANCE_COURIER_<SECTION>_<KEY>` environment variables.
A secret may also come from a file named by `..._FILE` (systemd credentials, Docker secrets).
Unknown keys are an error, so a typo cannot silently fall back to a default.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, time
from pathlib import Path
from typing import Any

from worker.errors import ConfigError

ENV_PREFIX = "ATTENDANCE_COURIER_"
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class ServiceSettings:
    name: str = "Hospital and Medical Needs Education Service"
    short_name: str = "MNHES"
    mailbox: str = "attendance@service.example"
    mailbox_name: str = "MNHES Attendance"
    domain: str = "service.example"
    phone: str = ""
    message_id_secret: str = ""
    loop_header: str = "X-MNHES-Courier"


@dataclass
class DatabaseSettings:
    url: str = ""  # empty: SQLite at HOME/courier.db


@dataclass
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 587
    security: str = "starttls"  # starttls | tls | none
    username: str = ""
    password: str = ""
    timeout_seconds: int = 30


@dataclass
class OutgoingSettings:
    transport: str = "directory"  # directory | smtp
    directory: str = "outbox"
    smtp: SmtpSettings = field(default_factory=SmtpSettings)


@dataclass
class ImapSettings:
    host: str = "127.0.0.1"
    port: int = 993
    security: str = "tls"  # tls | starttls | none
    username: str = ""
    password: str = ""
    mailbox: str = "INBOX"
    processed_folder: str = "Processed"
    timeout_seconds: int = 60


@dataclass
class IncomingSettings:
    source: str = "maildir"  # maildir | imap | none
    maildir: str = "inbox"
    imap: ImapSettings = field(default_factory=ImapSettings)


@dataclass
class ImportSettings:
    drop: str = "drop"
    arbor_report_senders: list[str] = field(default_factory=list)
    arbor_report_require_dmarc: bool = True
    trusted_authserv_id: str = ""


@dataclass
class ScheduleSettings:
    tick_seconds: int = 60
    cases_from: str = "07:00"
    digest_time: str = "07:30"
    tutor_prompt_time: str = "08:30"
    certificate_time: str = "15:30"


@dataclass
class CertificateSettings:
    send_from: str = ""  # YYYY-MM-DD; empty: from the first day the worker runs
    mark_rule: str = "best"  # best | first


@dataclass
class CaseSettings:
    reminder_after_school_days: int = 2
    max_reminders: int = 1
    number_start: int = 1


@dataclass
class RetentionSettings:
    inbox_raw_days: int = 0  # 0 keeps everything
    outbox_raw_days: int = 0


@dataclass
class PathSettings:
    rules: str = ""  # empty: the rules/ folder beside the package
    templates: str = ""


@dataclass
class Settings:
    home: Path = field(default_factory=lambda: Path("var"))
    service: ServiceSettings = field(default_factory=ServiceSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    outgoing: OutgoingSettings = field(default_factory=OutgoingSettings)
    incoming: IncomingSettings = field(default_factory=IncomingSettings)
    imports: ImportSettings = field(default_factory=ImportSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    certificates: CertificateSettings = field(default_factory=CertificateSettings)
    cases: CaseSettings = field(default_factory=CaseSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    paths: PathSettings = field(default_factory=PathSettings)

    # derived locations -------------------------------------------------------------
    def _in_home(self, value: str) -> Path:
        path = Path(value)
        return path if path.is_absolute() else self.home / path

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{(self.home / 'courier.db').resolve()}"

    @property
    def outbox_dir(self) -> Path:
        return self._in_home(self.outgoing.directory)

    @property
    def inbox_dir(self) -> Path:
        return self._in_home(self.incoming.maildir)

    @property
    def drop_dir(self) -> Path:
        return self._in_home(self.imports.drop)

    @property
    def rules_dir(self) -> Path:
        return Path(self.paths.rules) if self.paths.rules else REPO_ROOT / "rules"

    @property
    def templates_dir(self) -> Path:
        return Path(self.paths.templates) if self.paths.templates else REPO_ROOT / "templates"

    @property
    def config_file(self) -> Path:
        return self.home / "config.toml"


def default_home(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get(f"{ENV_PREFIX}HOME") or "var")


def load_settings(home: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Defaults, then HOME/config.toml, then the environment."""
    env = dict(os.environ if environ is None else environ)
    settings = Settings(home=Path(home) if home else default_home(env))
    if settings.config_file.exists():
        try:
            data = tomllib.loads(settings.config_file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{settings.config_file}: {exc}") from exc
        _apply(settings, data, str(settings.config_file))
    _apply_env(settings, env)
    _check(settings)
    return settings


def _apply(target: Any, data: dict[str, Any], where: str) -> None:
    known = {f.name: f for f in fields(target)}
    for key, value in data.items():
        if key not in known or key == "home":
            raise ConfigError(f"{where}: unknown setting {key!r}")
        current = getattr(target, key)
        if is_dataclass(current):
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: [{key}] must be a table")
            _apply(current, value, f"{where} [{key}]")
        else:
            setattr(target, key, _coerce(value, current, f"{where}: {key}"))


def _coerce(value: Any, current: Any, where: str) -> Any:
    if isinstance(current, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"1", "true", "yes", "0", "false", "no"}:
            return value.lower() in {"1", "true", "yes"}
        raise ConfigError(f"{where} must be true or false, not {value!r}")
    if isinstance(current, int):
        # int(True) is 1 and int(2.5) is 2: neither is what was meant.
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ConfigError(f"{where} must be a whole number, not {value!r}")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where} must be a whole number, not {value!r}") from None
    if isinstance(current, list):
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        if isinstance(value, list):
            return [str(item) for item in value]
        raise ConfigError(f"{where} must be a list")
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be text, not {value!r}")
    return value


def _apply_env(settings: Settings, env: dict[str, str]) -> None:
    """ATTENDANCE_COURIER_OUTGOING_SMTP_PASSWORD=... or ..._PASSWORD_FILE=/run/secrets/x.

    A misspelt variable is an error, as an unknown key in config.toml is: a typo must not
    silently leave a default (say, the outbox folder instead of the real SMTP server) in place.
    """
    known = {ENV_PREFIX + "HOME"}
    for path, _holder, _name in _leaves(settings):
        var = ENV_PREFIX + "_".join(path).upper()
        known |= {var, var + "_FILE"}
    unknown = sorted(var for var in env if var.startswith(ENV_PREFIX) and var not in known)
    if unknown:
        raise ConfigError(f"unknown setting in the environment: {', '.join(unknown)}")
    for path, holder, name in _leaves(settings):
        var = ENV_PREFIX + "_".join(path).upper()
        if var in env:
            setattr(holder, name, _coerce(env[var], getattr(holder, name), var))
        elif var + "_FILE" in env:
            file = Path(env[var + "_FILE"])
            try:
                text = file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"{var}_FILE: cannot read {file}: {exc}") from exc
            setattr(holder, name, _coerce(text, getattr(holder, name), var + "_FILE"))


def _leaves(target: Any, prefix: tuple[str, ...] = ()):
    for f in fields(target):
        if f.name == "home":
            continue
        value = getattr(target, f.name)
        if is_dataclass(value):
            yield from _leaves(value, prefix + (f.name,))
        else:
            yield prefix + (f.name,), target, f.name


def _check(settings: Settings) -> None:
    if settings.outgoing.transport not in {"directory", "smtp"}:
        raise ConfigError(f"outgoing.transport must be directory or smtp, not {settings.outgoing.transport!r}")
    if settings.incoming.source not in {"maildir", "imap", "none"}:
        raise ConfigError(f"incoming.source must be maildir, imap or none, not {settings.incoming.source!r}")
    for sec in (settings.outgoing.smtp.security, settings.incoming.imap.security):
        if sec not in {"tls", "starttls", "none"}:
            raise ConfigError(f"security must be tls, starttls or none, not {sec!r}")
    if settings.certificates.mark_rule not in {"best", "first"}:
        raise ConfigError("certificates.mark_rule must be best or first")
    for name in ("cases_from", "digest_time", "tutor_prompt_time", "certificate_time"):
        parse_clock_time(getattr(settings.schedule, name), f"schedule.{name}")
    _check_values(settings)


# (setting, smallest, largest): numbers outside these are mistakes a job would only trip over
# later (a negative tick, port 99999), so they stop the worker at start, with the key named.
_RANGES = (
    ("schedule.tick_seconds", 1, 86400),
    ("outgoing.smtp.port", 1, 65535),
    ("outgoing.smtp.timeout_seconds", 1, 3600),
    ("incoming.imap.port", 1, 65535),
    ("incoming.imap.timeout_seconds", 1, 3600),
    ("cases.reminder_after_school_days", 1, 100),
    ("cases.max_reminders", 0, 100),
    ("cases.number_start", 1, 10**9),
    ("retention.inbox_raw_days", 0, 100000),
    ("retention.outbox_raw_days", 0, 100000),
)
_ADDRESS = re.compile(r"^[^@\s;,<>\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
_FIELD_NAME = re.compile(r"^[!-9;-~]+$")  # RFC 5322: printable ASCII but ':'


def _setting(settings: Settings, dotted: str) -> Any:
    value: Any = settings
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def _check_values(settings: Settings) -> None:
    for dotted, low, high in _RANGES:
        value = _setting(settings, dotted)
        if not low <= value <= high:
            raise ConfigError(f"{dotted} must be between {low} and {high}, not {value}")
    service = settings.service
    if not _ADDRESS.match(service.mailbox):
        raise ConfigError(f"service.mailbox must be one email address, not {service.mailbox!r}")
    if not _DOMAIN.match(service.domain):
        raise ConfigError(f"service.domain must be a domain (our Message-IDs use it), not {service.domain!r}")
    if not _FIELD_NAME.match(service.loop_header):
        # It is written on everything we send and looked for on what comes in: a name with a
        # space or ':' would break both, and our own mail could loop.
        raise ConfigError(f"service.loop_header must be a header name (no spaces or ':'), not {service.loop_header!r}")
    for sender in settings.imports.arbor_report_senders:
        if not _ADDRESS.match(sender.strip()):
            raise ConfigError(f"imports.arbor_report_senders: {sender!r} is not an email address")
    if settings.certificates.send_from:
        try:
            date.fromisoformat(settings.certificates.send_from)
        except ValueError:
            raise ConfigError(
                f"certificates.send_from must be a date YYYY-MM-DD or empty, not {settings.certificates.send_from!r}"
            ) from None


def parse_clock_time(text: str, where: str = "time") -> time:
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ConfigError(f"{where} must be HH:MM, not {text!r}") from None


def message_id_secret(settings: Settings) -> bytes:
    """The HMAC key for our Message-IDs; a stable per-instance fallback keeps a demo working."""
    if settings.service.message_id_secret:
        return settings.service.message_id_secret.encode()
    secret_file = settings.home / ".message-id-secret"
    if secret_file.exists():
        return secret_file.read_text().strip().encode()
    return b"attendance-courier-unset-secret"


CONFIG_TEMPLATE = """\
# attendance-courier instance configuration.
# Every setting is shown with its default. Secrets (passwords, the Message-ID secret)
# are better given in the environment than here:
#   ATTENDANCE_COURIER_<SECTION>_<KEY>=value   or   ATTENDANCE_COURIER_<SECTION>_<KEY>_FILE=/path
# e.g. ATTENDANCE_COURIER_OUTGOING_SMTP_PASSWORD_FILE=/run/credentials/courier/smtp
# Relative paths are inside this instance folder.

[service]
# name = "Hospital and Medical Needs Education Service"
# short_name = "MNHES"
# The Service mailbox: From and Reply-To of everything sent; replies are read from it.
# mailbox = "attendance@service.example"
# mailbox_name = "MNHES Attendance"
# Our Message-IDs are on this domain.
# domain = "service.example"
# phone = ""
# HMAC key that signs our Message-IDs, so a reply is matched to its case.
message_id_secret = "{secret}"
# loop_header = "X-MNHES-Courier"

[database]
# Empty: SQLite at courier.db in this folder.
# PostgreSQL: url = "postgresql+psycopg://courier@127.0.0.1:5432/courier"
# url = ""

[outgoing]
# directory: write each email as an .eml file (no mail server needed); smtp: send it.
# transport = "directory"
# directory = "outbox"

[outgoing.smtp]
# host = "127.0.0.1"
# port = 587
# security = "starttls"       # starttls | tls | none
# username = ""
# password = ""               # better: ATTENDANCE_COURIER_OUTGOING_SMTP_PASSWORD(_FILE)
# timeout_seconds = 30

[incoming]
# maildir: read replies from a local Maildir; imap: from the Service mailbox; none: do not read.
# source = "maildir"
# maildir = "inbox"

[incoming.imap]
# host = "127.0.0.1"
# port = 993
# security = "tls"            # tls | starttls | none
# username = ""
# password = ""               # better: ATTENDANCE_COURIER_INCOMING_IMAP_PASSWORD(_FILE)
# mailbox = "INBOX"
# processed_folder = "Processed"
# timeout_seconds = 60

[imports]
# Files dropped here are imported on the next tick, then moved to drop/done or drop/failed.
# drop = "drop"
# Addresses whose CSV attachments (Arbor scheduled reports) are imported like dropped files.
# arbor_report_senders = []
# Import them only when our own mail server says DMARC passed (Authentication-Results):
# a forged "report" must not mark an absent pupil present.
# arbor_report_require_dmarc = true
# The authserv-id our receiving server writes in Authentication-Results (e.g. "mx1.service.example");
# empty: trust the topmost Authentication-Results header.
# trusted_authserv_id = ""

[schedule]
# All times are Europe/London.
# tick_seconds = 60
# cases_from = "07:00"          # not-seen emails go out from this time on their due day
# digest_time = "07:30"         # DSL digest, each Service school day
# tutor_prompt_time = "08:30"   # key tutor prompts, each Service school day
# certificate_time = "15:30"    # certificates on each school's agreed day, after the PM register

[certificates]
# Certificates due before this date (YYYY-MM-DD) are never sent automatically.
# Empty: from the first day this instance runs.
# send_from = ""
# best: a session's mark is the best of its lesson marks; first: the first one.
# mark_rule = "best"

[cases]
# reminder_after_school_days = 2
# max_reminders = 1
# number_start = 1

[retention]
# Days to keep raw email bytes; 0 keeps them.
# inbox_raw_days = 0
# outbox_raw_days = 0

[paths]
# rules = ""        # empty: the rules/ folder of the installed project
# templates = ""
"""
