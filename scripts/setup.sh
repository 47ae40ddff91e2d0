#!/usr/bin/env bash
# Sets up everything the demo and the tests need on a fresh machine of this kind (Debian, Python 3.11,
# root): the virtualenv with the pinned dependencies, and — for the tests — Debian's Chromium, CJK fonts
# and LibreOffice. Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.lookback-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ requirements.lock -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
  .venv/bin/python -m pip install -q -c requirements.lock -e ".[test]" 2>&1 | grep -v '^WARNING: Location' || true
  .venv/bin/python -c "import django, docx, psycopg, python_calamine, lookback.cli" # fail here if the install did not
  touch "$stamp"
fi

if [ "${1:-}" = "--system" ]; then
  need=()
  [ -x /usr/bin/chromium ] || need+=(chromium)
  fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
  command -v soffice >/dev/null || need+=(libreoffice-calc-nogui)
  # xgettext: the test that every translatable string in the code has its English translation.
  command -v xgettext >/dev/null || need+=(gettext)
  if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "Missing system packages: ${need[*]} — run as root or: sudo apt-get install -y ${need[*]}" >&2
      exit 1
    fi
    echo "Installing system packages: ${need[*]}"
    apt-get -o DPkg::Lock::Timeout=300 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi
