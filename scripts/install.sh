#!/usr/bin/env bash
# Installs everything the project, its tests and its browser tests need, on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else
    echo "note: chromium not found and not root; browser tests will be skipped" >&2
  fi
fi
python -m pip install -q -r requirements-dev.txt
python -m pip install -q --no-deps --no-build-isolation -e .
