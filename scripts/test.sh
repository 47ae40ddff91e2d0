#!/usr/bin/env bash
# The whole test suite: sets up (scripts/setup.sh --system), lints, and runs pytest.
# On SQLite by default; set DATABASE_URL=postgres://… to run it against PostgreSQL.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/registry -x).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --system
.venv/bin/ruff check src tests bench
echo "Database: ${DATABASE_URL:-SQLite (default)}"
# pytest exits 5 when no test ran: that is a failure here, as is any other non-zero code.
exec .venv/bin/pytest -p no:cacheprovider "$@"
