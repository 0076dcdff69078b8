"""Several symbol sources tried in order (``CRASHCART_SYMBOLS_URLS``); the first that has the file wins."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from crashcart.symbols.interfaces import SymbolData, SymbolNotFound, SymbolSource, SymbolSourceUnavailable

LOGGER = logging.getLogger(__name__)


class ChainSymbolSource:
    """Tries each source in turn.

    A source that is unavailable does not stop the chain; but if no source has the file and one of them
    was unavailable, the answer is ``SymbolSourceUnavailable`` rather than ``SymbolNotFound``, so the miss is
    not cached: the unreachable source may have had it.
    """

    def __init__(self, sources: Sequence[SymbolSource]) -> None:
        self.sources = list(sources)

    @property
    def is_local(self) -> bool:
        """Every source is local (``FileSymbolSource``): a miss is cheaper to ask again than to remember."""
        return bool(self.sources) and all(source.is_local for source in self.sources)

    def __repr__(self) -> str:
        return f"ChainSymbolSource({self.sources!r})"

    def locate(
        self, debug_file: str, debug_id: str, code_file: str | None = None, code_id: str | None = None
    ) -> SymbolData:
        unavailable: SymbolSourceUnavailable | None = None
        for source in self.sources:
            try:
                return source.locate(debug_file, debug_id, code_file, code_id)
            except SymbolNotFound:
                continue
            except SymbolSourceUnavailable as exc:
                LOGGER.warning("symbol source %r unavailable: %s", source, exc)
                unavailable = exc
        if unavailable is not None:
            raise SymbolSourceUnavailable(f"{debug_file}/{debug_id}: {unavailable}") from unavailable
        raise SymbolNotFound(f"{debug_file}/{debug_id} not in any of {len(self.sources)} source(s)")

    def locate_paths(self, paths: Sequence[str], what: str, exclude: Path | None = None) -> SymbolData:
        """The first source's file at the first of ``paths`` it has (native files for ``paths.companion_paths``),
        other than the local file ``exclude``, with ``locate``'s handling of unavailable sources."""
        unavailable: SymbolSourceUnavailable | None = None
        for source in self.sources:
            try:
                found = source.locate_paths(paths, what, exclude)
            except SymbolNotFound:
                continue
            except SymbolSourceUnavailable as exc:
                LOGGER.warning("symbol source %r unavailable: %s", source, exc)
                unavailable = exc
            else:
                return found
        if unavailable is not None:
            raise SymbolSourceUnavailable(f"{what}: {unavailable}") from unavailable
        raise SymbolNotFound(f"{what} not in any of {len(self.sources)} source(s)")

    def close(self) -> None:
        for source in self.sources:
            source.close()
