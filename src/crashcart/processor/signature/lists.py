"""Signature lists: siggen's own, Crashcart's additions, and a deployment's directory, layered in that order.

siggen reads four lists (``irrelevant_signature_re``, ``prefix_signature_re``,
``signatures_with_line_numbers_re``, ``signature_sentinels``) either from its package or, with
``signature_list_dir``, from one directory that must hold all four — it cannot layer a few additions on top of
its own. Crashcart loads siggen's lists through siggen's own reader (``siglists_utils``), appends ours
(``lists/*.txt`` next to this module) and then the deployment's (``CRASHCART_SIGNATURE_LISTS_DIR``, every
file optional), and hands the merged lists to siggen's ``CSignatureTool`` (see ``generator.py``).

Three more lists are Crashcart's own (``system_libraries``, ``abort_frames_re``, ``terminate_frames_re``):
which modules are system libraries and which of their functions mean "abort" or "std::terminate".

A deployment that wants to *replace* rather than extend the defaults sets ``include_defaults=False``
(``CRASHCART_SIGNATURE_LISTS_INCLUDE_DEFAULTS=false``): then only its directory is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from siggen import siglists_utils  # type: ignore[import-untyped]

from crashcart.errors import ConfigError

#: siggen's list names (file ``<name>.txt``).
SIGGEN_LISTS = (
    "irrelevant_signature_re",
    "prefix_signature_re",
    "signatures_with_line_numbers_re",
    "signature_sentinels",
)
#: Crashcart's own list names.
CRASHCART_LISTS = ("system_libraries", "abort_frames_re", "terminate_frames_re")
#: Lists whose lines are regular expressions (validated when read).
REGEX_LISTS = frozenset(name for name in SIGGEN_LISTS + CRASHCART_LISTS if name.endswith("_re"))

BUNDLED_DIR = Path(__file__).parent / "lists"


class SignatureListError(ConfigError):
    """A signature list file cannot be read or has a bad line; the processor must not start with it."""

    code = "signature_list_invalid"


@dataclass(frozen=True)
class SignatureLists:
    """Every list signature generation uses, already merged; each is a tuple of lines in order."""

    irrelevant: tuple[str, ...]
    prefix: tuple[str, ...]
    line_numbers: tuple[str, ...]
    sentinels: tuple[str, ...]
    system_libraries: tuple[str, ...]
    abort_frames: tuple[str, ...]
    terminate_frames: tuple[str, ...]
    #: Where the lists came from, for ``signature_debug`` (``siggen+crashcart+/srv/siglists``).
    source: str = "siggen+crashcart"


def read_list(path: Path, *, regex: bool) -> tuple[str, ...]:
    """Lines of a list file without blanks and ``#`` comments; regexes are compiled to fail early."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SignatureListError(f"cannot read signature list {path}: {exc}") from exc
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if regex:
            try:
                re.compile(line)
            except re.error as exc:
                raise SignatureListError(f"{path}:{number}: bad regular expression: {exc}") from exc
        lines.append(line)
    return tuple(lines)


def _siggen_list(name: str) -> tuple[str, ...]:
    try:
        lines = siglists_utils.get_signature_list_content(name)
    except siglists_utils.BadRegularExpressionLineError as exc:  # a broken siggen release
        raise SignatureListError(f"siggen's {name} list is invalid: {exc}") from exc
    # siggen can hold (sentinel, condition) tuples; only its plain strings are kept.
    return tuple(line for line in lines if isinstance(line, str))


def _from_dir(directory: Path, name: str) -> tuple[str, ...]:
    path = directory / f"{name}.txt"
    return read_list(path, regex=name in REGEX_LISTS) if path.is_file() else ()


def load_signature_lists(directory: Path | None = None, *, include_defaults: bool = True) -> SignatureLists:
    """Merge siggen's lists, Crashcart's (``include_defaults``) and ``directory``'s (each file optional).

    Raises :class:`SignatureListError` for an unreadable file, a bad regex, or a ``directory`` that is not one.
    """
    if directory is not None and not directory.is_dir():
        raise SignatureListError(f"signature lists directory {directory} does not exist")
    merged: dict[str, tuple[str, ...]] = {}
    for name in SIGGEN_LISTS + CRASHCART_LISTS:
        lines: tuple[str, ...] = ()
        if include_defaults:
            if name in SIGGEN_LISTS:
                lines += _siggen_list(name)
            lines += _from_dir(BUNDLED_DIR, name)
        if directory is not None:
            lines += _from_dir(directory, name)
        merged[name] = lines
    parts = ["siggen", "crashcart"] if include_defaults else []
    if directory is not None:
        parts.append(str(directory))
    return SignatureLists(
        irrelevant=merged["irrelevant_signature_re"],
        prefix=merged["prefix_signature_re"],
        line_numbers=merged["signatures_with_line_numbers_re"],
        sentinels=merged["signature_sentinels"],
        system_libraries=merged["system_libraries"],
        abort_frames=merged["abort_frames_re"],
        terminate_frames=merged["terminate_frames_re"],
        source="+".join(parts) or "empty",
    )
