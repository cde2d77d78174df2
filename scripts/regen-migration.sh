#!/usr/bin/env bash
# Development only, before the first release: regenerate the initial migration from the models.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f worker/db/migrations/versions/0001_initial_schema.py /tmp/regen.db
.venv/bin/python - <<'PY'
from alembic import command
from worker.db.session import make_engine, alembic_config
e = make_engine("sqlite:////tmp/regen.db")
command.revision(alembic_config(e), message="initial schema", autogenerate=True, rev_id="0001")
PY
sed -i 's/[[:space:]]*$//' worker/db/migrations/versions/0001_initial_schema.py
.venv/bin/ruff check --fix -q worker/db/migrations/versions/0001_initial_schema.py || true
