"""``crashcart stackwalk``: walk one minidump with symbols from local directories and URLs, print text or JSON.

The CLI only parses options; this module builds the symbol provider (the command's composition root), walks,
and renders. Errors a user can fix (an unreadable dump or raw crash, a bad symbol URL) are raised as
:class:`StackwalkCommandError` with a one-line message.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crashcart.errors import CrashcartError
from crashcart.minidump import Minidump, MinidumpError
from crashcart.settings import Settings
from crashcart.stackwalk.interfaces import NoSymbols, SymbolLookup
from crashcart.stackwalk.output_json import build_json
from crashcart.stackwalk.output_text import build_text
from crashcart.stackwalk.symbol_lookup import ProviderLookup, RecordingLookup
from crashcart.stackwalk.walker import WalkOptions, walk
from crashcart.symbols import build_symbol_provider

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
    options: WalkOptions = field(default_factory=WalkOptions)


def symbol_urls(request: StackwalkRequest) -> str:
    """The ordered source list: ``--symbols-path`` directories (as ``file://``) first, then ``--symbols-url``."""
    urls = [path.resolve().as_uri() for path in request.symbols_paths]
    urls += list(request.symbols_urls)
    return " ".join(urls)


def run_stackwalk(request: StackwalkRequest, settings: Settings) -> str:
    """Walk ``request.dump`` and return the text or JSON output (ending in a newline)."""
    raw_crash = _read_raw_crash(request.raw_crash) if request.raw_crash is not None else None
    urls = symbol_urls(request)
    supplier: SymbolLookup
    provider_lookup: ProviderLookup | None = None
    if urls:
        if request.cache_dir is not None:
            settings = settings.model_copy(update={"symbols_cache_dir": request.cache_dir})
        try:
            provider_lookup = ProviderLookup(build_symbol_provider(settings, urls))
        except CrashcartError as exc:
            raise StackwalkCommandError(f"cannot use symbol sources {urls!r}: {exc}") from exc
        supplier = provider_lookup
    else:
        supplier = NoSymbols()
    try:
        try:
            dump = Minidump.from_path(request.dump)
        except MinidumpError as exc:
            raise StackwalkCommandError(f"cannot read minidump {request.dump}: {exc}") from exc
        except OSError as exc:
            raise StackwalkCommandError(f"cannot open minidump {request.dump}: {exc.strerror or exc}") from exc
        recording = RecordingLookup(supplier)
        with dump:
            result = walk(dump, recording, request.options)
            symbolize = provider_lookup.symbolize if provider_lookup is not None else None
            status = provider_lookup.status if provider_lookup is not None else None
            if request.as_json:
                doc = build_json(dump, result, symbolize, status, recording.asked)
                if raw_crash is not None:
                    apply_raw_crash(doc, raw_crash)
                return json.dumps(doc, indent=2) + "\n"
            return build_text(dump, result, symbolize, status, asked=recording.asked)
    finally:
        if provider_lookup is not None:
            provider_lookup.provider.close()


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


def apply_raw_crash(doc: dict[str, Any], raw_crash: dict[str, Any]) -> None:
    """What rust-minidump takes from the raw crash (``--raw-json``): module certificate subjects.

    Mozilla's ``ModuleSignatureInfo`` is ``{subject: [module filename, …]}``, as an object or a JSON string.
    """
    info = raw_crash.get("ModuleSignatureInfo")
    if isinstance(info, str):
        try:
            info = json.loads(info)
        except ValueError:
            LOGGER.warning("raw crash ModuleSignatureInfo is not JSON; ignored")
            return
    if not isinstance(info, dict):
        return
    subjects: dict[str, str] = {}
    for subject, names in info.items():
        if isinstance(names, list):
            for name in names:
                if isinstance(name, str):
                    subjects[name.lower()] = str(subject)
    for module in doc.get("modules", []):
        subject = subjects.get(str(module.get("filename", "")).lower())
        if subject is not None:
            module["cert_subject"] = subject
    doc["modules_contains_cert_info"] = True
