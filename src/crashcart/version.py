"""What code a node runs, for ``/__version__`` of every component (Dockerflow)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from crashcart import __version__
from crashcart.settings import Settings


def source_commit(settings: Settings) -> str:
    """The commit this code runs from: the setting (set in images), else git's HEAD, else empty."""
    if settings.commit:
        return settings.commit
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def version_info(settings: Settings) -> dict[str, Any]:
    return {"version": __version__, "commit": source_commit(settings), "source": "crashcart"}
