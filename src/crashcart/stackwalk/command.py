"""``crashcart stackwalk``: walk one minidump with symbols from local directories and URLs, print text or JSON.

The CLI parses options and passes what the deployment configures (symbol cache, timeouts, S3 client) as a
:class:`~crashcart.stackwalk.stackwalker.WalkerConfig`; this module puts the command's own choices (symbol
paths and URLs, ``--cache-dir``) into it and walks through the one entry point, ``Stackwalker``. Errors a user
can fix (an unreadable dump or raw crash, a bad symbol URL) are raised as :class:`StackwalkCommandError` with
a one-line message.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crashcart.errors import CrashcartError
from crashcart.stackwalk.stackwalker import DumpUnreadable, Stackwalker, WalkerConfig
from crashcart.stackwalk.walker import WalkOptions

LOGGER = logging.getLogger(__name__)

#: Largest ``--raw-crash`` file read (bytes); raw crashes are a few kB.
MAX_RAW_CRASH_SIZE = 16 << 20


class StackwalkCommandError(CrashcartError):
    """The command cannot do what was asked (unreadable dump, unreadable raw crash, bad symbol source)."""

    code = "stackwalk_failed"


@dataclass(frozen=True)
class StackwalkRequest:
    dump: Path
    symbols_paths: Sequence[Path] = ()
    symbols_urls: Sequence[str] = ()
    as_json: bool = False
    raw_crash: Path | None = None
    cache_dir: Path | None = None
    #: None: the deployment's (``CRASHCART_STACKWALK_*``), so the command is bounded as the processor is.
    options: WalkOptions | None = None


def symbol_urls(request: StackwalkRequest) -> list[str]:
    """The ordered source list: ``--symbols-path`` directories (as ``file://``) first, then ``--symbols-url``."""
    return [path.resolve().as_uri() for path in request.symbols_paths] + list(request.symbols_urls)


def request_config(request: StackwalkRequest, deployment: WalkerConfig) -> WalkerConfig:
    """``deployment``'s cache, timeouts and S3 client with the request's symbols, cache directory and options
    (if it has its own)."""
    cache_dir = request.cache_dir if request.cache_dir is not None else deployment.symbols_cache_dir
    options = request.options if request.options is not None else deployment.options
    return dataclasses.replace(
        deployment, symbol_urls=symbol_urls(request), symbols_cache_dir=cache_dir, options=options
    )


def run_stackwalk(request: StackwalkRequest, deployment: WalkerConfig) -> str:
    """Walk ``request.dump`` and return the text or JSON output (ending in a newline)."""
    raw_crash = _read_raw_crash(request.raw_crash) if request.raw_crash is not None else None
    config = request_config(request, deployment)
    try:
        stackwalker = Stackwalker(config)
    except CrashcartError as exc:
        raise StackwalkCommandError(f"cannot use symbol sources {' '.join(config.symbol_urls)!r}: {exc}") from exc
    try:
        if request.as_json:
            return json.dumps(stackwalker.walk_json(request.dump, raw_crash), indent=2) + "\n"
        return stackwalker.walk_text(request.dump)
    except DumpUnreadable as exc:
        raise StackwalkCommandError(str(exc)) from exc
    finally:
        stackwalker.close()


def _read_raw_crash(path: Path) -> dict[str, Any]:
    try:
        if path.stat().st_size > MAX_RAW_CRASH_SIZE:
            raise StackwalkCommandError(f"raw crash {path} is larger than {MAX_RAW_CRASH_SIZE} bytes")
        value = json.loads(path.read_bytes())
    except OSError as exc:
        raise StackwalkCommandError(f"cannot open raw crash {path}: {exc.strerror or exc}") from exc
    except (ValueError, RecursionError) as exc:
        raise StackwalkCommandError(f"raw crash {path} is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise StackwalkCommandError(f"raw crash {path} is not a JSON object")
    return value
