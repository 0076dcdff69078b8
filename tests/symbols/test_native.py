"""Native debug files (ELF with DWARF) found next to, or instead of, ``.sym`` files: built with gcc in the test.

The program has two ``static inline`` functions that ``-O2`` inlines into ``compute``, so symbolic's SymCache
has inline frames for some of ``compute``'s addresses; ``.eh_frame`` gives the CFI. The build id is fixed with
``--build-id=0x…``, so the Breakpad debug id is known without reading the file.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from crashcart.symbols.cache import SymbolCache
from crashcart.symbols.fs import FileSymbolSource
from crashcart.symbols.provider import InlineFrame, SymbolProvider
from tests.symbols.conftest import Module, place_file

SOURCE = """\
#include <stdio.h>
static inline int square(int x) {
    return x * x;
}
static inline int twice_square(int x) {
    return 2 * square(x) + 1;
}
__attribute__((noinline)) int compute(int v) {
    int r = twice_square(v);
    return r + v;
}
int main(int argc, char **argv) {
    printf("%d\\n", compute(argc));
    return 0;
}
"""
BUILD_ID = "00112233445566778899aabbccddeeff01234567"
#: first 16 bytes of the build id read as a little-endian GUID, plus age 0 (how minidump writers name ELF files)
DEBUG_ID = "33221100554477668899AABBCCDDEEFF0"
NAME = "inliner"

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None or shutil.which("nm") is None, reason="needs gcc, nm")


@dataclass(frozen=True)
class Built:
    binary: Path
    compute: tuple[int, int]  # start, size (module-relative)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    work = tmp_path_factory.mktemp("native")
    (work / "inliner.c").write_text(SOURCE)
    binary = work / NAME
    subprocess.run(
        ["gcc", "-g", "-O2", f"-Wl,--build-id=0x{BUILD_ID}", "-o", str(binary), "inliner.c"],
        cwd=work,
        check=True,
        capture_output=True,
    )
    symbols = subprocess.run(["nm", "-S", str(binary)], check=True, capture_output=True, text=True).stdout
    for line in symbols.splitlines():
        fields = line.split()
        if len(fields) == 4 and fields[3] == "compute":
            return Built(binary, (int(fields[0], 16), int(fields[1], 16)))
    raise AssertionError(f"no compute in {symbols}")


MODULE = Module(NAME, DEBUG_ID, NAME, BUILD_ID)


def _provider(root: Path, cache: Path) -> SymbolProvider:
    return SymbolProvider(FileSymbolSource(root), SymbolCache(cache))


def test_elf_in_breakpad_layout_gives_function_file_line_and_inlines(built: Built, tmp_path: Path) -> None:
    root = tmp_path / "store"
    place_file(root, f"{NAME}/{DEBUG_ID}/{NAME}", built.binary)  # no .sym: the native file is the fallback
    provider = _provider(root, tmp_path / "cache")
    start, size = built.compute
    infos = [(address, provider.lookup(MODULE, address)) for address in range(start, start + size)]
    assert provider.status(MODULE) == "ok"
    for address, info in infos:
        assert info is not None
        assert (info.function, info.function_address, info.function_offset) == ("compute", start, address - start)
        assert info.file is not None and info.file.endswith("inliner.c")
        assert info.line in (8, 9, 10, 11)
    inlined = [(address, info) for address, info in infos if info is not None and info.inlines]
    assert inlined, "gcc -O2 inlined nothing into compute?"
    for _, info in inlined:
        assert info is not None
        # innermost first; each inline frame is at the line its code is on, the real frame at the call site
        names = [frame.function for frame in info.inlines]
        assert names in (["square", "twice_square"], ["twice_square"])
        assert info.line == 9  # compute calls twice_square on line 9
        if names == ["square", "twice_square"]:
            assert [(f.function, f.line) for f in info.inlines] == [("square", 3), ("twice_square", 6)]
            assert all(isinstance(f, InlineFrame) and f.file and f.file.endswith("inliner.c") for f in info.inlines)
    # outside compute (between functions or past the end) there is no FUNC of compute
    after = provider.lookup(MODULE, start + size + 0x1000)
    assert after is None or after.function != "compute"


def test_line_address_starts_the_line_range(built: Built, tmp_path: Path) -> None:
    root = tmp_path / "store"
    place_file(root, f"{NAME}/{DEBUG_ID}/{NAME}", built.binary)
    provider = _provider(root, tmp_path / "cache")
    start, size = built.compute
    seen: set[int] = set()
    for address in range(start, start + size):
        info = provider.lookup(MODULE, address)
        assert info is not None and info.line_address is not None
        base = info.line_address
        assert start <= base <= address
        seen.add(base)
        # everything from the range start to the address symbolizes the same; the byte before does not
        same = provider.lookup(MODULE, base)
        assert same is not None and (same.line, same.inlines) == (info.line, info.inlines)
        if base > start:
            before = provider.lookup(MODULE, base - 1)
            assert before is not None and (before.line, before.inlines) != (info.line, info.inlines)
    assert start in seen and len(seen) > 1


def test_cfi_comes_from_eh_frame(built: Built, tmp_path: Path) -> None:
    root = tmp_path / "store"
    place_file(root, f"{NAME}/{DEBUG_ID}/{NAME}", built.binary)
    provider = _provider(root, tmp_path / "cache")
    start, _ = built.compute
    rules = provider.cfi_rules(MODULE, start)
    assert rules is not None
    merged = rules.merged()
    assert merged[".cfa"] == "$rsp 8 +"
    assert merged[".ra"] == ".cfa -8 + ^"
    assert provider.has_cfi(MODULE)


def test_split_debug_file_by_build_id(built: Built, tmp_path: Path) -> None:
    """SSQP's ``_.debug/elf-buildid-sym-<id>/_.debug``: DWARF only, no unwind tables (not an error)."""
    if shutil.which("objcopy") is None:
        pytest.skip("needs objcopy")
    debug = tmp_path / "inliner.debug"
    subprocess.run(["objcopy", "--only-keep-debug", str(built.binary), str(debug)], check=True)
    root = tmp_path / "store"
    place_file(root, f"_.debug/elf-buildid-sym-{BUILD_ID}/_.debug", debug)
    provider = _provider(root, tmp_path / "cache")
    start, _ = built.compute
    info = provider.lookup(MODULE, start)
    assert info is not None
    assert info.function == "compute"
    assert info.file is not None and info.file.endswith("inliner.c")


def test_sym_file_wins_over_the_native_file(built: Built, tmp_path: Path) -> None:
    root = tmp_path / "store"
    place_file(root, f"{NAME}/{DEBUG_ID}/{NAME}", built.binary)
    start, size = built.compute
    sym = f"MODULE Linux x86_64 {DEBUG_ID} {NAME}\nFILE 0 other.c\nFUNC {start:x} {size:x} 0 from_sym\n"
    place_file(root, f"{NAME}/{DEBUG_ID}/{NAME}.sym", sym.encode())
    info = _provider(root, tmp_path / "cache").lookup(MODULE, start)
    assert info is not None and info.function == "from_sym"


@pytest.mark.parametrize(
    "content",
    [
        b"\x7fELF\x02\x01\x01" + b"\xff" * 200,  # an ELF header that goes nowhere
        b"<html><body>Not Found</body></html>",  # a server's error page sent with 200
        b"",
    ],
)
def test_corrupt_native_file_is_a_cached_failure(content: bytes, tmp_path: Path) -> None:
    root = tmp_path / "store"
    place_file(root, f"{NAME}/{DEBUG_ID}/{NAME}", content)
    cache = tmp_path / "cache"
    provider = _provider(root, cache)
    assert provider.lookup(MODULE, 0x1000) is None
    assert provider.status(MODULE) == "symbol_malformed"
    assert list(cache.rglob(f"{DEBUG_ID}.malformed"))
    # another process (a fresh provider on the same cache) does not read the file again
    (root / NAME / DEBUG_ID / NAME).unlink()
    again = _provider(root, cache)
    assert again.lookup(MODULE, 0x1000) is None
    assert again.status(MODULE) == "symbol_malformed"


def test_debug_id_mismatch_is_refused(built: Built, tmp_path: Path) -> None:
    other_id = "00000000111122223333444455556666" + "0"
    root = tmp_path / "store"
    place_file(root, f"{NAME}/{other_id}/{NAME}", built.binary)
    provider = _provider(root, tmp_path / "cache")
    module = Module(NAME, other_id, NAME, "")
    assert provider.lookup(module, built.compute[0]) is None
    assert provider.status(module) == "symbol_malformed"


def test_native_file_over_the_size_limit(built: Built, tmp_path: Path) -> None:
    from crashcart.symbols.symfile import SymLimits

    root = tmp_path / "store"
    place_file(root, f"{NAME}/{DEBUG_ID}/{NAME}", built.binary)
    cache = SymbolCache(tmp_path / "cache", limits=SymLimits(max_file_size=1024))
    provider = SymbolProvider(FileSymbolSource(root), cache)
    assert provider.lookup(MODULE, built.compute[0]) is None
    assert provider.status(MODULE) == "symbol_malformed"
