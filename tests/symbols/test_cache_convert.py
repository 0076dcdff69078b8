"""Converting one symbol file into an entry's files, without the cache around it."""

from __future__ import annotations

from pathlib import Path

import pytest

from crashcart.symbols.cache_convert import Converter, as_local_file
from crashcart.symbols.interfaces import SymbolMalformed
from crashcart.symbols.symfile import SymLimits
from tests.symbols.conftest import TEST_ID, TEST_SYM


def test_a_sym_file_gives_symcache_cfi_and_its_identity(tmp_path: Path) -> None:
    meta = Converter().convert(TEST_SYM, tmp_path, TEST_ID)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cfi", "symcache"]
    assert (meta["kind"], meta["debug_id"], meta["code_id"]) == ("breakpad", TEST_ID, "5F3A1B2C9000")
    assert TEST_SYM.is_file()  # a source's own file is used where it is


def test_downloaded_bytes_are_written_then_removed(tmp_path: Path) -> None:
    Converter().convert(TEST_SYM.read_bytes(), tmp_path, TEST_ID)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cfi", "symcache"]
    assert as_local_file(TEST_SYM, tmp_path) == TEST_SYM


def test_limits_apply(tmp_path: Path) -> None:
    with pytest.raises(SymbolMalformed):
        Converter(SymLimits(max_records=3)).convert(TEST_SYM, tmp_path, TEST_ID)
    with pytest.raises(SymbolMalformed):
        Converter(SymLimits(max_file_size=10)).convert(b"\x7fELF" + b"\x00" * 100, tmp_path, TEST_ID)
