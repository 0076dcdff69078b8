"""The symbol-source protocol (finding symbol files) and the symbol errors.

Finding a symbol file (``SymbolSource.locate``) is kept apart from using it (``cache`` converts, ``provider``
looks up). A source raises only the errors below, chained to the foreign exception that caused them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from crashcart.errors import CrashcartError

SymbolData = Path | bytes
"""What a source hands back: a local file it owns (not to be modified), or the file's bytes."""


class SymbolNotFound(CrashcartError):
    """No source has a symbol file for this module (cached as missing for a while)."""

    code = "symbol_not_found"


class SymbolMalformed(CrashcartError):
    """A symbol file was found but cannot be used: not a symbol file, over a size bound, or corrupt."""

    code = "symbol_malformed"


class SymbolSourceUnavailable(CrashcartError):
    """A source could not be asked (server down, 5xx after retries, refused credentials); retry later.

    Never cached as missing: the file may well exist.
    """

    code = "symbol_source_unavailable"


@runtime_checkable
class ModuleRef(Protocol):
    """The identifiers of a loaded module, as the minidump reader's module objects carry them."""

    @property
    def debug_file(self) -> str: ...

    @property
    def debug_id(self) -> str: ...

    @property
    def code_file(self) -> str: ...

    @property
    def code_id(self) -> str: ...


@runtime_checkable
class SymbolSource(Protocol):
    """Somewhere symbol files live, in the Breakpad/Tecken layout (``paths.sym_path``), or native debug files in
    the symbol-server layouts of ``paths.native_paths``; ``paths.candidate_paths`` is the order to try.

    Everything the chain and the provider ask of a source is declared here and implemented by every source
    (``fs``, ``http``, ``s3``, ``chain``): no optional hooks probed with ``getattr``.
    """

    @property
    def is_local(self) -> bool:
        """Whether asking costs only a few local ``stat`` calls (``FileSymbolSource``): a miss is then cheaper to
        ask again than to remember with a negative-cache marker (``SymbolCache.load(local=True)``)."""
        ...

    def locate(
        self, debug_file: str, debug_id: str, code_file: str | None = None, code_id: str | None = None
    ) -> SymbolData:
        """The ``.sym`` (or else native debug) file for this module; raises ``SymbolNotFound`` or
        ``SymbolSourceUnavailable``.

        ``code_file``/``code_id`` enable the code-id fallback (``paths.code_id_sym_path``) when the debug
        lookup misses or the module has no debug identifiers.
        """
        ...

    def locate_paths(self, paths: Sequence[str], what: str, exclude: Path | None = None) -> SymbolData:
        """The file at the first of these relative paths the source has, other than the local file ``exclude``
        (a native file's companion: ``paths.companion_paths``); ``what`` names the module in the error.
        Raises as ``locate`` does."""
        ...

    def close(self) -> None:
        """Release connections; the source is not used afterwards."""
        ...
