#!/usr/bin/env bash
# What the tests need beyond Python, installed only where it is missing (safe to run again):
#   - Postfix + Dovecot (+ openssl) for the real mail stack tests (tests/mailstack.py), which
#     run their own private instances on spare loopback ports;
#   - PostgreSQL started on 127.0.0.1:5432 when it is installed (tests marked `postgres`).
# As root it installs with apt-get. Not root: it says what is needed and exits 0, unless
# COURIER_REQUIRE_MAILSTACK=1 (CI), where a missing mail stack is an error.
set -euo pipefail

PACKAGES=(dovecot-imapd dovecot-lmtpd postfix openssl libharfbuzz-subset0)
REQUIRE="${COURIER_REQUIRE_MAILSTACK:-0}"

say() { printf 'test-deps: %s\n' "$*"; }

missing=()
stop_services=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ "$(id -u)" -ne 0 ]; then
  if [ ${#missing[@]} -gt 0 ]; then
    say "the tests need: sudo apt-get install ${missing[*]} (mail stack; libharfbuzz-subset0 makes PDFs faster)"
  fi
  say "the mail stack tests run only as root (run 'make test' as root); without it they are skipped"
  if [ "$REQUIRE" = "1" ]; then
    say "COURIER_REQUIRE_MAILSTACK=1: failing instead of skipping"
    exit 1
  fi
  exit 0
fi

if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    say "no apt-get here: install ${missing[*]} (Postfix, Dovecot IMAP + LMTP, openssl) by hand"
    [ "$REQUIRE" = "1" ] && exit 1
    exit 0
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # No system mail configuration: the tests configure their own instances.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  started=$(date +%s)
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
  say "installed in $(( $(date +%s) - started ))s"
  # The packages' scripts may have started the system instances on the standard ports.
  # They would not disturb the tests (other ports, other folders), but nothing should run
  # that nobody asked for: stop what this script just installed.
  case " ${missing[*]} " in *" dovecot-"*) stop_services+=(dovecot) ;; esac
  case " ${missing[*]} " in *" postfix "*) stop_services+=(postfix) ;; esac
  for name in "${stop_services[@]}"; do
    service "$name" stop >/dev/null 2>&1 || true
  done
else
  say "Postfix, Dovecot and openssl are installed"
fi

# PostgreSQL, when installed: make sure a cluster answers on 127.0.0.1:5432.
if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then
    say "PostgreSQL is running on 127.0.0.1:5432"
  else
    for version in $(ls /etc/postgresql); do
      if [ -d "/etc/postgresql/$version/main" ]; then
        say "starting PostgreSQL $version"
        pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
      fi
    done
    if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432 -t 20; then
      say "PostgreSQL does not answer on 127.0.0.1:5432; the postgres tests will say why"
    fi
  fi
fi
