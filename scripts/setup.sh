#!/usr/bin/env bash
# Install uv (from PyPI) when it is missing, then the locked dependencies into .venv. Idempotent and quick
# when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v uv >/dev/null 2>&1; then
  if [ ! -x "$HOME/.local/bin/uv" ]; then
    echo "installing uv from PyPI ..." >&2
    python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
  fi
  export PATH="$HOME/.local/bin:$PATH"
fi
uv sync --frozen --quiet
