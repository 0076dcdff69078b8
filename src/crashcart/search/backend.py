"""The search backend protocol: what executes a parsed Super Search query.

The API (``supersearch``) parses parameters into a ``SearchQuery`` and hands it to a backend; only the
backend knows how the index is stored. Today's backend runs SQL through Django on SQLite or PostgreSQL
(``crashcart.search.runner``); a columnar one (ClickHouse at scale) implements the same method and the API
does not change.
"""

from __future__ import annotations

from typing import Any, Protocol

from crashcart.search.query import SearchQuery


class SearchBackend(Protocol):
    def search(self, query: SearchQuery) -> dict[str, Any]:
        """Socorro's answer: ``{"hits", "total", "facets", "errors"}`` plus ``next_cursor`` (None on the last page).

        Raises ``crashcart.errors.BadArgumentError`` for a query the backend refuses (too complex, timed out)
        and ``crashcart.errors.IndexUnavailable`` when the index cannot be reached.
        """
        ...
