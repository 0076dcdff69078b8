from __future__ import annotations

import pytest

from crashcart.symbols.paths import (
    BINARY,
    DEBUG,
    candidate_paths,
    clean_file_name,
    code_id_sym_path,
    companion_paths,
    pe_code_id_forms,
    sym_path,
)


@pytest.mark.parametrize(
    ("debug_file", "debug_id", "expected"),
    [
        ("crash.pdb", "5A9832E5287241C1838ED98914E9B7FF1", "crash.pdb/5A9832E5287241C1838ED98914E9B7FF1/crash.sym"),
        ("XUL.PDB", "AB1", "XUL.PDB/AB1/XUL.sym"),
        ("libc.so.6", "D2554CDB926136C4B9766A086583B9B50", "libc.so.6/D2554CDB926136C4B9766A086583B9B50/libc.so.6.sym"),
        ("crash.exe", "AB1", "crash.exe/AB1/crash.exe.sym"),
        ("Electron Framework", "35D4", "Electron Framework/35D4/Electron Framework.sym"),
        (r"c:\builds\obj\firefox.pdb", "AB1", "firefox.pdb/AB1/firefox.sym"),
        ("/usr/lib/libfoo.so", "ab1", "libfoo.so/ab1/libfoo.so.sym"),
    ],
)
def test_sym_path(debug_file: str, debug_id: str, expected: str) -> None:
    assert sym_path(debug_file, debug_id) == expected


@pytest.mark.parametrize(
    ("debug_file", "debug_id"),
    [("", "AB1"), ("crash.pdb", ""), ("..", "AB1"), ("a/..", "AB1"), ("x", "../AB"), ("x", "A B"), ("x\n", "AB")],
)
def test_sym_path_refuses_unusable_identifiers(debug_file: str, debug_id: str) -> None:
    assert sym_path(debug_file, debug_id) is None


def test_clean_file_name_bounds_length() -> None:
    assert clean_file_name("a" * 256) is None
    assert clean_file_name("a" * 255) == "a" * 255


def test_code_id_path_follows_tecken() -> None:
    assert code_id_sym_path("xul.dll", "652de0ed706d000") == "xul.dll/652DE0ED706D000/xul.sym"
    assert code_id_sym_path("crash.exe", "45D35F6C2d000") == "crash.exe/45D35F6C2D000/crash.exe.sym"
    assert code_id_sym_path("", "1") is None


def test_candidates_debug_path_first_then_code_path() -> None:
    assert candidate_paths("test.pdb", "AB1", "test.dll", "5f3a", native=False) == [
        "test.pdb/AB1/test.sym",
        "test.dll/5F3A/test.sym",
    ]
    # no debug file (MinGW PE without a PDB name): the code file name with the debug id
    assert candidate_paths("", "AB1", "foo.dll", "", native=False) == ["foo.dll/AB1/foo.dll.sym"]
    assert candidate_paths("", "", "", "") == []


def test_candidates_native_files_after_the_sym_files() -> None:
    # PE/PDB: Microsoft symbol server layout for the PDB, then the executable by timestamp + size
    assert candidate_paths("test.pdb", "AB1", "test.dll", "5f3a") == [
        "test.pdb/AB1/test.sym",
        "test.dll/5F3A/test.sym",
        "test.pdb/AB1/test.pdb",
        "test.dll/5F3A/test.dll",
    ]
    # symstore's PE key: TimeDateStamp upper case, SizeOfImage lower case; then all upper case
    assert candidate_paths("crash.pdb", "AB1", "crash.exe", "5ab380779a000")[-2:] == [
        "crash.exe/5AB380779a000/crash.exe",
        "crash.exe/5AB380779A000/crash.exe",
    ]
    # ELF: the debug file in the Breakpad layout, then SSQP by build id (split debug file, then the binary)
    build_id = "db4c55d26192c436b9766a086583b9b5a6d2e271"
    assert candidate_paths("crash", "D2554CDB926136C4B9766A086583B9B50", "crash", build_id) == [
        "crash/D2554CDB926136C4B9766A086583B9B50/crash.sym",
        "crash/DB4C55D26192C436B9766A086583B9B5A6D2E271/crash.sym",
        "crash/D2554CDB926136C4B9766A086583B9B50/crash",
        f"_.debug/elf-buildid-sym-{build_id}/_.debug",
        f"crash/elf-buildid-{build_id}/crash",
    ]
    # Mach-O: the debug id is the UUID (the code id) plus age 0 → SSQP's dSYM DWARF file first, then the
    # Breakpad layout (either file), then SSQP's key for the binary
    uuid = "67e9247c814e392ba027dbde6748fcbf"
    assert candidate_paths("crash", uuid.upper() + "0", "crash", uuid)[2:] == [
        f"_.dwarf/mach-uuid-sym-{uuid}/_.dwarf",
        f"crash/{uuid.upper()}0/crash",
        f"crash/mach-uuid-{uuid}/crash",
    ]
    # nothing unsafe reaches a native path either
    assert candidate_paths("..", "AB1", "y", "../1") == []


def test_pe_code_id_forms() -> None:
    assert pe_code_id_forms("54e3aecfd3000") == ["54E3AECFd3000", "54E3AECFD3000"]
    assert pe_code_id_forms("5AB380779000") == ["5AB380779000"]  # no letters in the size: one form
    assert pe_code_id_forms("abc") == ["ABC"]


def test_companion_paths_by_what_is_wanted() -> None:
    uuid = "67e9247c814e392ba027dbde6748fcbf"
    mac = ("crash", uuid.upper() + "0", "crash", uuid)
    assert companion_paths(*mac, BINARY) == [f"crash/{uuid.upper()}0/crash", f"crash/mach-uuid-{uuid}/crash"]
    assert companion_paths(*mac, DEBUG) == [f"_.dwarf/mach-uuid-sym-{uuid}/_.dwarf", f"crash/{uuid.upper()}0/crash"]
    assert companion_paths("test.pdb", "AB1", "test.dll", "5f3a", BINARY) == ["test.dll/5F3A/test.dll"]
    assert companion_paths("test.pdb", "AB1", "test.dll", "5f3a", DEBUG) == ["test.pdb/AB1/test.pdb"]
    assert companion_paths("..", "AB1", "y", "../1", BINARY) == []
