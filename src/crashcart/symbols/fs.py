"""Symbol source: a local directory in the Breakpad layout (``file:///srv/symbols``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from crashcart.symbols.interfaces import SymbolData, SymbolNotFound, SymbolSourceUnavailable
from crashcart.symbols.paths import candidate_paths


class FileSymbolSource:
    """``<root>/<debug_file>/<DEBUG_ID>/<stem>.sym``, then the code-id path, then native debug files
    (``paths.candidate_paths``); hands back the file's path. A ``.dSYM`` bundle is a directory: keep its DWARF
    file at the SSQP path (``_.dwarf/mach-uuid-sym-<uuid>/_.dwarf``) or next to the ``.sym`` files."""

    #: Asking costs a few ``stat`` calls, less than reading or writing a negative-cache marker (``SymbolCache``).
    is_local = True

    def __init__(self, root: Path) -> None:
        self.root = root

    def __repr__(self) -> str:
        return f"FileSymbolSource({str(self.root)!r})"

    def locate(
        self, debug_file: str, debug_id: str, code_file: str | None = None, code_id: str | None = None
    ) -> SymbolData:
        return self.locate_paths(candidate_paths(debug_file, debug_id, code_file, code_id), f"{debug_file}/{debug_id}")

    def locate_paths(self, paths: Sequence[str], what: str, exclude: Path | None = None) -> SymbolData:
        """The first of these relative paths that exists and is not ``exclude`` (``what`` names the module in
        the error)."""
        for relative in paths:
            path = self.root / relative
            try:
                if path != exclude and path.is_file():
                    return path
            except OSError as exc:  # permission denied on a directory, I/O error
                raise SymbolSourceUnavailable(f"cannot read {path}: {exc}") from exc
        raise SymbolNotFound(f"{what} not in {self.root}")

    def close(self) -> None:
        """Nothing to release."""
