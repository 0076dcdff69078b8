"""Conformance: every symbol source finds, misses and falls back the same way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crashcart.errors import CrashcartError
from crashcart.symbols.fs import FileSymbolSource
from crashcart.symbols.http import HttpSymbolSource
from crashcart.symbols.interfaces import SymbolMalformed, SymbolNotFound, SymbolSource, SymbolSourceUnavailable
from crashcart.symbols.s3 import S3SymbolSource
from tests.helpers.s3server import S3Server
from tests.symbols.conftest import INLINE_FILE, INLINE_ID, TEST_CODE_FILE, TEST_CODE_ID, SymbolServer


def _read(data: Path | bytes) -> bytes:
    return data.read_bytes() if isinstance(data, Path) else data


@pytest.fixture(params=["file", "http", pytest.param("s3", marks=pytest.mark.s3)])
def source(request: pytest.FixtureRequest, store: Path) -> Iterator[SymbolSource]:
    made: SymbolSource
    if request.param == "file":
        made = FileSymbolSource(store)
    elif request.param == "http":
        server: SymbolServer = request.getfixturevalue("symbol_server")
        made = HttpSymbolSource(server.url, timeout=5)
    else:
        s3_server: S3Server = request.getfixturevalue("s3_server")
        bucket: str = request.getfixturevalue("s3_bucket")
        client = s3_server.client()
        for path in store.rglob("*.sym"):
            client.put_object(Bucket=bucket, Key=f"syms/{path.relative_to(store)}", Body=path.read_bytes())
        # the code-id layout holds a copy (a Tecken server would redirect instead)
        client.put_object(
            Bucket=bucket,
            Key=f"syms/{TEST_CODE_FILE}/{TEST_CODE_ID.upper()}/test.sym",
            Body=(store / "test.pdb/ABCDEF0123456789ABCDEF01234567891/test.sym").read_bytes(),
        )
        made = S3SymbolSource(s3_server.client(), bucket, "syms/")
    if request.param != "s3":
        code_dir = store / TEST_CODE_FILE / TEST_CODE_ID.upper()
        code_dir.mkdir(parents=True)
        (code_dir / "test.sym").write_bytes(
            (store / "test.pdb/ABCDEF0123456789ABCDEF01234567891/test.sym").read_bytes()
        )
    yield made
    made.close()


def test_is_a_symbol_source(source: SymbolSource) -> None:
    assert isinstance(source, SymbolSource)


def test_locates_by_debug_id(source: SymbolSource, store: Path) -> None:
    found = source.locate(INLINE_FILE, INLINE_ID)
    assert _read(found) == (store / INLINE_FILE / INLINE_ID / "linux_inline.sym").read_bytes()


def test_missing_is_symbol_not_found(source: SymbolSource) -> None:
    with pytest.raises(SymbolNotFound) as caught:
        source.locate("nothing.pdb", "0123456789ABCDEF0123456789ABCDEF0")
    assert caught.value.code == "symbol_not_found"
    assert isinstance(caught.value, CrashcartError)


def test_code_id_fallback(source: SymbolSource) -> None:
    found = source.locate("unknown.pdb", "00000000000000000000000000000000A", TEST_CODE_FILE, TEST_CODE_ID)
    assert _read(found).startswith(b"MODULE windows x86 ABCDEF0123456789ABCDEF01234567891 test.pdb")


def test_hostile_identifiers_never_leave_the_store(source: SymbolSource) -> None:
    with pytest.raises(SymbolNotFound):
        source.locate("../../../etc/passwd", "AB")
    with pytest.raises(SymbolNotFound):
        source.locate("x", "../..")


def test_locate_paths_takes_the_first_path_it_has(source: SymbolSource, store: Path) -> None:
    wanted = f"{INLINE_FILE}/{INLINE_ID}/linux_inline.sym"
    found = source.locate_paths(["nothing/AB1/nothing.sym", wanted], "inline module")
    assert _read(found) == (store / wanted).read_bytes()
    with pytest.raises(SymbolNotFound, match="inline module"):
        source.locate_paths(["nothing/AB1/nothing.sym"], "inline module")


def test_only_the_directory_source_is_local(source: SymbolSource) -> None:
    assert source.is_local is isinstance(source, FileSymbolSource)


def test_error_codes_are_stable() -> None:
    assert (SymbolNotFound.code, SymbolMalformed.code, SymbolSourceUnavailable.code) == (
        "symbol_not_found",
        "symbol_malformed",
        "symbol_source_unavailable",
    )
