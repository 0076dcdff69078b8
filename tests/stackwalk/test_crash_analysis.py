"""``crash_analysis``: rust-minidump's crash_info extras from the faulting instruction and the memory map.

Three layers of evidence:

* the pure :func:`analyze` on hand-set registers and memory, one rule of rust-minidump's ``processor.rs`` per test
  (bit flips, inconsistencies and the memory map in ``tests/stackwalk/crash_analysis/``);
* the two fixture dumps rust-minidump publishes JSON for (its ``minidump-stackwalk/tests/snapshots``, MIT):
  ``linux-mini`` and ``pipeline-inlines-macos-segv`` must give the snapshots' values;
* every shape the corpus (``../shared/corpus``) has: null dereferences, bit flips, returns, x86 dumps, dumps
  without code bytes; and the shapes it lacks (a field offset from a null base, a non-canonical access, a guard
  page), from synthetic dumps walked through :func:`build_json`;
* a null dereference through a field offset, a write into a guard page and a write through a non-canonical
  pointer, written by a real crash reporter: our crashers (``tests/fixtures/crashers/``) crashed under Google
  Crashpad's handler, uploaded to the collector, walked from storage (``tests/helpers/realcrash.py``; slow,
  skipped without ``../shared/tools/realclient`` or g++).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crashcart.minidump import LinuxMaps, MemoryInfoList, Minidump, MinidumpError
from crashcart.stackwalk import NoSymbols, WalkOptions, walk
from crashcart.stackwalk.crash_analysis import (
    CrashFacts,
    MemoryMap,
    Region,
    analyze,
    crash_info_fields,
    to_json,
)
from crashcart.stackwalk.instruction import Access
from crashcart.stackwalk.output_json import HexFormatter, build_json, pointer_size
from tests.helpers.realcrash import crash_with_crashpad, crashpad_unavailable
from tests.helpers.shared import CORPUS
from tests.stackwalk.crash_analysis.helpers import HEX32, HEX64, IP, NO_MAP, facts, reader
from tests.stackwalk.crash_dumps import guard_page_dump, non_canonical_dump, null_field_dump

FIXTURES = Path(__file__).parents[1] / "fixtures" / "minidump"


# --- accesses and the adjusted address ---------------------------------------------------------------------------


def test_null_pointer_through_a_field_offset() -> None:
    crash, read = facts("8b4010", address=0x10, rax=0)  # mov eax, [rax + 0x10]
    result = analyze(crash, read, NO_MAP)
    assert result.instruction is not None and result.instruction.text == "mov eax, dword ptr [rax + 0x10]"
    assert result.accesses is not None
    assert [(a.address, a.size, a.access, a.null_base) for a in result.accesses] == [(0x10, 4, Access.READ, True)]
    assert result.adjusted == ("null-pointer", 0x10)
    doc = to_json(result, HEX64)
    assert doc["adjusted_address"] == {"kind": "null-pointer", "offset": "0x0000000000000010"}
    assert doc["possible_bit_flips"] is None  # a null pointer is never a bit flip


def test_x86_null_pointer_is_printed_at_32_bits() -> None:
    crash, read = facts("8b4010", cpu="x86", reason="EXCEPTION_ACCESS_VIOLATION_READ", address=0x10, eax=0)
    doc = to_json(analyze(crash, read, NO_MAP), HEX32)
    assert doc["adjusted_address"] == {"kind": "null-pointer", "offset": "0x00000010"}
    assert doc["memory_accesses"] == [{"address": "0x00000010", "size": 4, "access_type": "read"}]


def test_a_non_null_base_is_not_adjusted() -> None:
    crash, read = facts("8b4010", address=0x1010, rax=0x1000)
    result = analyze(crash, read, NO_MAP)
    assert result.adjusted is None
    assert result.accesses is not None and result.accesses[0].address == 0x1010


@pytest.mark.parametrize(
    ("os", "reason", "code", "flags", "address"),
    [
        ("Windows NT", "EXCEPTION_ACCESS_VIOLATION_READ", 0xC0000005, 0, (1 << 64) - 1),
        ("Linux", "SIGSEGV /0x00000080", 11, 0x80, 0),
        ("Linux", "SIGBUS /0x00000080", 7, 0x80, 0),
        ("Mac OS X", "EXC_BAD_ACCESS / EXC_I386_GPFLT", 1, 13, 0),
    ],
)
def test_general_protection_fault_gets_the_non_canonical_address(
    os: str, reason: str, code: int, flags: int, address: int
) -> None:
    crash, read = facts(
        "488b03", os=os, reason=reason, exception_code=code, exception_flags=flags, address=address, rbx=1 << 60
    )
    result = analyze(crash, read, NO_MAP)
    assert result.adjusted == ("non-canonical", 1 << 60)
    assert to_json(result, HEX64)["adjusted_address"] == {"kind": "non-canonical", "address": "0x1000000000000000"}


@pytest.mark.parametrize(
    ("os", "cpu", "flags", "value"),
    [
        ("Android", "amd64", 0x80, 1 << 60),  # rust-minidump only knows Linux's, macOS's and Windows' spellings
        ("Linux", "amd64", 1, 1 << 60),  # SEGV_MAPERR: an ordinary page fault, whose address is the real one
        ("Linux", "amd64", 0x80, 0x7FFF_0000),  # a GPF whose access is canonical: nothing to adjust
        ("Linux", "x86", 0x80, 1 << 30),  # no canonical addresses on x86
    ],
)
def test_no_non_canonical_adjustment(os: str, cpu: str, flags: int, value: int) -> None:
    reg = "rbx" if cpu == "amd64" else "ebx"
    crash, read = facts("8b03", os=os, cpu=cpu, exception_flags=flags, **{reg: value})
    assert analyze(crash, read, NO_MAP).adjusted is None


def test_null_pointer_takes_precedence_over_non_canonical() -> None:
    # Breakpad's write_av_non_canonical: mov qword [rax + rcx], … with rax = 0 (rust-minidump checks null first).
    crash, read = facts(
        "48c70408414141 41".replace(" ", ""),
        os="Windows NT",
        reason="EXCEPTION_ACCESS_VIOLATION_READ",
        exception_code=0xC0000005,
        address=(1 << 64) - 1,
        rax=0,
        rcx=0xFEFE_FEFE_FEFE_FEFE,
    )
    assert analyze(crash, read, NO_MAP).adjusted == ("null-pointer", 0xFEFE_FEFE_FEFE_FEFE)


def test_stack_accesses_and_return_target() -> None:
    stack = {0x7000: (0x401234).to_bytes(8, "little")}
    crash, read = facts("c3", rsp=0x7000, memory=stack)  # ret
    result = analyze(crash, read, NO_MAP)
    assert result.accesses is not None
    assert [(a.address, a.size, a.access) for a in result.accesses] == [(0x7000, 8, Access.READ)]
    assert (result.ip_known, result.ip_target) == (True, 0x401234)
    push, read = facts("50", rsp=0x7000)  # push rax
    pushed = analyze(push, read, NO_MAP).accesses
    assert pushed is not None and [(a.address, a.access) for a in pushed] == [(0x6FF8, Access.WRITE)]


def test_call_through_memory_reads_the_target_and_a_null_target_is_a_null_pointer() -> None:
    table = {0x9000: bytes(16)}  # the function pointer at [rax + 8] is null
    crash, read = facts("ff5008", rax=0x9000, rsp=0x7000, memory=table)  # call [rax + 8]
    result = analyze(crash, read, NO_MAP)
    assert (result.ip_known, result.ip_target) == (True, 0)
    assert result.adjusted == ("null-pointer", 0)
    assert to_json(result, HEX64)["instruction_pointer_update"] == {"address": "0x0000000000000000"}


def test_instruction_pointer_update_unknown_or_none() -> None:
    crash, read = facts("ff5008", rax=0x9000)  # the pointer at [rax + 8] is not in the dump
    assert analyze(crash, read, NO_MAP).ip_known is False
    crash, read = facts("8b4010", rax=0)
    assert analyze(crash, read, NO_MAP).ip_known is True  # falls through: known, and no update


def test_rip_relative_address_is_from_the_next_instruction() -> None:
    crash, read = facts("488b0510000000")  # mov rax, [rip + 0x10]: 7 bytes long
    accesses = analyze(crash, read, NO_MAP).accesses
    assert accesses is not None and accesses[0].address == IP + 7 + 0x10


def test_addresses_wrap_at_the_pointer_width() -> None:
    crash, read = facts("8b4010", rax=(1 << 64) - 8)
    accesses = analyze(crash, read, NO_MAP).accesses
    assert accesses is not None and accesses[0].address == 8
    crash, read = facts("8b4010", cpu="x86", eax=0xFFFF_FFF8)
    accesses = analyze(crash, read, NO_MAP).accesses
    assert accesses is not None and accesses[0].address == 8


# --- bounded and quiet on bad input ----------------------------------------------------------------------------------


def test_no_code_at_the_instruction_pointer_means_no_analysis() -> None:
    crash, read = facts(None, address=0x10, rax=0)
    result = analyze(crash, read, NO_MAP)
    assert (result.instruction, result.accesses, result.adjusted) == (None, None, None)
    doc = to_json(result, HEX64)
    assert doc["instruction"] is None and doc["memory_accesses"] is None and doc["crash_inconsistencies"] == []


def test_code_cut_short_by_the_end_of_the_dumps_memory() -> None:
    crash, _ = facts(None, rax=0)
    read = reader({IP: bytes.fromhex("8b4010")})  # the region ends right after the instruction
    result = analyze(crash, read, NO_MAP)
    assert result.instruction is not None and result.adjusted == ("null-pointer", 0x10)
    truncated = reader({IP: bytes.fromhex("8b40")})
    assert analyze(crash, truncated, NO_MAP).instruction is None


def test_garbage_code_and_unknown_cpus_give_nothing() -> None:
    crash, read = facts("06", rax=0)  # push es: invalid in 64-bit mode
    assert analyze(crash, read, NO_MAP).instruction is None
    crash, read = facts("8b4010", cpu="arm64", rax=0)
    assert analyze(crash, read, NO_MAP).instruction is None


def test_a_register_missing_from_the_context_drops_the_access_list() -> None:
    crash, read = facts("8b4010")  # no rax in the context
    result = analyze(crash, read, NO_MAP)
    assert result.instruction is not None and result.accesses is None and result.adjusted is None


WORDS = st.one_of(st.integers(0, 2**64 - 1), st.integers(0, 0x3000), st.integers(0x7FFF_0000, 0x7FFF_4000))
REGISTER_NAMES = ["rax", "rbx", "rcx", "rsp", "rip", "eax", "ebx", "esp", "eip", "r13"]


@settings(max_examples=300, deadline=None)
@given(
    code=st.binary(max_size=20),
    cpu=st.sampled_from(["amd64", "x86", "arm64"]),
    os=st.sampled_from(["Linux", "Windows NT", "Mac OS X"]),
    reason=st.sampled_from(
        ["EXCEPTION_ACCESS_VIOLATION_READ", "EXCEPTION_ACCESS_VIOLATION_WRITE", "EXCEPTION_STACK_OVERFLOW", "SIGSEGV"]
    ),
    exception=st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)),
    address=WORDS,
    registers=st.dictionaries(st.sampled_from(REGISTER_NAMES), WORDS),
    regions=st.lists(st.tuples(WORDS, st.integers(-0x1000, 0x10000), st.integers(0, 7)), max_size=8),
)
def test_any_instruction_registers_and_map_give_an_analysis(
    code: bytes,
    cpu: str,
    os: str,
    reason: str,
    exception: tuple[int, int],
    address: int,
    registers: dict[str, int],
    regions: list[tuple[int, int, int]],
) -> None:
    """Whatever the bytes at the IP, the registers and the memory map: a result, never an exception."""
    crash = CrashFacts(os, cpu, reason, *exception, address, {"rip": IP, "eip": IP, **registers})
    memory = MemoryMap(Region(start, start + size, bool(p & 1), bool(p & 2), bool(p & 4)) for start, size, p in regions)
    result = analyze(crash, reader({IP: code, 0x7FFF_0000: bytes(0x4000)}), memory)
    doc = to_json(result, HEX64 if cpu != "x86" else HEX32)
    assert len(result.bit_flips) <= 64 * (1 + len(REGISTER_NAMES))
    assert doc["crash_inconsistencies"] is not None
    if result.accesses is not None:
        assert all(0 <= a.address < 2**64 for a in result.accesses)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_mutated_crash_dumps_walk_without_exceptions(data: st.DataObject) -> None:
    """Byte flips anywhere in a dump with code, a memory map and an exception: ``build_json`` still answers."""
    seed = bytearray(data.draw(st.sampled_from([null_field_dump(), guard_page_dump(), non_canonical_dump()])))
    for _ in range(data.draw(st.integers(1, 8))):
        seed[data.draw(st.integers(0, len(seed) - 1))] = data.draw(st.integers(0, 255))
    try:
        dump = Minidump.from_bytes(bytes(seed))
    except MinidumpError:
        return
    with dump:
        crash_info = build_json(dump, walk(dump, NoSymbols(), WalkOptions(max_seconds=5.0)))["crash_info"]
    assert {"adjusted_address", "memory_accesses", "possible_bit_flips", "crash_inconsistencies"} <= crash_info.keys()


# --- real dumps -----------------------------------------------------------------------------------------------------


def fields(path: Path) -> dict[str, Any]:
    with Minidump.from_path(path) as dump:
        return crash_info_fields(dump, HexFormatter(pointer_size(dump)))


def test_linux_mini_matches_rust_minidump() -> None:
    """rust-minidump's ``linux_json_pretty`` snapshot: same access, same single bit flip at 0.25."""
    doc = fields(FIXTURES / "linux-mini.dmp")
    assert doc["memory_accesses"] == [{"address": "0x0000000000000045", "size": 4, "access_type": "write"}]
    assert doc["possible_bit_flips"] == [
        {
            "address": "0x0000000000400045",
            "source_register": None,
            "details": {
                "was_non_canonical": False,
                "is_null": False,
                "was_low": False,
                "nearby_registers": 0,
                "poison_registers": False,
            },
            "confidence": 0.25,
        }
    ]
    assert doc["adjusted_address"] is None and doc["instruction_pointer_update"] is None
    assert doc["crash_inconsistencies"] == []
    assert doc["instruction"] == "mov dword ptr [0x45], 5"  # rust-minidump (yaxpeax): "mov dword [0x45], 0x5"


def test_macos_inlines_matches_rust_minidump() -> None:
    """``macos_inlines_json_pretty``: a write to a sign-extended absolute address; no memory map, no bit flips."""
    doc = fields(FIXTURES / "pipeline-inlines-macos-segv.dmp")
    assert doc["memory_accesses"] == [{"address": "0xffffffff80000042", "size": 1, "access_type": "write"}]
    assert doc["possible_bit_flips"] is None and doc["adjusted_address"] is None
    assert doc["crash_inconsistencies"] == []


def test_x86_dump_without_code_bytes_matches_rust_minidump() -> None:
    """minidump2 (rust-minidump's ``test.dmp``) carries no memory at its instruction pointer."""
    with Minidump.from_path(FIXTURES / "minidump2.dmp") as dump:
        doc = build_json(dump, walk(dump, NoSymbols(), WalkOptions()))["crash_info"]
    assert doc["instruction"] is None and doc["memory_accesses"] is None and doc["possible_bit_flips"] is None
    assert doc["crash_inconsistencies"] == [] and doc["adjusted_address"] is None


def test_dump_without_an_exception_has_only_nulls() -> None:
    from tests.minidump.synth import minimal

    with Minidump.from_bytes(minimal().build()) as dump:
        doc = crash_info_fields(dump, HEX64)
    assert set(doc.values()) == {None}


#: What the corpus dumps give (``adjusted_address``, ``instruction``, accesses as ``(address, size, type)``,
#: bit flips as ``(address, source register, confidence)``), by ``<corpus repo>/<dump stem>``.
CORPUS_EXPECTED: dict[str, dict[str, Any]] = {
    "getsentry__symbolic/crash_linux": {
        "adjusted": ("null-pointer", 0),
        "instruction": "mov dword ptr [rax], 1",
        "accesses": [(0, 4, "write")],
        "flips": [],
    },
    "google__breakpad/null_read_av": {
        "adjusted": ("null-pointer", 0),
        "instruction": "mov eax, dword ptr [eax]",
        "accesses": [(0, 4, "read")],
        "flips": [],
    },
    "google__breakpad/write_av_non_canonical": {
        "adjusted": ("null-pointer", 0xFEFE_FEFE_FEFE_FEFE),  # null base rax, offset from the index register
        "instruction": "mov qword ptr [rax + rcx], 0x41414141",
        "accesses": [(0xFEFE_FEFE_FEFE_FEFE, 8, "write")],
        "flips": [],
    },
    "google__breakpad/thread_name_list": {
        "adjusted": None,
        "instruction": "mov eax, dword ptr [eax + 0x14]",
        "accesses": [(0xF1004, 4, "read")],
        "flips": [],
    },
    "google__breakpad/linux_write_to_under_4k": {
        "adjusted": None,
        "instruction": "mov dword ptr [rax], 1",
        "accesses": [(0xF93, 4, "write")],
        "flips": [(0x400F93, None, 0.6625), (0x400F93, "rax", 0.6625)],
    },
    "google__breakpad/linux_in_module_outside_executable_part": {
        "adjusted": None,
        "instruction": "insb byte ptr [rdi], dx",
        "accesses": [(0x617260, 1, None)],
        "flips": [(0x400000, None, 0.625)],
    },
    "google__breakpad/linux_jmp_to_module_not_exe_region": {
        "adjusted": None,
        "instruction": "ret",
        "accesses": [(0x7FFF_3AB6_8EA0, 8, "read")],
        "flips": [],
        "ip_update": 0x7FFF_3AB6_8FC0,
    },
    "google__breakpad/stack_exhaustion": {
        "adjusted": None,
        "instruction": "test dword ptr [eax], eax",
        "accesses": [(0x102000, 4, None)],  # the stack probe; the dump has no memory info, so no guard page
        "flips": [],
    },
    "nya3jp__tast/chrome.20210929.052823.26188.4743": {  # SIGSEGV/SI_KERNEL, but no code bytes in the dump
        "adjusted": None,
        "instruction": None,
        "accesses": None,
        "flips": [],
    },
}


def _corpus_dump(key: str) -> Path:
    repo, stem = key.split("/")
    path = CORPUS / repo / "dumps" / f"{stem}.dmp"
    if not path.is_file():
        pytest.skip(f"corpus dump {path} not found")
    return path


@pytest.mark.corpus
@pytest.mark.parametrize("key", sorted(CORPUS_EXPECTED))
def test_corpus_dump(key: str) -> None:
    expected = CORPUS_EXPECTED[key]
    path = _corpus_dump(key)
    with Minidump.from_path(path) as dump:
        hx = HexFormatter(pointer_size(dump))
        doc = crash_info_fields(dump, hx)
    adjusted = doc["adjusted_address"]
    if expected["adjusted"] is None:
        assert adjusted is None
    else:
        kind, value = expected["adjusted"]
        assert adjusted == {"kind": kind, ("offset" if kind == "null-pointer" else "address"): hx(value)}
    assert doc["instruction"] == expected["instruction"]
    if expected["accesses"] is None:
        assert doc["memory_accesses"] is None
    else:
        assert doc["memory_accesses"] == [
            {"address": hx(a), "size": s, **({"access_type": t} if t else {})} for a, s, t in expected["accesses"]
        ]
    flips = [(f["address"], f["source_register"], f["confidence"]) for f in doc["possible_bit_flips"] or []]
    assert flips == [(hx(a), r, c) for a, r, c in expected["flips"]]
    if "ip_update" in expected:
        assert doc["instruction_pointer_update"] == {"address": hx(expected["ip_update"])}
    assert doc["crash_inconsistencies"] == []  # no corpus dump contradicts itself


# --- synthetic dumps, walked ---------------------------------------------------------------------------------------


def walked(data: bytes) -> dict[str, Any]:
    with Minidump.from_bytes(data) as dump:
        crash_info: dict[str, Any] = build_json(dump, walk(dump, NoSymbols(), WalkOptions()))["crash_info"]
        return crash_info


def test_walked_null_field_dump_reports_the_offset() -> None:
    crash_info = walked(null_field_dump())
    assert crash_info["type"] == "SIGSEGV /SEGV_MAPERR"
    assert crash_info["address"] == "0x0000000000000010"
    assert crash_info["adjusted_address"] == {"kind": "null-pointer", "offset": "0x0000000000000010"}
    assert crash_info["instruction"] == "mov eax, dword ptr [rax + 0x10]"


def test_walked_non_canonical_dump() -> None:
    crash_info = walked(non_canonical_dump())
    assert crash_info["address"] == "0x0000000000000000"
    assert crash_info["adjusted_address"] == {"kind": "non-canonical", "address": "0x0001555555550018"}
    flips = crash_info["possible_bit_flips"]
    assert [(f["address"], f["source_register"]) for f in flips] == [
        ("0x0000555555550018", None),
        ("0x0000555555550018", "rbx"),
    ]
    assert flips[0]["details"]["was_non_canonical"] is True
    assert flips[0]["confidence"] == 0.92499995  # 1 - 0.75 * 0.1 in f32, as rust-minidump prints it


def test_walked_guard_page_dump() -> None:
    crash_info = walked(guard_page_dump())
    assert crash_info["type"] == "EXCEPTION_ACCESS_VIOLATION_READ"
    assert crash_info["memory_accesses"] == [
        {"address": "0x000000007ffdf010", "size": 4, "is_likely_guard_page": True, "access_type": "read"}
    ]


# --- real crashes, written by Crashpad's handler -------------------------------------------------------------------

CRASHPAD_UNAVAILABLE = crashpad_unavailable()
needs_crashpad = pytest.mark.skipif(CRASHPAD_UNAVAILABLE is not None, reason=CRASHPAD_UNAVAILABLE or "")


def walk_real_dump(dump: Minidump, program: str) -> dict[str, Any]:
    """The production walk (no symbols) of a dump ``program``'s crash produced."""
    doc = build_json(dump, walk(dump, NoSymbols(), WalkOptions()))
    assert doc["crashing_thread"]["frames"][0]["module"] == program  # the crasher's own code faulted
    return doc


def walked_real_crash(program: str, workdir: Path) -> dict[str, Any]:
    """The production walk of the dump the collector received for ``program``'s crash."""
    crash = crash_with_crashpad(program, workdir)
    with Minidump.from_path(crash.dump) as dump:
        return walk_real_dump(dump, program)


@pytest.mark.slow
@needs_crashpad
def test_real_crashpad_null_field_write_reports_the_adjusted_address(tmp_path: Path) -> None:
    """``Session::Touch`` writes ``conn->last_seen`` (offset 0x28) through a NULL ``conn``: the kernel reports
    0x28, and only the decoded instruction shows that this is a null pointer plus a field offset."""
    crash_info = walked_real_crash("field_null_memory", tmp_path)["crash_info"]
    assert crash_info["type"] == "SIGSEGV /SEGV_MAPERR"
    assert crash_info["address"] == "0x0000000000000028"
    assert crash_info["adjusted_address"] == {"kind": "null-pointer", "offset": "0x0000000000000028"}
    # g++ -O0 gives ``mov qword ptr [rax + 0x28], rdx``; the registers are the compiler's choice, the operand not.
    assert re.fullmatch(r"mov qword ptr \[r\w+ \+ 0x28\], r\w+", crash_info["instruction"]), crash_info
    assert crash_info["memory_accesses"] == [{"address": "0x0000000000000028", "size": 8, "access_type": "write"}]
    assert crash_info["possible_bit_flips"] is None
    assert crash_info["crash_inconsistencies"] == []


@pytest.mark.slow
@needs_crashpad
def test_real_crashpad_dump_without_code_bytes_gives_no_analysis(tmp_path: Path) -> None:
    """With Crashpad's default options a Linux dump holds the stacks only: no instruction to decode, so the
    analysis fields stay null and the address stays the kernel's, rather than being guessed."""
    crash_info = walked_real_crash("field_null", tmp_path)["crash_info"]
    assert crash_info["address"] == "0x0000000000000028"
    assert crash_info["instruction"] is None and crash_info["memory_accesses"] is None
    assert crash_info["adjusted_address"] is None and crash_info["possible_bit_flips"] is None


#: ``mov qword ptr [reg], reg``: g++ -O0's store of ``records_[i]``, whichever registers it picks.
_STORE_THROUGH_REGISTER = re.compile(r"mov qword ptr \[r\w+\], r\w+")


@pytest.mark.slow
@needs_crashpad
def test_real_crashpad_guard_page_hit_without_a_memory_map_is_not_flagged(tmp_path: Path) -> None:
    """``RecordLog::Fill`` writes one record past its page, into the PROT_NONE page after it (SEGV_ACCERR).

    Crashpad's Linux handler writes no memory map (``ProcessSnapshotLinux::MemoryMap`` is an unimplemented TODO
    in Crashpad): no memory info list, no Linux maps. The instruction and its access are decoded, but nothing
    says the page is a guard, so it is not flagged, as rust-minidump would not flag it either.
    """
    crash = crash_with_crashpad("guard_page", tmp_path)
    with Minidump.from_path(crash.dump) as dump:
        assert dump.get_stream(MemoryInfoList) is None and dump.get_stream(LinuxMaps) is None
        crash_info = walk_real_dump(dump, "guard_page")["crash_info"]
    assert crash_info["type"] == "SIGSEGV /SEGV_ACCERR"
    assert int(crash_info["address"], 16) % 4096 == 0  # the first byte of the guard page
    assert _STORE_THROUGH_REGISTER.fullmatch(crash_info["instruction"]), crash_info
    assert crash_info["memory_accesses"] == [{"address": crash_info["address"], "size": 8, "access_type": "write"}]
    assert crash_info["adjusted_address"] is None and crash_info["possible_bit_flips"] is None
    assert crash_info["crash_inconsistencies"] == []


@pytest.mark.slow
@needs_crashpad
def test_real_crashpad_guard_page_hit_with_the_maps_attached_is_flagged(tmp_path: Path) -> None:
    """The same crash, in a program that hands Crashpad its ``/proc/self/maps`` as a user stream (stored as
    MD_LINUX_MAPS): the walker sees a 4 KiB ``---p`` mapping between two ``rw-p`` ones and flags the access."""
    crash = crash_with_crashpad("guard_page_maps", tmp_path)
    with Minidump.from_path(crash.dump) as dump:
        maps = dump.get_stream(LinuxMaps)
        assert maps is not None and dump.get_stream(MemoryInfoList) is None
        crash_info = walk_real_dump(dump, "guard_page_maps")["crash_info"]
    address = int(crash_info["address"], 16)
    guard, before, after = maps.entry_at(address), maps.entry_at(address - 1), maps.entry_at(address + 4096)
    assert guard is not None and (guard.start, guard.end, guard.permissions) == (address, address + 4096, "---p")
    assert before is not None and before.end == address and before.permissions == "rw-p"
    assert after is not None and after.start == address + 4096 and after.permissions == "rw-p"
    assert crash_info["type"] == "SIGSEGV /SEGV_ACCERR"
    assert _STORE_THROUGH_REGISTER.fullmatch(crash_info["instruction"]), crash_info
    assert crash_info["memory_accesses"] == [
        {"address": crash_info["address"], "size": 8, "is_likely_guard_page": True, "access_type": "write"}
    ]
    # An access Linux does not say was a read or a write: the guard page itself may be touched, no bit flip.
    assert crash_info["adjusted_address"] is None and crash_info["possible_bit_flips"] is None
    assert crash_info["crash_inconsistencies"] == []


@pytest.mark.slow
@needs_crashpad
def test_real_crashpad_non_canonical_write_reports_the_address_the_kernel_does_not(tmp_path: Path) -> None:
    """``Session::Touch`` writes ``conn->last_seen`` (offset 0x28) through ``conn`` = 0x4141414141414141, which an
    overflowing copy left there. The CPU raises a general-protection fault; Linux reports SIGSEGV with si_code
    SI_KERNEL (0x80) and address 0, and only the decoded instruction gives the address.
    """
    crash_info = walked_real_crash("non_canonical", tmp_path)["crash_info"]
    assert crash_info["type"] == "SIGSEGV /0x00000080"  # Breakpad's name: it has none for SI_KERNEL
    assert crash_info["address"] == "0x0000000000000000"
    assert re.fullmatch(r"mov qword ptr \[r\w+ \+ 0x28\], r\w+", crash_info["instruction"]), crash_info
    assert crash_info["memory_accesses"] == [{"address": "0x4141414141414169", "size": 8, "access_type": "write"}]
    assert crash_info["adjusted_address"] == {"kind": "non-canonical", "address": "0x4141414141414169"}
    # No single flip of bits 48-63 makes 0x4141… canonical, and Crashpad's Linux dump has no memory map anyway.
    assert crash_info["possible_bit_flips"] is None
    # rust-minidump checks inconsistencies on Linux for SIGFPE / FPE_INTDIV only; a SIGSEGV never has one.
    assert crash_info["crash_inconsistencies"] == []
