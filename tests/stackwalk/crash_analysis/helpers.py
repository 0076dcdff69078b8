"""Hand-set crash facts, process memory and memory maps for the crash-analysis tests."""

from __future__ import annotations

from crashcart.stackwalk.crash_analysis import CrashFacts, MemoryMap, ReadMemory, Region
from crashcart.stackwalk.output_json import HexFormatter

HEX64, HEX32 = HexFormatter(8), HexFormatter(4)
IP = 0x401000


def reader(regions: dict[int, bytes]) -> ReadMemory:
    """Process memory as ``{base: bytes}``; a read must fall inside one region, as the dump reader's does."""

    def read(address: int, size: int) -> bytes | None:
        for base, data in regions.items():
            if base <= address and address + size <= base + len(data):
                return data[address - base : address - base + size]
        return None

    return read


def facts(
    code: str | None,
    *,
    os: str = "Linux",
    cpu: str = "amd64",
    reason: str = "SIGSEGV /SEGV_MAPERR",
    exception_code: int = 11,
    exception_flags: int = 1,
    address: int = 0,
    memory: dict[int, bytes] | None = None,
    **registers: int,
) -> tuple[CrashFacts, ReadMemory]:
    ip = "rip" if cpu == "amd64" else "eip"
    regions = dict(memory or {})
    if code is not None:
        regions[IP] = bytes.fromhex(code) + b"\x90" * 32
    crash = CrashFacts(os, cpu, reason, exception_code, exception_flags, address, {ip: IP, **registers})
    return crash, reader(regions)


def rw(start: int, end: int) -> Region:
    return Region(start, end, readable=True, writable=True, executable=False)


def rx(start: int, end: int) -> Region:
    return Region(start, end, readable=True, writable=False, executable=True)


def none(start: int, end: int) -> Region:
    return Region(start, end, readable=False, writable=False, executable=False)


NO_MAP = MemoryMap(())
