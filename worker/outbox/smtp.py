"""SMTP transport: yagmail opens and logs in, smtplib moves the bytes, errors are translated here.

yagmail 0.16 is used for the connection only, because its `send()` re-composes the message
and its retry loop sleeps and then swallows the failure (returns False). Its traps, handled
below: a `smtp_starttls=None` means "STARTTLS unless SSL" (so a plain connection must pass
False); STARTTLS and SSL without a context do NOT verify the server's certificate; a
username without "@" gets "@gmail.com" appended; a missing password asks the keyring or
prompts on the terminal.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import socket
import ssl
from typing import Any

import yagmail

from worker.errors import TransportError

log = logging.getLogger(__name__)

SECURITY = ("tls", "starttls", "none")


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
    return f"{code} {' '.join(text.split())}".strip()


def _permanent(code: int) -> bool:
    return 500 <= code < 600


class SmtpTransport:
    """Sends raw messages over one SMTP connection kept open between sends."""

    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        security: str = "starttls",
        username: str = "",
        password: str = "",
        timeout: float = 30,
        helo: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if security not in SECURITY:
            raise ValueError(f"SMTP security must be one of {SECURITY}, not {security!r}")
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.timeout = timeout
        self.helo = helo
        self.ssl_context = ssl_context or ssl.create_default_context()
        self._yag: yagmail.SMTP | None = None
        self._used = False  # the open connection has carried a message: check it before reuse
        self.connections = 0  # how many times a connection was opened (logs, tests)

    # -- connection ------------------------------------------------------------------------
    def _connect(self) -> smtplib.SMTP:
        kwargs: dict[str, Any] = {"timeout": self.timeout}
        if self.helo:
            kwargs["local_hostname"] = self.helo
        if self.security == "tls":
            kwargs["context"] = self.ssl_context
        yag = yagmail.SMTP(
            user=self.username or None,
            password=self.password,
            host=self.host,
            port=self.port,
            smtp_ssl=self.security == "tls",
            smtp_starttls={"context": self.ssl_context} if self.security == "starttls" else False,
            smtp_skip_login=not self.username,
            soft_email_validation=False,
            **kwargs,
        )
        yag.set_logging(None)  # yagmail would add its own stderr handler
        yag.user = self.username  # undo yagmail's "@gmail.com" for usernames without "@"
        try:
            yag.login()
        except BaseException:
            yag.is_closed = True  # its __del__ would otherwise QUIT a half-open connection
            with contextlib.suppress(Exception):
                yag.smtp.close()
            raise
        self._yag = yag
        self._used = False
        self.connections += 1
        return yag.smtp

    def _connection(self) -> smtplib.SMTP:
        """The open connection if it still answers, else a new one."""
        if self._yag is not None and self._used:
            try:
                code, _ = self._yag.smtp.noop()
                if code == 250:
                    return self._yag.smtp
            except (smtplib.SMTPException, OSError):
                pass
            log.info("SMTP connection to %s:%s was dropped; reconnecting", self.host, self.port)
            self._discard()
        if self._yag is None:
            return self._connect()
        return self._yag.smtp

    def _discard(self) -> None:
        if self._yag is not None:
            self._yag.is_closed = True
            with contextlib.suppress(Exception):
                self._yag.smtp.close()
            self._yag = None

    # -- the interface ---------------------------------------------------------------------
    def send(self, raw: bytes, sender: str, recipients: list[str]) -> dict[str, str]:
        """Send `raw` unchanged; the recipients refused while others were accepted."""
        if not recipients:
            raise TransportError("No recipients", permanent=True, stage="envelope")
        stage = "connect"
        try:
            smtp = self._connection()
            stage = "send"
            refused = smtp.sendmail(sender, recipients, raw)
            self._used = True
        except BaseException as exc:
            self._discard()
            if isinstance(exc, Exception):
                raise self._translate(exc, stage) from exc
            raise
        return {address: _reply(code, message) for address, (code, message) in refused.items()}

    def close(self) -> None:
        if self._yag is not None:
            with contextlib.suppress(Exception):
                self._yag.close()
            self._yag = None

    # -- errors ----------------------------------------------------------------------------
    def _translate(self, exc: Exception, stage: str) -> TransportError:
        where = f"{self.host}:{self.port}"
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            reasons = {addr: _reply(code, msg) for addr, (code, msg) in exc.recipients.items()}
            permanent = all(_permanent(code) for code, _ in exc.recipients.values())
            return TransportError(
                f"{where} refused every recipient: {'; '.join(reasons.values())}",
                permanent=permanent, stage="recipients", refused=reasons,
            )  # fmt: skip
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return TransportError(
                f"{where} refused the login for {self.username!r}: {_reply(exc.smtp_code, exc.smtp_error)}",
                permanent=_permanent(exc.smtp_code), stage="login", code=exc.smtp_code,
            )  # fmt: skip
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            # e.g. STARTTLS or AUTH not offered: the settings do not match the server.
            return TransportError(f"{where}: {exc}", permanent=True, stage=stage)
        if isinstance(exc, smtplib.SMTPResponseException):
            if isinstance(exc, smtplib.SMTPSenderRefused):
                stage = "sender"
            elif isinstance(exc, smtplib.SMTPDataError):
                stage = "data"
            return TransportError(
                f"{where} answered {_reply(exc.smtp_code, exc.smtp_error)}",
                permanent=_permanent(exc.smtp_code), stage=stage, code=exc.smtp_code,
            )  # fmt: skip
        if isinstance(exc, ssl.SSLCertVerificationError):
            return TransportError(
                f"{where}: the server's certificate is not trusted ({exc.verify_message})",
                permanent=False, stage="tls",
            )  # fmt: skip
        if isinstance(exc, ssl.SSLError):
            return TransportError(f"{where}: TLS failed ({exc})", permanent=False, stage="tls")
        if isinstance(exc, TimeoutError | socket.timeout):
            return TransportError(f"{where} timed out ({stage})", permanent=False, stage=stage)
        if isinstance(exc, smtplib.SMTPServerDisconnected | OSError):
            return TransportError(
                f"{where}: {type(exc).__name__}: {exc}", permanent=False, stage=stage
            )
        if isinstance(exc, smtplib.SMTPException):
            return TransportError(f"{where}: {exc}", permanent=False, stage=stage)
        # Not a mail failure (a bug, a bad argument): let it through untranslated.
        raise exc
