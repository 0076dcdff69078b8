"""``build_json``: rust-minidump's ``--json`` keys and types on every fixture dump, checked against Breakpad."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from crashcart.minidump import Minidump
from crashcart.stackwalk import NoSymbols, WalkOptions, walk
from crashcart.stackwalk.output_json import HexFormatter, build_json
from crashcart.stackwalk.symbol_lookup import ProviderLookup
from crashcart.symbols import build_symbol_provider
from tests.helpers.shared import CORPUS
from tests.stackwalk.crash_dumps import shared_chain_dump

FIXTURES = Path(__file__).parents[1] / "fixtures" / "minidump"
DUMPS = sorted(p.stem for p in FIXTURES.glob("*.dmp"))
CORPUS_SYMBOLS = CORPUS / "google__breakpad" / "symbols"
HEX = re.compile(r"^0x[0-9a-f]+$")

FRAME_KEYS = {
    "frame": int,
    "module": (str, type(None)),
    "function": (str, type(None)),
    "function_offset": (str, type(None)),
    "file": (str, type(None)),
    "line": (int, type(None)),
    "offset": str,
    "module_offset": (str, type(None)),
    "missing_symbols": bool,
    "trust": str,
    "inlines": (list, type(None)),
}
MODULE_KEYS = {
    "base_addr": str,
    "end_addr": str,
    "filename": str,
    "code_id": (str, type(None)),
    "debug_file": str,
    "debug_id": (str, type(None)),
    "version": (str, type(None)),
    "missing_symbols": bool,
    "loaded_symbols": bool,
}


def _doc(name: str) -> dict[str, Any]:
    with Minidump.from_path(FIXTURES / f"{name}.dmp") as dump:
        return build_json(dump, walk(dump, NoSymbols(), WalkOptions()))


def _breakpad(name: str) -> dict[str, list[list[str]]]:
    lines: dict[str, list[list[str]]] = {}
    for line in (FIXTURES / f"{name}.breakpad.m").read_text().splitlines():
        fields = line.split("|")
        lines.setdefault(fields[0], []).append(fields)
    return lines


def _check(obj: dict[str, Any], spec: dict[str, Any]) -> None:
    for key, types in spec.items():
        assert key in obj, key
        assert isinstance(obj[key], types), (key, obj[key])


@pytest.mark.parametrize("name", DUMPS)
def test_schema_keys_and_types(name: str) -> None:
    doc = _doc(name)
    json.dumps(doc)  # serializable
    assert doc["status"] == "OK"
    _check(doc["system_info"], {"os": str, "os_ver": (str, type(None)), "cpu_arch": str, "cpu_count": int})
    _check(doc["crash_info"], {"type": str, "address": str, "crashing_thread": int})
    assert HEX.match(doc["crash_info"]["address"])
    assert doc["thread_count"] == len(doc["threads"]) > 0
    assert doc["main_module"] == 0
    assert isinstance(doc["unloaded_modules"], list)
    for thread in doc["threads"]:
        _check(thread, {"thread_id": int, "frame_count": int, "frames": list})
        assert thread["frame_count"] == len(thread["frames"])
        for i, frame in enumerate(thread["frames"]):
            _check(frame, FRAME_KEYS)
            assert frame["frame"] == i
            assert HEX.match(frame["offset"])
            assert frame["trust"] in {"context", "cfi", "frame_pointer", "cfi_scan", "scan", "prewalked", "none"}
            assert frame["missing_symbols"] is (frame["function"] is None)
        if thread["frames"]:
            assert thread["frames"][0]["trust"] == "context"
    crashing = doc["crashing_thread"]
    assert crashing["threads_index"] == doc["crash_info"]["crashing_thread"]
    assert crashing["frames"][0]["registers"]
    assert all(HEX.match(v) for v in crashing["frames"][0]["registers"].values())
    for module in doc["modules"]:
        _check(module, MODULE_KEYS)
        assert HEX.match(module["base_addr"])
        assert int(module["end_addr"], 16) > int(module["base_addr"], 16)


@pytest.mark.parametrize("name", DUMPS)
def test_agrees_with_breakpad(name: str) -> None:
    doc, ref = _doc(name), _breakpad(name)
    _, os, os_ver = ref["OS"][0][:3]
    _, cpu, cpu_info, cpu_count = ref["CPU"][0][:4]
    assert (doc["system_info"]["os"], doc["system_info"]["os_ver"] or "") == (os, os_ver)
    assert (doc["system_info"]["cpu_arch"], doc["system_info"]["cpu_info"] or "") == (cpu, cpu_info)
    assert doc["system_info"]["cpu_count"] == int(cpu_count)
    _, reason, address, thread = ref["Crash"][0][:4]
    assert doc["crash_info"]["type"] == reason
    assert int(doc["crash_info"]["address"], 16) == int(address, 16)
    # Breakpad's -m sorts modules by address and prints the inclusive end.
    ours = sorted(
        (int(m["base_addr"], 16), int(m["end_addr"], 16) - 1, m["filename"], m["debug_file"], m["debug_id"] or "")
        for m in doc["modules"]
    )
    theirs = sorted(
        (int(f[5], 16), int(f[6], 16), f[1].replace("\\", "/").rsplit("/", 1)[-1], f[3], f[4]) for f in ref["Module"]
    )
    assert ours == theirs
    # The crashing thread's frames (module + module offset) as Breakpad found them without symbols.
    index = doc["crash_info"]["crashing_thread"]
    frames = doc["threads"][index]["frames"]
    ref_frames = ref.get(thread, [])
    assert len(frames) == len(ref_frames)
    pointer_x86 = doc["system_info"]["cpu_arch"] in {"x86", "amd64"}
    for frame, ref_frame in zip(frames, ref_frames, strict=True):
        assert (frame["module"] or "") == ref_frame[2]
        if frame["module"]:
            # Breakpad prints the return address for x86/amd64 callers; JSON the return address - 1.
            adjust = 1 if pointer_x86 and frame["frame"] > 0 else 0
            assert int(frame["module_offset"], 16) + adjust == int(ref_frame[6], 16)


def test_hex_padding() -> None:
    assert HexFormatter(4)(0x45) == "0x00000045"
    assert HexFormatter(8)(0x45) == "0x0000000000000045"
    assert HexFormatter(8)(None) is None


@pytest.mark.skipif(not CORPUS_SYMBOLS.is_dir(), reason="corpus symbols not available")
def test_symbolicated_minidump2_matches_rust_minidump(tmp_path: Path) -> None:
    """rust-minidump's json-pretty-symbols snapshot: frame 1 is main at offset 0x004041ff (+0x4f), line 65."""
    lookup = ProviderLookup(build_symbol_provider(CORPUS_SYMBOLS.as_uri(), tmp_path))
    with Minidump.from_path(FIXTURES / "minidump2.dmp") as dump:
        doc = build_json(dump, walk(dump, lookup, WalkOptions()), lookup.symbolize, lookup.status)
    frames = doc["crashing_thread"]["frames"]
    assert frames[0]["function"] == "`anonymous namespace'::CrashFunction"
    assert (frames[0]["line"], frames[0]["offset"]) == (58, "0x0040429e")
    assert frames[1]["function"] == "main"
    assert (frames[1]["offset"], frames[1]["function_offset"], frames[1]["line"]) == ("0x004041ff", "0x0000004f", 65)
    assert frames[1]["file"] == "c:\\test_app.cc"
    assert frames[1]["trust"] == "cfi"
    modules = {m["filename"]: m for m in doc["modules"]}
    assert modules["test_app.exe"]["loaded_symbols"] is True
    assert modules["kernel32.dll"]["loaded_symbols"] is True
    assert modules["ntdll.dll"]["loaded_symbols"] is False  # no frame touched it


#: Keys of rust-minidump's ``json-pretty-symbols`` snapshot (minidump-stackwalk/tests/snapshots, MIT) for this
#: dump, at each level; ours may carry more (``thread_id``, ``stackwalker``, …), never fewer.
SNAPSHOT_KEYS = {
    "top": {
        "crash_info", "crashing_thread", "lsb_release", "mac_boot_args", "mac_crash_info", "main_module", "modules",
        "modules_contains_cert_info", "pid", "status", "system_info", "thread_count", "threads", "unloaded_modules",
    },
    "crash_info": {
        "address", "adjusted_address", "assertion", "crash_inconsistencies", "crashing_thread", "instruction",
        "instruction_pointer_update", "memory_accesses", "possible_bit_flips", "type",
    },
    "thread": {"frame_count", "frames", "last_error_value", "thread_name"},
    "frame": {
        "file", "frame", "function", "function_offset", "inlines", "line", "missing_symbols", "module",
        "module_offset", "offset", "trust", "unloaded_modules",
    },
    "module": {
        "base_addr", "cert_subject", "code_id", "corrupt_symbols", "debug_file", "debug_id", "end_addr", "filename",
        "loaded_symbols", "missing_symbols", "symbol_url", "version",
    },
    "system_info": {"cpu_arch", "cpu_count", "cpu_info", "cpu_microcode_version", "os", "os_ver"},
}  # fmt: skip


def test_has_every_key_of_rust_minidump_snapshot() -> None:
    doc = _doc("minidump2")
    assert SNAPSHOT_KEYS["top"] <= doc.keys()
    assert SNAPSHOT_KEYS["crash_info"] <= doc["crash_info"].keys()
    assert SNAPSHOT_KEYS["system_info"] <= doc["system_info"].keys()
    assert SNAPSHOT_KEYS["thread"] | {"threads_index"} <= doc["crashing_thread"].keys()
    for thread in doc["threads"]:
        assert SNAPSHOT_KEYS["thread"] <= thread.keys()
        for frame in thread["frames"]:
            assert SNAPSHOT_KEYS["frame"] <= frame.keys()
    for module in doc["modules"]:
        assert SNAPSHOT_KEYS["module"] <= module.keys()
    # Values the snapshot shows that do not depend on symbols.
    assert [t["frame_count"] for t in doc["threads"]] == [4, 0]
    assert doc["pid"] == 3932
    modules = {m["filename"]: m for m in doc["modules"]}
    assert (modules["test_app.exe"]["code_id"], modules["test_app.exe"]["end_addr"]) == ("45d35f6c2d000", "0x0042d000")
    assert modules["ntdll.dll"]["version"] == "5.1.2600.2180"
    assert [m["filename"] for m in doc["modules"]][:3] == ["test_app.exe", "ntdll.dll", "kernel32.dll"]


def test_x86_context_frame_has_efl() -> None:
    """rust-minidump's x86 context frame lists ``efl`` (Breakpad's text too: ``efl = 0x00010246`` here);
    amd64 frames do not carry a flags register."""
    registers = _doc("minidump2")["crashing_thread"]["frames"][0]["registers"]
    assert registers["efl"] == "0x00010246"
    assert (registers["eip"], registers["esp"]) == ("0x0040429e", "0x0012fe84")
    assert "efl" not in _doc("linux-mini")["crashing_thread"]["frames"][0]["registers"]


def test_output_cap_keeps_the_crashing_thread_and_a_prefix_in_order() -> None:
    """``max_size`` bounds ``json.dumps(doc, indent=2)``: the crashing thread (here index 7) is kept, the others
    follow in minidump order while they fit, ``crash_info.crashing_thread`` indexes the kept list."""
    dump = Minidump.from_bytes(shared_chain_dump(threads=20, chain_bytes=2048, crashing=7))
    result = walk(dump, NoSymbols(), WalkOptions())
    whole = build_json(dump, result)
    cap = len(json.dumps(whole, indent=2)) // 2
    doc = build_json(dump, result, max_size=cap)
    assert len(json.dumps(doc, indent=2)) <= cap
    ids = [t["thread_id"] for t in doc["threads"]]
    assert 107 in ids and ids == sorted(ids) and ids[0] == 100
    assert doc["threads"][doc["crash_info"]["crashing_thread"]]["thread_id"] == 107
    assert doc["crashing_thread"]["threads_index"] == doc["crash_info"]["crashing_thread"]
    assert doc["crashing_thread"]["frame_count"] == 128
    truncated = doc["stackwalker"]["truncated"]
    assert truncated["threads_omitted"] == 20 - len(ids) and truncated["output_size"] is True
    assert doc["stackwalker"]["status"] == "partial"
    assert "truncated" not in whole["stackwalker"]  # nothing was cut without the cap


def test_time_budget_covers_building_the_output() -> None:
    dump = Minidump.from_bytes(shared_chain_dump(threads=20, chain_bytes=1024, crashing=3))
    result = walk(dump, NoSymbols(), WalkOptions())
    ticks = iter(range(100))
    doc = build_json(dump, result, deadline=5.0, clock=lambda: float(next(ticks)))
    assert [t["thread_id"] for t in doc["threads"]][:1] == [100]
    assert 103 in [t["thread_id"] for t in doc["threads"]]
    assert doc["stackwalker"]["truncated"]["time_budget"] is True
    assert doc["stackwalker"]["truncated"]["threads_omitted"] == 20 - len(doc["threads"]) > 0


def test_output_cap_trims_modules_no_kept_frame_is_in() -> None:
    """A module list alone over the cap (a hostile dump may list 100,000): modules no kept frame is in go, from
    the end; the main module and the frames' modules stay."""
    dump = Minidump.from_bytes(shared_chain_dump(threads=5, chain_bytes=512, crashing=2, modules=3000))
    result = walk(dump, NoSymbols(), WalkOptions())
    cap = 256 * 1024
    doc = build_json(dump, result, max_size=cap)
    assert len(json.dumps(doc, indent=2)) <= cap
    assert doc["modules"][0]["filename"] == "app"
    assert doc["modules"][0]["missing_symbols"] is True  # touched by the frames
    assert 1 < len(doc["modules"]) < 3000
    truncated = doc["stackwalker"]["truncated"]
    assert truncated["modules_omitted"] == 3000 - len(doc["modules"])
    assert truncated["output_size"] is True
    crashing = result.crashing_stack
    assert crashing is not None
    assert doc["crashing_thread"]["frame_count"] == len(crashing.frames) >= 32
