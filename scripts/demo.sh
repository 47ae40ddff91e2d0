#!/usr/bin/env bash
# Sets up, builds the Fuzhou demo data set and serves it on http://127.0.0.1:8000 (Ctrl-C stops).
# Data lives in ./var (LOOKBACK_DATA_DIR); delete that folder to start again from scratch.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export LOOKBACK_DATA_DIR=${LOOKBACK_DATA_DIR:-$PWD/var}
exec .venv/bin/lookback demo "$@"
