"""A real mail stack on loopback for tests: Postfix (SMTP in) -> LMTP -> Dovecot (IMAP out).

Both servers run as private instances under one temporary folder, on spare 127.0.0.1 ports,
so the system's own Postfix and Dovecot (if any) are neither used nor disturbed. Nothing
leaves the machine: Postfix accepts only the test domains and has no outside transport.

In tests: `pytest_plugins = ["tests.mailstack"]` in the module (or in tests/conftest.py)
provides the session fixture `mailstack`; mark those tests `@pytest.mark.mailstack`. From a
script or a benchmark, use it as a context manager:

    with MailStack() as stack:
        ...  # stack.smtp_port, stack.imap(user), stack.wait_for_messages(user, 1)

Needs root and `apt-get install dovecot-imapd dovecot-lmtpd postfix openssl`
(`scripts/test-deps.sh` does it). Any address at the test domains has a mailbox and logs in
with `stack.password`. Postfix answers recipients whose local part starts with `defer-` with a
450 and `reject-` with a 550, so tests can see both kinds of refusal from a real server.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from imapclient import IMAPClient

REQUIRE_ENV = "COURIER_REQUIRE_MAILSTACK"
INSTALL_HINT = (
    "the mail stack tests need Postfix and Dovecot and must run as root: "
    "`sudo apt-get install dovecot-imapd dovecot-lmtpd postfix openssl` and run the tests as root "
    "(or run `make test` as root, which installs them with scripts/test-deps.sh)"
)
DEFAULT_PASSWORD = "courier-test-password"
DOVECOT_LIBEXEC = Path("/usr/lib/dovecot")
POSTFIX_DAEMONS = Path("/usr/lib/postfix/sbin")

# Postfix daemons, none chrooted (a chroot would need copies of /etc files in the queue folder).
_MASTER_SERVICES = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def _which(name: str) -> str:
    """A program on PATH or in the sbin folders (not on a normal user's PATH)."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/local/sbin") or ""


def missing_requirements() -> str | None:
    """Why the stack cannot run here, or None when it can."""
    problems = []
    if os.geteuid() != 0:
        problems.append("not running as root")
    wanted = {
        "dovecot": _which("dovecot"),
        "doveadm": _which("doveadm"),
        "dovecot imap": str(DOVECOT_LIBEXEC / "imap"),
        "dovecot lmtp": str(DOVECOT_LIBEXEC / "lmtp"),
        "postfix": _which("postfix"),
        "postfix smtpd": str(POSTFIX_DAEMONS / "smtpd"),
        "openssl": _which("openssl"),
    }
    absent = [name for name, path in wanted.items() if not path or not Path(path).exists()]
    if absent:
        problems.append("missing " + ", ".join(absent))
    if not problems:
        return None
    return "; ".join(problems) + " - " + INSTALL_HINT


def spare_ports(count: int) -> list[int]:
    """Ports the kernel hands out as free on 127.0.0.1 (held together so they differ)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def wait_for_port(port: int, timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                tail = _tail(log) if log else ""
                raise RuntimeError(f"{what} is not listening on 127.0.0.1:{port}\n{tail}") from None
            time.sleep(0.02)


def _tail(path: Path | None, lines: int = 40) -> str:
    if path is None or not path.exists():
        return ""
    text = path.read_text(errors="replace").splitlines()[-lines:]
    return f"--- last lines of {path} ---\n" + "\n".join(text)


def _run(*args: str) -> None:
    """Run a command; its output goes to a file, since a daemon it starts keeps pipes open."""
    with tempfile.TemporaryFile() as out:
        code = subprocess.run(args, stdout=out, stderr=out, timeout=60).returncode
        if code != 0:
            out.seek(0)
            text = out.read().decode(errors="replace")
            raise RuntimeError(f"{' '.join(args)} failed ({code}):\n{text}")


class MailStack:
    """Postfix + Dovecot under one temporary folder. `start()`/`stop()` or `with`."""

    def __init__(
        self,
        domains: list[str] | None = None,
        password: str = DEFAULT_PASSWORD,
        root: Path | None = None,
    ) -> None:
        """`domains` None accepts every domain ending in `.example`; a list accepts only those."""
        self.domains = domains
        self.password = password
        self._given_root = root
        self.root = Path()
        self._counter = itertools.count(1)
        self.instance = f"courier-test-{uuid.uuid4().hex[:8]}"
        self._running = False
        self.smtp_port = self.smtps_port = self.smtp_plain_port = 0
        self.imap_port = self.imaps_port = self.lmtp_port = self.auth_port = 0
        self.startup_seconds = 0.0

    # -- paths -----------------------------------------------------------------------------
    @property
    def cafile(self) -> Path:
        """The self-signed certificate both servers present (for 127.0.0.1 and localhost)."""
        return self.root / "tls" / "cert.pem"

    @property
    def dovecot_conf(self) -> Path:
        return self.root / "dovecot" / "dovecot.conf"

    @property
    def postfix_dir(self) -> Path:
        return self.root / "postfix" / "etc"

    @property
    def dovecot_log(self) -> Path:
        return self.root / "dovecot" / "dovecot.log"

    @property
    def postfix_log(self) -> Path:
        return self.root / "postfix" / "maillog"

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts exactly the stack's self-signed certificate."""
        return ssl.create_default_context(cafile=str(self.cafile))

    def logs(self) -> str:
        """The tails of both servers' logs, for a failing test's message."""
        return _tail(self.dovecot_log) + "\n" + _tail(self.postfix_log)

    # -- life cycle ------------------------------------------------------------------------
    def __enter__(self) -> MailStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        problem = missing_requirements()
        if problem:
            raise RuntimeError(problem)
        started = time.monotonic()
        (
            self.smtp_port,
            self.smtps_port,
            self.smtp_plain_port,
            self.imap_port,
            self.imaps_port,
            self.lmtp_port,
            self.auth_port,
        ) = spare_ports(7)
        self.root = Path(self._given_root or tempfile.mkdtemp(prefix="courier-mailstack-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)  # Dovecot's and Postfix's unprivileged users must get in
        try:
            self._make_certificate()
            self._configure_dovecot()
            self._configure_postfix()
            self._running = True
            atexit.register(self.stop)  # should the process end without tearing down
            _run("dovecot", "-c", str(self.dovecot_conf))
            _run("postfix", "-c", str(self.postfix_dir), "start")
            for port, what, log in (
                (self.imap_port, "Dovecot IMAP", self.dovecot_log),
                (self.imaps_port, "Dovecot IMAPS", self.dovecot_log),
                (self.lmtp_port, "Dovecot LMTP", self.dovecot_log),
                (self.auth_port, "Dovecot auth", self.dovecot_log),
                (self.smtp_port, "Postfix SMTP", self.postfix_log),
                (self.smtps_port, "Postfix SMTPS", self.postfix_log),
                (self.smtp_plain_port, "Postfix SMTP without TLS", self.postfix_log),
            ):
                wait_for_port(port, 15, what, log)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started

    def stop(self) -> None:
        if self._running:
            self._running = False
            # What `postfix stop` and `doveadm stop` do, without their one-second polling.
            self._terminate(self.root / "postfix" / "queue" / "pid" / "master.pid")
            self._stop_dovecot()
        if self.root != Path() and self._given_root is None:
            shutil.rmtree(self.root, ignore_errors=True)

    def _stop_dovecot(self) -> None:
        """Stop the master, then the IMAP sessions it leaves running (they outlive it)."""
        self._terminate(self.root / "dovecot" / "run" / "master.pid")
        for pid in self._pids(lambda cmd, _: cmd.startswith(f"dovecot-{self.instance}/".encode())):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    @staticmethod
    def _pids(match: Callable[[bytes, int], bool]) -> list[int]:
        """Processes whose (command line, parent pid) match."""
        found = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                cmdline = (proc / "cmdline").read_bytes().split(b"\0")[0]
                parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if match(cmdline, parent):
                found.append(int(proc.name))
        return found

    @staticmethod
    def _terminate(pid_file: Path, timeout: float = 10) -> None:
        """TERM the master process named in `pid_file`, wait for it, KILL it if it lingers."""
        try:
            pid = int(pid_file.read_text().split()[0])
            os.kill(pid, signal.SIGTERM)
        except (OSError, ValueError, IndexError):
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.02)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    def restart_dovecot(self) -> None:
        """Stop and start Dovecot: every IMAP session is cut, as when a server restarts.

        Postfix's smtpd processes are ended too: their link to Dovecot's auth service is
        gone, and a reused one would answer the next login with a 454.
        """
        self._stop_dovecot()
        self.drop_smtp_sessions()
        _run("dovecot", "-c", str(self.dovecot_conf))
        wait_for_port(self.imap_port, 15, "Dovecot IMAP", self.dovecot_log)
        wait_for_port(self.imaps_port, 15, "Dovecot IMAPS", self.dovecot_log)
        wait_for_port(self.lmtp_port, 15, "Dovecot LMTP", self.dovecot_log)

    def drop_smtp_sessions(self) -> int:
        """End every open SMTP session from the server side (TERM the smtpd processes)."""
        master = int(
            (self.root / "postfix" / "queue" / "pid" / "master.pid").read_text().split()[0]
        )
        pids = self._pids(lambda cmd, parent: parent == master and cmd.endswith(b"smtpd"))
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        return len(pids)

    def kick(self, user: str) -> None:
        """Make Dovecot drop `user`'s IMAP sessions from the server side, and wait until gone."""
        _run("doveadm", "-c", str(self.dovecot_conf), "kick", user)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            who = subprocess.run(
                ["doveadm", "-c", str(self.dovecot_conf), "who", "-1", user],
                capture_output=True, text=True, timeout=10,
            )  # fmt: skip
            if user not in who.stdout:
                return
            time.sleep(0.02)
        raise RuntimeError(f"{user}'s IMAP sessions are still there after doveadm kick")

    # -- configuration -----------------------------------------------------------------------
    def _make_certificate(self) -> None:
        tls = self.root / "tls"
        tls.mkdir()
        _run(
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(tls / "key.pem"), "-out", str(tls / "cert.pem"),
        )  # fmt: skip
        (tls / "key.pem").chmod(0o600)

    def _configure_dovecot(self) -> None:
        base = self.root / "dovecot"
        mail = self.root / "mail"
        for folder in (base, base / "run", base / "state"):
            folder.mkdir(mode=0o755)
        mail.mkdir(mode=0o755)
        shutil.chown(mail, "mail", "mail")
        dh = Path("/usr/share/dovecot/dh.pem")
        self.dovecot_conf.write_text(f"""\
instance_name = {self.instance}
base_dir = {base}/run
state_dir = {base}/state
log_path = {self.dovecot_log}
stats_writer_socket_path =
listen = 127.0.0.1
protocols = imap lmtp
ssl = yes
ssl_cert = <{self.root}/tls/cert.pem
ssl_key = <{self.root}/tls/key.pem
{f"ssl_dh = <{dh}" if dh.exists() else ""}
disable_plaintext_auth = no
auth_mechanisms = plain
auth_verbose = yes
auth_failure_delay = 0
first_valid_uid = 1
mail_location = maildir:{mail}/%Lu
postmaster_address = postmaster@service.example
namespace inbox {{
  inbox = yes
}}
passdb {{
  driver = static
  args = password={self.password}
}}
userdb {{
  driver = static
  args = uid=mail gid=mail home={mail}/%Lu allow_all_users=yes
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.imaps_port}
    ssl = yes
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {self.lmtp_port}
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service auth {{
  inet_listener {{
    address = 127.0.0.1
    port = {self.auth_port}
  }}
}}
""")

    def _configure_postfix(self) -> None:
        top = self.root / "postfix"
        etc, queue, data = self.postfix_dir, top / "queue", top / "data"
        for folder in (top, etc, queue):
            folder.mkdir(mode=0o755)
        data.mkdir(mode=0o700)
        shutil.chown(data, "postfix", "postfix")
        if self.domains is None:
            (etc / "domains").write_text("/\\.example$/ OK\n")
        else:
            (etc / "domains").write_text(
                "".join(f"/^{d.replace('.', '[.]')}$/ OK\n" for d in self.domains)
            )
        (etc / "recipient_access").write_text(
            "/^defer-/ 450 4.2.0 Mailbox busy, try again later\n"
            "/^reject-/ 550 5.1.1 No such mailbox here\n"
        )
        settings = {
            "compatibility_level": "3.6",
            "queue_directory": str(queue),
            "data_directory": str(data),
            "meta_directory": "/etc/postfix",
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": "mx.test-stack.example",
            "mydomain": "test-stack.example",
            "myorigin": "$myhostname",
            "mydestination": "",
            "inet_interfaces": "loopback-only",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "alias_maps": "",
            "alias_database": "",
            "biff": "no",
            "local_transport": "error:5.1.1 no local delivery in the test stack",
            "default_transport": "error:5.7.1 no outside delivery in the test stack",
            "relay_transport": "error:5.7.1 no outside delivery in the test stack",
            "virtual_mailbox_domains": f"regexp:{etc}/domains",
            "virtual_transport": f"lmtp:inet:127.0.0.1:{self.lmtp_port}",
            "smtpd_relay_restrictions": "reject_unauth_destination",
            "smtpd_recipient_restrictions": f"check_recipient_access regexp:{etc}/recipient_access",
            "smtpd_sasl_auth_enable": "yes",
            "smtpd_sasl_type": "dovecot",
            "smtpd_sasl_path": f"inet:127.0.0.1:{self.auth_port}",
            "smtpd_tls_cert_file": f"{self.root}/tls/cert.pem",
            "smtpd_tls_key_file": f"{self.root}/tls/key.pem",
            "smtpd_tls_security_level": "may",
            "smtpd_tls_received_header": "yes",
            "smtp_tls_security_level": "none",
            "maillog_file": str(self.postfix_log),
            "maillog_file_prefixes": str(top),
            "smtputf8_enable": "yes",
            "smtpd_error_sleep_time": "0",
            "service_throttle_time": "1s",  # after drop_smtp_sessions() killed an idle smtpd
            "lmtp_destination_concurrency_limit": "10",
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
        }
        (etc / "main.cf").write_text("".join(f"{k} = {v}\n" for k, v in settings.items()))
        (etc / "master.cf").write_text(
            f"127.0.0.1:{self.smtp_port} inet n - n - - smtpd\n"
            f"127.0.0.1:{self.smtps_port} inet n - n - - smtpd\n"
            "  -o smtpd_tls_wrappermode=yes\n"
            f"127.0.0.1:{self.smtp_plain_port} inet n - n - - smtpd\n"
            "  -o smtpd_tls_security_level=none\n" + _MASTER_SERVICES
        )

    # -- helpers for tests -------------------------------------------------------------------
    def address(self, domain: str = "service.example", prefix: str = "t") -> str:
        """A fresh address, so tests sharing the stack never share a mailbox."""
        return f"{prefix}{next(self._counter)}-{uuid.uuid4().hex[:6]}@{domain}"

    def imap(self, user: str, tls: bool = False) -> IMAPClient:
        """An IMAPClient logged in as `user` (plain on `imap_port`, or TLS on `imaps_port`)."""
        if tls:
            client = IMAPClient(
                "127.0.0.1", self.imaps_port, ssl=True, ssl_context=self.ssl_context(), timeout=10
            )
        else:
            client = IMAPClient("127.0.0.1", self.imap_port, ssl=False, timeout=10)
        client.login(user, self.password)
        return client

    def wait_for_messages(
        self, user: str, count: int, timeout: float = 15, mailbox: str = "INBOX"
    ) -> list[int]:
        """Poll the server until `mailbox` holds at least `count` messages; their UIDs."""
        deadline = time.monotonic() + timeout
        uids: list[int] = []
        client = self.imap(user)
        try:
            while True:
                if client.folder_exists(mailbox):
                    client.select_folder(mailbox, readonly=True)
                    uids = client.search(["ALL"])
                    if len(uids) >= count:
                        return list(uids)
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"{user} has {len(uids)} of {count} messages in {mailbox} "
                        f"after {timeout}s\n{self.logs()}"
                    )
                time.sleep(0.05)
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def deliver_lmtp(
        self, raw: bytes, rcpt: str, sender: str = "sender@test-stack.example"
    ) -> None:
        """Put `raw` straight into `rcpt`'s INBOX, bypassing Postfix."""
        with smtplib.LMTP("127.0.0.1", self.lmtp_port, timeout=10) as lmtp:
            refused = lmtp.sendmail(sender, [rcpt], raw)
        if refused:
            raise AssertionError(f"LMTP refused {refused}\n{self.logs()}")


# -- pytest --------------------------------------------------------------------------------
_shared: MailStack | None = None
_users = 0


@contextlib.contextmanager
def shared_stack() -> Iterator[MailStack]:
    """One stack per process, however many modules import the fixture."""
    global _shared, _users
    if _shared is None:
        stack = MailStack()
        stack.start()
        _shared = stack
    _users += 1
    try:
        yield _shared
    finally:
        _users -= 1
        if _users == 0 and _shared is not None:
            _shared.stop()
            _shared = None


@pytest.fixture(scope="session")
def mailstack() -> Iterator[MailStack]:
    """The running stack. Skips where it cannot run, unless COURIER_REQUIRE_MAILSTACK=1."""
    problem = missing_requirements()
    if problem:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {problem}", pytrace=False)
        pytest.skip(problem)
    with shared_stack() as stack:
        yield stack
