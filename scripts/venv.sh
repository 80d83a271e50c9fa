# Sourced by scripts/app and .ci/run: make .venv (once) and install a requirements file into it.
# Usage: . scripts/venv.sh requirements.txt
set -euo pipefail
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else return 1; fi; }
if [ ! -x .venv/bin/python ]; then
  if ! python3 -m venv .venv 2>/dev/null; then
    # Debian ships venv separately.
    rm -rf .venv
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq && as_root apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv .venv
  fi
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -r "$1"
