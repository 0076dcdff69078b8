from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from crashcart.symbols.chain import ChainSymbolSource
from crashcart.symbols.fs import FileSymbolSource
from crashcart.symbols.interfaces import SymbolData, SymbolNotFound, SymbolSource, SymbolSourceUnavailable
from tests.symbols.conftest import INLINE_FILE, INLINE_ID


class DownSource:
    """A source whose server is down; records calls."""

    is_local = False

    def __init__(self) -> None:
        self.calls: list[str] = []

    def locate(
        self, debug_file: str, debug_id: str, code_file: str | None = None, code_id: str | None = None
    ) -> SymbolData:
        self.calls.append(debug_file)
        raise SymbolSourceUnavailable("down")

    def locate_paths(self, paths: Sequence[str], what: str, exclude: Path | None = None) -> SymbolData:
        self.calls.append(what)
        raise SymbolSourceUnavailable("down")

    def close(self) -> None:
        pass


def test_first_source_that_has_it_wins(tmp_path: Path, store: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    chain = ChainSymbolSource([FileSymbolSource(empty), FileSymbolSource(store)])
    found = chain.locate(INLINE_FILE, INLINE_ID)
    assert isinstance(found, Path)
    assert found.is_relative_to(store)


def test_an_unavailable_source_does_not_stop_the_chain(store: Path) -> None:
    down = DownSource()
    chain = ChainSymbolSource([down, FileSymbolSource(store)])
    assert isinstance(chain.locate(INLINE_FILE, INLINE_ID), Path)
    assert down.calls == [INLINE_FILE]


def test_missing_everywhere_but_one_down_is_unavailable(store: Path) -> None:
    chain = ChainSymbolSource([FileSymbolSource(store), DownSource()])
    with pytest.raises(SymbolSourceUnavailable):
        chain.locate("nothing.pdb", "AB1")


def test_missing_everywhere_is_not_found(store: Path) -> None:
    with pytest.raises(SymbolNotFound):
        ChainSymbolSource([FileSymbolSource(store)]).locate("nothing.pdb", "AB1")
    with pytest.raises(SymbolNotFound):
        ChainSymbolSource([]).locate("nothing.pdb", "AB1")


def test_every_source_implements_the_whole_protocol(tmp_path: Path, store: Path) -> None:
    """``is_local`` and ``locate_paths`` are protocol members, not optional hooks: the chain asks them of
    every source (a local-only chain skips negative-cache markers; companions are looked up everywhere)."""
    local = ChainSymbolSource([FileSymbolSource(tmp_path), FileSymbolSource(store)])
    assert isinstance(local, SymbolSource)
    assert local.is_local
    down = DownSource()
    mixed = ChainSymbolSource([FileSymbolSource(store), down])
    assert not mixed.is_local
    assert not ChainSymbolSource([]).is_local
    with pytest.raises(SymbolSourceUnavailable):
        mixed.locate_paths(["nothing.pdb/AB1/nothing.sym"], "nothing.pdb/AB1")
    assert down.calls == ["nothing.pdb/AB1"]
