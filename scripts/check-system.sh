#!/usr/bin/env bash
# What the project needs from the system (not from PyPI): Pango for WeasyPrint's PDFs
# (libharfbuzz-subset0 makes them about three times faster). As root with apt-get it installs
# what is missing; otherwise it says what to install and fails, so `make demo` never "works"
# without making a single certificate.
set -euo pipefail
PY=${1:-.venv/bin/python}
if "$PY" -c "import weasyprint" 2>/dev/null; then
  exit 0
fi
PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "check-system: WeasyPrint cannot load Pango; installing ${PACKAGES[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${PACKAGES[@]}" >/dev/null
  "$PY" -c "import weasyprint" && exit 0
fi
echo "check-system: WeasyPrint (the certificate PDFs) needs Pango. Install it, e.g.:" >&2
echo "  sudo apt-get install ${PACKAGES[*]}" >&2
"$PY" -c "import weasyprint" 2>&1 | tail -1 >&2 || true
exit 1
