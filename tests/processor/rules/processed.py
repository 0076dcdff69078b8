"""The type of the ``process_dump`` fixture (``conftest.py``): a dump file in, its processed crash out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

ProcessDump = Callable[[Path], dict[str, Any]]
