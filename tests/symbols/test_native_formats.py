"""Native debug files other than ELF: a Windows PDB (+ its PE) and a macOS dSYM DWARF file (+ its Mach-O binary).

Fixtures (``tests/fixtures/symbols/native/``, from getsentry/symbolic, MIT; see ``SOURCES.md``): the
``crash.exe``/``crash.pdb`` (x86, MSVC 2017) and ``crash``/``crash.dSYM`` (x86_64) test programs of
getsentry/breakpad-tools, each with the Breakpad ``.sym`` file symbolic's repository keeps for them (made by
Breakpad's ``dump_syms``, not by symbolic: the independent source of every expected value here) and the
``mini.dmp`` minidump each program wrote when it crashed.

The stores are laid out as symbol servers serve the files (``paths.native_paths``): Microsoft's symbol server
layout for the PDB (``crash.pdb/<GUID><age>/crash.pdb``) and the PE (``crash.exe/<TIMESTAMP><size>/crash.exe``),
SSQP's for the dSYM (``_.dwarf/mach-uuid-sym-<uuid>/_.dwarf``), and the Breakpad layout for a Mach-O binary
(``crash/<DEBUG_ID>/crash``). Known differences from Breakpad's ``dump_syms`` are asserted as such below, and
what does not work yet would be ``xfail(strict=True)``.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shutil
import struct
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from crashcart.symbols.cache import SymbolCache
from crashcart.symbols.cfi import WinFrameInfo
from crashcart.symbols.chain import ChainSymbolSource
from crashcart.symbols.fs import FileSymbolSource
from crashcart.symbols.interfaces import SymbolSourceUnavailable
from crashcart.symbols.provider import SymbolProvider
from tests.symbols.conftest import Module, place_file

NATIVE = Path(__file__).resolve().parent.parent / "fixtures" / "symbols" / "native"
WINDOWS = NATIVE / "windows"
MACOS = NATIVE / "macos"

# The modules as the minidump reader gives them for the fixture dumps (full paths, code id in lowercase).
PDB_ID = "3249D99D0C4049318610F4E4FB0B69361"  # GUID 3249d99d-0c40-4931-8610-f4e4fb0b6936, age 1
PE_ID = "5ab380779000"  # TimeDateStamp 5AB38077, SizeOfImage 0x9000
WIN_MODULE = Module(
    r"C:\projects\breakpad-tools\windows\Release\crash.pdb",
    PDB_ID,
    r"C:\projects\breakpad-tools\windows\Release\crash.exe",
    PE_ID,
)
MAC_UUID = "67e9247c814e392ba027dbde6748fcbf"
MAC_ID = MAC_UUID.upper() + "0"
MAC_MODULE = Module("crash", MAC_ID, "/Users/travis/build/getsentry/breakpad-tools/macos/build/./crash", MAC_UUID)

PDB_PATH = f"crash.pdb/{PDB_ID}/crash.pdb"
PE_PATH = f"crash.exe/{PE_ID.upper()}/crash.exe"
DSYM_PATH = f"_.dwarf/mach-uuid-sym-{MAC_UUID}/_.dwarf"
MACHO_BREAKPAD_PATH = f"crash/{MAC_ID}/crash"
MACHO_SSQP_PATH = f"crash/mach-uuid-{MAC_UUID}/crash"  # SSQP's key for a Mach-O binary


# --- the reference: Breakpad .sym files ------------------------------------------------------------------


@dataclass
class SymFunc:
    address: int
    size: int
    name: str
    multiple: bool  # ``FUNC m``: identical code folding put several functions here; Breakpad names one
    lines: list[tuple[int, int, int, str]] = field(default_factory=list)  # address, size, line, file


@dataclass
class SymFile:
    funcs: list[SymFunc]
    stack_win: list[list[str]]  # the fields after ``STACK WIN``
    cfi_init: dict[int, tuple[int, str]]  # address → (size, rules)
    cfi_delta: list[tuple[int, str]]


#: one ``REG: expression`` of a STACK CFI rule set (parsed here, not with ``crashcart.symbols.cfi``)
RULE = re.compile(r"(\S+): ((?:(?!\S+:).)*?)\s*(?=\S+:|$)")


def _parse_sym(path: Path) -> SymFile:
    files: dict[str, str] = {}
    sym = SymFile([], [], {}, [])
    current: SymFunc | None = None
    for raw in path.read_text("utf-8").splitlines():
        kind, _, rest = raw.partition(" ")
        if kind == "FILE":
            number, _, name = rest.partition(" ")
            files[number] = name
        elif kind == "FUNC":
            multiple = rest.startswith("m ")
            fields = (rest[2:] if multiple else rest).split(" ", 3)
            current = SymFunc(int(fields[0], 16), int(fields[1], 16), fields[3], multiple)
            sym.funcs.append(current)
        elif kind == "STACK":
            current = None
            fields = rest.split()
            if fields[0] == "WIN":
                sym.stack_win.append(fields[1:])
            elif fields[1] == "INIT":
                sym.cfi_init[int(fields[2], 16)] = (int(fields[3], 16), " ".join(fields[4:]))
            else:
                sym.cfi_delta.append((int(fields[1], 16), " ".join(fields[2:])))
        elif kind in ("MODULE", "INFO", "PUBLIC"):
            current = None
        elif current is not None:
            address, size, line, number = raw.split(" ")
            current.lines.append((int(address, 16), int(size, 16), int(line), files[number]))
    return sym


WIN_SYM = _parse_sym(WINDOWS / "crash.sym")
MAC_SYM = _parse_sym(MACOS / "crash.sym")


def _func_at(sym: SymFile, address: int) -> SymFunc:
    return next(f for f in sym.funcs if f.address <= address < f.address + f.size)


def _line_at(func: SymFunc, address: int) -> tuple[int, int, int, str]:
    return next(r for r in func.lines if r[0] <= address < r[0] + r[1])


def _base_name(name: str) -> str:
    """A function's qualified name without its parameter list, spaces or leading underscores.

    Breakpad's Windows ``dump_syms`` (DIA) and symbolic (its own PDB reader) spell C++ types differently
    (``(void *,int)`` against ``(void*, int)``), symbolic adds parameter lists to C functions, and a leading
    ``_`` of x86 cdecl assembler names (``_SEH_prolog4`` against ``__SEH_prolog4``) is kept by one and not
    the other: none of that is the function's identity.
    """
    return name.split("(", 1)[0].replace(" ", "").lstrip("_")


# --- stores ----------------------------------------------------------------------------------------------


def _store(tmp_path: Path, files: dict[str, Path | bytes]) -> SymbolProvider:
    """A ``file://`` store with ``files`` (relative path → fixture or bytes), and a provider over it."""
    root = tmp_path / "store"
    for relative, content in files.items():
        place_file(root, relative, content)
    root.mkdir(parents=True, exist_ok=True)
    return SymbolProvider(FileSymbolSource(root), SymbolCache(tmp_path / "cache"))


def _meta(tmp_path: Path) -> dict[str, object]:
    metas = list((tmp_path / "cache").rglob("meta.json"))
    assert len(metas) == 1, metas
    loaded: dict[str, object] = json.loads(metas[0].read_text("utf-8"))
    return loaded


# --- Windows: PDB and PE ---------------------------------------------------------------------------------


def test_pdb_in_symbol_server_layout_symbolizes_like_breakpad(tmp_path: Path) -> None:
    """The PDB under ``<pdb>/<GUID><age>/<pdb>``: every FUNC of Breakpad's ``.sym`` is a function here, at the
    same address with the same name; line records agree (all of them in the program's own source)."""
    provider = _store(tmp_path, {PDB_PATH: WINDOWS / "crash.pdb"})
    assert provider.lookup(WIN_MODULE, 0x2A3D) is not None
    assert provider.status(WIN_MODULE) == "ok"
    meta = _meta(tmp_path)
    assert (meta["kind"], meta["file_format"], meta["arch"]) == ("native", "pdb", "x86")

    names_differ = []
    for func in WIN_SYM.funcs:
        for address in (func.address, func.address + func.size - 1):
            info = provider.lookup(WIN_MODULE, address)
            assert info is not None, hex(address)
            assert (info.function_address, info.function_offset) == (func.address, address - func.address)
            if _base_name(info.function) != _base_name(func.name):
                names_differ.append((func, info.function))
    # Only where identical code folding put several functions at one address (``FUNC m``) may the name differ.
    assert all(func.multiple for func, _ in names_differ), names_differ
    assert len(names_differ) <= 4

    agree = total = 0
    for func in WIN_SYM.funcs:
        for address, _, line, file in func.lines:
            info = provider.lookup(WIN_MODULE, address)
            assert info is not None and info.file is not None
            # Breakpad's (pre-INLINE) PDB lines are the real function's; symbolic's are its call site: the same.
            same = (info.file.lower(), info.line) == (file.lower(), line)
            total += 1
            agree += same
            if "\\windows\\crash\\" in file:  # the program's own main.cpp
                assert same, (hex(address), file, line, info)
    # The rest differ by a line or two at the start of some CRT functions (several line entries at one address)
    assert total == 761 and agree >= 0.9 * total, (agree, total)


def test_pdb_crash_address_is_main_at_the_sym_line(tmp_path: Path) -> None:
    """The crashing instruction of the fixture dump (crash.exe + 0x2a3d): ``main`` in main.cpp, on the line
    of Breakpad's line record; the caller's address also resolves as in the ``.sym``."""
    provider = _store(tmp_path, {PDB_PATH: WINDOWS / "crash.pdb"})
    expected = _func_at(WIN_SYM, 0x2A3D)
    assert expected.name == "main"
    _, _, line, file = _line_at(expected, 0x2A3D)
    info = provider.lookup(WIN_MODULE, 0x2A3D)
    assert info is not None
    assert (info.function_address, info.file, info.line) == (expected.address, file, line)
    # symbolic spells the name from the PDB's type information, with the parameter list Breakpad leaves out
    assert info.function == "main(int, char**)"
    assert file.endswith("\\windows\\crash\\main.cpp")
    callback = _func_at(WIN_SYM, 0x28D0)
    caller = provider.lookup(WIN_MODULE, 0x28D0)
    assert caller is not None and caller.function_address == callback.address
    assert _base_name(caller.function) == _base_name(callback.name) == "`anonymousnamespace'::callback"


def _win_fields(r: WinFrameInfo) -> tuple[int | str | None, ...]:
    program = " ".join((r.program_string or "").split()) or None
    sizes = (r.code_size, r.prolog_size, r.epilog_size, r.parameter_size, r.saved_register_size, r.local_size)
    return (r.type, *sizes, r.max_stack_size, program)


def test_pdb_frame_data_gives_the_sym_stack_win_records(tmp_path: Path) -> None:
    """x86 unwinding: the PDB's FrameData becomes ``STACK WIN 4`` records, the same as Breakpad's, field for
    field (program strings compared token by token). Breakpad's two all-zero FPO (``STACK WIN 0``) records
    come out of symbolic as FrameData records with a program string, over the same range."""
    provider = _store(tmp_path, {PDB_PATH: WINDOWS / "crash.pdb"})
    assert len(WIN_SYM.stack_win) == 154
    fpo = 0
    for fields in WIN_SYM.stack_win:
        kind, rva, code, prolog, epilog, params, saved, local, stack = (int(x, 16) for x in fields[:9])
        program = " ".join(fields[10:]) if fields[9] == "1" else None
        records = [r for r in provider.win_records(WIN_MODULE, rva) if r.rva == rva]
        got = [_win_fields(r) for r in records]
        if kind == 4:
            assert (kind, code, prolog, epilog, params, saved, local, stack, program) in got, fields
        else:
            fpo += 1
            assert kind == 0 and (prolog, epilog, params, saved, local, stack, program) == (0, 0, 0, 0, 0, 0, None)
            assert [(r.type, r.code_size) for r in records] == [(4, code)], (fields, records)
    assert fpo == 2
    # inside ``main``: its record covers every byte of it
    main = _func_at(WIN_SYM, 0x2A3D)
    records = provider.win_records(WIN_MODULE, 0x2A3D)
    assert records and all(r.rva <= 0x2A3D < r.rva + r.code_size for r in records)
    assert any(r.rva == main.address for r in records)


def test_pe_by_code_id_when_there_is_no_pdb(tmp_path: Path) -> None:
    """Only the executable, under symstore's ``<exe>/<TIMESTAMP><SizeOfImage>/<exe>``: found and converted
    (its debug id is the PDB's, from the CodeView record), though an x86 PE has no symbols or unwind tables."""
    provider = _store(tmp_path, {PE_PATH: WINDOWS / "crash.exe"})
    assert provider.has_symbols(WIN_MODULE)
    assert provider.status(WIN_MODULE) == "ok"
    meta = _meta(tmp_path)
    assert (meta["file_format"], meta["object_kind"], meta["arch"], meta["code_id"]) == ("pe", "exe", "x86", PE_ID)
    assert not provider.has_cfi(WIN_MODULE)
    assert provider.win_records(WIN_MODULE, 0x2A3D) == []


def test_pdb_is_preferred_to_the_pe(tmp_path: Path) -> None:
    provider = _store(tmp_path, {PDB_PATH: WINDOWS / "crash.pdb", PE_PATH: WINDOWS / "crash.exe"})
    info = provider.lookup(WIN_MODULE, 0x2A3D)
    assert info is not None and _base_name(info.function) == "main"
    assert _meta(tmp_path)["file_format"] == "pdb"


def test_pe_by_symstore_key_with_hex_letters_in_the_size(tmp_path: Path) -> None:
    """symstore (and symsrv, Chromium's RetrieveSymbols) key an executable by ``%08X%x``: upper-case timestamp,
    lower-case SizeOfImage (``chrome.exe/54E3AECFd3000/chrome.exe``). The fixture's size, 0x9000, has no
    letters, so this copy says 0x9a000 (symbolic reads code id ``5ab380779a000`` from it); on a case-sensitive
    store (``file://``, S3) it must be found under ``5AB380779a000``, not ``5AB380779A000``."""
    data = bytearray((WINDOWS / "crash.exe").read_bytes())
    size_of_image = struct.unpack_from("<I", data, 0x3C)[0] + 4 + 20 + 56  # PE signature, file header, offset
    assert struct.unpack_from("<I", data, size_of_image)[0] == 0x9000
    struct.pack_into("<I", data, size_of_image, 0x9A000)
    module = Module(WIN_MODULE.debug_file, PDB_ID, WIN_MODULE.code_file, "5ab380779a000")  # as the reader gives it
    provider = _store(tmp_path, {"crash.exe/5AB380779a000/crash.exe": bytes(data)})
    assert provider.has_symbols(module), provider.status(module)
    assert _meta(tmp_path)["code_id"] == "5ab380779a000"


# --- macOS: dSYM DWARF and Mach-O binary -----------------------------------------------------------------


def test_dsym_by_uuid_symbolizes_like_breakpad(tmp_path: Path) -> None:
    """The dSYM's DWARF file under SSQP's ``_.dwarf/mach-uuid-sym-<uuid>/_.dwarf``: every FUNC of Breakpad's
    ``.sym`` starts where it does here, and every line record's address gives its file and line, exactly."""
    provider = _store(tmp_path, {DSYM_PATH: MACOS / "crash.dwarf"})
    assert provider.lookup(MAC_MODULE, 0xDC15) is not None
    assert provider.status(MAC_MODULE) == "ok"
    meta = _meta(tmp_path)
    assert (meta["file_format"], meta["object_kind"], meta["arch"]) == ("macho", "dbg", "x86_64")
    assert len(MAC_SYM.funcs) == 193
    for func in MAC_SYM.funcs:
        info = provider.lookup(MAC_MODULE, func.address)
        assert info is not None, func
        assert info.function_address == func.address, func
    lines = 0
    for func in MAC_SYM.funcs:
        for address, _, line, file in func.lines:
            info = provider.lookup(MAC_MODULE, address)
            assert info is not None
            # Breakpad's Mac dump_syms (no INLINE records) gives the innermost location's line; symbolic
            # normalizes paths (``macos/../deps`` → ``deps``) where Breakpad keeps them as written
            inner = info.inlines[0] if info.inlines else info
            assert (inner.file, inner.line) == (posixpath.normpath(file), line), (hex(address), info)
            lines += 1
    assert lines == 5593


def test_dsym_function_names_are_demangled_like_breakpad(tmp_path: Path) -> None:
    """C++ names from the DWARF come out demangled as Breakpad prints them (parameter lists, ``char const*``),
    all 168 named FUNCs but two, whose differences are Breakpad's: it qualifies an ``extern "C"`` function by
    the namespace it is declared in (symbolic names it by its linkage name), and its demangler of the time
    did not collapse a forwarding reference (``T&&`` with ``T = X const&`` is ``X const&``)."""
    provider = _store(tmp_path, {DSYM_PATH: MACOS / "crash.dwarf"})
    expected = {f.address: f.name for f in MAC_SYM.funcs if f.name != "<name omitted>"}
    got = {}
    for address in expected:
        info = provider.lookup(MAC_MODULE, address)
        got[address] = info.function if info is not None else None
    assert got[0xE20] == "google_breakpad::MinidumpFileWriter::Open(char const*)"
    assert len(expected) == 168
    differ = {address: (got[address], name) for address, name in expected.items() if got[address] != name}
    assert differ.pop(0x3ED0) == ("catch_exception_raise", "google_breakpad::catch_exception_raise")
    collapsed, breakpad = differ.pop(0x8710)
    assert breakpad.endswith("(MDMemoryDescriptor const&&&)")
    assert collapsed == breakpad.replace("const&&&)", "const&)")
    assert differ == {}


def test_macho_binary_gives_the_sym_cfi(tmp_path: Path) -> None:
    """The Mach-O executable (``__eh_frame``/compact unwind) in the Breakpad layout: at each ``STACK CFI INIT``
    address of Breakpad's ``.sym`` the CFA and return-address rules are Breakpad's."""
    provider = _store(tmp_path, {MACHO_BREAKPAD_PATH: MACOS / "crash"})
    assert provider.has_cfi(MAC_MODULE)
    meta = _meta(tmp_path)
    assert (meta["file_format"], meta["object_kind"]) == ("macho", "exe")
    assert (len(MAC_SYM.cfi_init), len(MAC_SYM.cfi_delta)) == (93, 120)
    for address, (_, init) in MAC_SYM.cfi_init.items():
        rules = provider.cfi_rules(MAC_MODULE, address)
        assert rules is not None, hex(address)
        want = dict(re.findall(RULE, init))
        merged = rules.merged()
        assert {k: merged.get(k) for k in (".cfa", ".ra")} == {k: want.get(k) for k in (".cfa", ".ra")}, hex(address)
    # deltas: after each of Breakpad's ``STACK CFI`` rows, the CFA rule is the one it sets (if it sets one)
    for address, delta in MAC_SYM.cfi_delta:
        want = dict(re.findall(RULE, delta))
        if ".cfa" in want:
            rules = provider.cfi_rules(MAC_MODULE, address)
            assert rules is not None and rules.merged()[".cfa"] == want[".cfa"], (hex(address), delta)


def test_dsym_alone_has_no_cfi(tmp_path: Path) -> None:
    """A dSYM holds DWARF only (no ``__eh_frame`` or compact unwind): an empty CFI index, not an error."""
    provider = _store(tmp_path, {DSYM_PATH: MACOS / "crash.dwarf"})
    assert provider.has_symbols(MAC_MODULE)
    assert not provider.has_cfi(MAC_MODULE)
    assert provider.cfi_rules(MAC_MODULE, min(MAC_SYM.cfi_init)) is None


def test_macho_binary_by_ssqp_key(tmp_path: Path) -> None:
    provider = _store(tmp_path, {MACHO_SSQP_PATH: MACOS / "crash"})
    assert provider.has_cfi(MAC_MODULE)


def test_dsym_and_binary_together_give_lines_and_cfi(tmp_path: Path) -> None:
    provider = _store(tmp_path, {DSYM_PATH: MACOS / "crash.dwarf", MACHO_BREAKPAD_PATH: MACOS / "crash"})
    info = provider.lookup(MAC_MODULE, 0xDC15)
    assert info is not None and info.file is not None and info.line
    assert provider.has_cfi(MAC_MODULE)


def test_dsym_and_binary_by_ssqp_keys_record_the_companion(tmp_path: Path) -> None:
    """The dSYM (found first) gives the SymCache; the binary under SSQP's key, fetched with it because the dSYM
    has no unwind tables, gives the CFI, Breakpad's at every INIT address; ``meta.json`` says so."""
    provider = _store(tmp_path, {DSYM_PATH: MACOS / "crash.dwarf", MACHO_SSQP_PATH: MACOS / "crash"})
    info = provider.lookup(MAC_MODULE, 0xE20)
    assert info is not None and info.function == "google_breakpad::MinidumpFileWriter::Open(char const*)"
    assert info.file is not None
    for address, (_, init) in MAC_SYM.cfi_init.items():
        rules = provider.cfi_rules(MAC_MODULE, address)
        assert rules is not None and rules.merged()[".cfa"] == dict(re.findall(RULE, init))[".cfa"], hex(address)
    meta = _meta(tmp_path)
    assert (meta["file_format"], meta["object_kind"]) == ("macho", "dbg")
    companion = meta["companion"]
    assert isinstance(companion, dict)
    assert (companion["used_for"], companion["object_kind"]) == (["cfi"], "exe")


def test_binary_first_then_the_dsym_from_a_later_source(tmp_path: Path) -> None:
    """The binary is found first (the first source has only it, in the Breakpad layout); it has no debug
    information, so the dSYM is looked for too, in every source (not the binary again), and gives the lines."""
    first, second = tmp_path / "a", tmp_path / "b"
    for root, relative, fixture in ((first, MACHO_BREAKPAD_PATH, "crash"), (second, DSYM_PATH, "crash.dwarf")):
        (root / relative).parent.mkdir(parents=True)
        shutil.copyfile(MACOS / fixture, root / relative)
    chain = ChainSymbolSource([FileSymbolSource(first), FileSymbolSource(second)])
    provider = SymbolProvider(chain, SymbolCache(tmp_path / "cache"))
    info = provider.lookup(MAC_MODULE, 0xDC15)
    assert info is not None and info.file is not None and info.line
    assert provider.has_cfi(MAC_MODULE)
    meta = _meta(tmp_path)
    assert meta["object_kind"] == "exe"
    companion = meta["companion"]
    assert isinstance(companion, dict) and companion["used_for"] == ["symcache"]


class _DownForCompanions:
    """A source that is down (for the companion lookup too)."""

    is_local = False

    def locate(self, debug_file: str, debug_id: str, code_file: str | None = None, code_id: str | None = None) -> Path:
        raise SymbolSourceUnavailable("down")

    def locate_paths(self, paths: Sequence[str], what: str, exclude: Path | None = None) -> Path:
        raise SymbolSourceUnavailable("down")

    def close(self) -> None:
        pass


def test_companion_source_unavailable_is_not_cached(tmp_path: Path) -> None:
    """The binary could be on a source that is down: the module is unavailable for now (nothing cached), not
    cached without CFI; once the source answers, it is converted with both files."""
    store = tmp_path / "store"
    (store / DSYM_PATH).parent.mkdir(parents=True)
    shutil.copyfile(MACOS / "crash.dwarf", store / DSYM_PATH)
    cache = SymbolCache(tmp_path / "cache")
    provider = SymbolProvider(ChainSymbolSource([FileSymbolSource(store), _DownForCompanions()]), cache)
    assert provider.lookup(MAC_MODULE, 0xDC15) is None
    assert provider.status(MAC_MODULE) == "symbol_source_unavailable"
    assert not list((tmp_path / "cache").rglob("meta.json"))
    (store / MACHO_SSQP_PATH).parent.mkdir(parents=True)
    shutil.copyfile(MACOS / "crash", store / MACHO_SSQP_PATH)
    again = SymbolProvider(FileSymbolSource(store), cache)
    assert again.has_cfi(MAC_MODULE) and again.lookup(MAC_MODULE, 0xDC15) is not None


def test_missing_module_costs_one_request_per_path(tmp_path: Path) -> None:
    """A Mach-O module no source has: the two ``.sym`` paths and three native paths, once; no companion."""
    asked: list[str] = []

    class Counting(FileSymbolSource):
        def locate_paths(self, paths: Sequence[str], what: str, exclude: Path | None = None) -> Path:
            asked.extend(paths)
            found = super().locate_paths(paths, what, exclude)
            assert isinstance(found, Path)
            return found

    (tmp_path / "empty").mkdir()
    provider = SymbolProvider(Counting(tmp_path / "empty"), SymbolCache(tmp_path / "cache"))
    assert provider.lookup(MAC_MODULE, 0xDC15) is None
    assert len(asked) == 5 and len(set(asked)) == 5, asked


# --- damaged files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "relative", "module"),
    [
        (WINDOWS / "crash.pdb", PDB_PATH, WIN_MODULE),
        (WINDOWS / "crash.exe", PE_PATH, WIN_MODULE),
        (MACOS / "crash.dwarf", DSYM_PATH, MAC_MODULE),
        (MACOS / "crash", MACHO_BREAKPAD_PATH, MAC_MODULE),
    ],
    ids=["pdb", "pe", "dsym", "macho"],
)
@pytest.mark.parametrize("cut", ["truncated", "scrambled"])
def test_damaged_native_file_is_a_cached_failure(
    fixture: Path, relative: str, module: Module, cut: str, tmp_path: Path
) -> None:
    """A truncated copy (the first 4 KiB: headers pointing past the end) or one whose body is overwritten
    (headers intact, every table garbage) is ``symbol_malformed``, cached, with no exception."""
    data = fixture.read_bytes()
    if cut == "truncated":
        damaged = data[:4096]
    else:
        damaged = data[:256] + bytes((i * 131 + 7) & 0xFF for i in range(len(data) - 256))
    provider = _store(tmp_path, {relative: damaged})
    assert provider.lookup(module, 0x2A3D) is None
    assert provider.status(module) == "symbol_malformed"
    assert list((tmp_path / "cache").rglob("*.malformed"))
    (tmp_path / "store" / relative).unlink()
    again = SymbolProvider(FileSymbolSource(tmp_path / "store"), SymbolCache(tmp_path / "cache"))
    assert again.lookup(module, 0x2A3D) is None
    assert again.status(module) == "symbol_malformed"


# --- end to end: the fixture dumps -----------------------------------------------------------------------


def _stackwalk(tmp_path: Path, dump: Path, files: dict[str, Path]) -> dict[str, object]:
    root = tmp_path / "symbols"
    for relative, source in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, root / relative)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRASHCART_")}
    env["CRASHCART_DATA_DIR"] = str(tmp_path / "data")
    command = [sys.executable, "-m", "crashcart.cli", "stackwalk", str(dump), "--json"]
    command += ["--symbols-path", str(root), "--cache-dir", str(tmp_path / "cache")]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    doc: dict[str, object] = json.loads(done.stdout)
    return doc


def test_stackwalk_windows_dump_with_the_pdb(tmp_path: Path) -> None:
    doc = _stackwalk(tmp_path, WINDOWS / "mini.dmp", {PDB_PATH: WINDOWS / "crash.pdb"})
    frames = doc["crashing_thread"]["frames"]  # type: ignore[index]
    top = frames[0]
    main = _func_at(WIN_SYM, 0x2A3D)
    _, _, line, file = _line_at(main, 0x2A3D)
    assert (top["module"], top["module_offset"], top["function"]) == ("crash.exe", "0x00002a3d", "main(int, char**)")
    assert (top["file"], top["line"], top["function_offset"]) == (file, line, f"0x{0x2A3D - main.address:08x}")
    assert top["missing_symbols"] is False
    # the caller: crash.exe + 0x28d0 (Breakpad finds it by the frame pointer) is in ``callback`` per the .sym
    second = frames[1]
    assert second["module"] == "crash.exe"
    offset = int(second["module_offset"], 16)
    expected = _func_at(WIN_SYM, offset - 1 if offset == 0x28D0 else offset)
    assert _base_name(second["function"]) == _base_name(expected.name)


def test_stackwalk_macos_dump_with_the_dsym(tmp_path: Path) -> None:
    doc = _stackwalk(tmp_path, MACOS / "mini.dmp", {DSYM_PATH: MACOS / "crash.dwarf"})
    top = doc["crashing_thread"]["frames"][0]  # type: ignore[index]
    func = _func_at(MAC_SYM, 0xDC15)
    _, _, line, file = _line_at(func, 0xDC15)
    assert (top["module"], top["module_offset"]) == ("crash", "0x000000000000dc15")
    # the .sym's line is the innermost location's; the JSON frame's is the outermost inlined call's call site
    inner = top["inlines"][0] if top.get("inlines") else top
    assert (inner["file"], inner["line"]) == (posixpath.normpath(file), line), top
    assert top["function_offset"] == f"0x{0xDC15 - func.address:016x}"
    assert top["missing_symbols"] is False
