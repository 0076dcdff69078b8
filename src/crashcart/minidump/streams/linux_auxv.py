"""MD_LINUX_AUXV (0x47670008): a copy of ``/proc/<pid>/auxv``: ``(type, value)`` pairs of pointer size."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar

from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, ParseContext
from crashcart.minidump.format import CpuArchitecture
from crashcart.minidump.streams._base import Stream

AT_NULL = 0
AT_PHDR = 3
AT_PAGESZ = 6
AT_BASE = 7
AT_ENTRY = 9
AT_PLATFORM = 15
AT_HWCAP = 16
AT_RANDOM = 25
AT_HWCAP2 = 26
AT_EXECFN = 31
AT_SYSINFO_EHDR = 33

_PAIR32 = struct.Struct("<II")
_PAIR64 = struct.Struct("<QQ")
_32BIT = {CpuArchitecture.X86, CpuArchitecture.ARM, CpuArchitecture.MIPS, CpuArchitecture.PPC, CpuArchitecture.RISCV}


@dataclass(frozen=True)
class LinuxAuxv(Stream):
    STREAM_TYPE: ClassVar[int] = fmt.StreamType.LINUX_AUXV

    pointer_size: int
    #: ``(AT_* type, value)`` pairs up to (not including) AT_NULL.
    entries: tuple[tuple[int, int], ...]

    def get(self, key: int) -> int | None:
        return next((v for k, v in self.entries if k == key), None)

    @classmethod
    def parse(cls, data: Buffer, ctx: ParseContext) -> LinuxAuxv:
        arch = ctx.cpu_architecture
        # Without a CPU, guess from the size: 64-bit pairs are 16 bytes.
        is_32 = arch in _32BIT if arch is not None else len(data) % 16 != 0
        pair = _PAIR32 if is_32 else _PAIR64
        entries = []
        for offset in range(0, len(data) - pair.size + 1, pair.size):
            key, value = pair.unpack_from(data, offset)
            if key == AT_NULL:
                break
            entries.append((key, value))
        return cls(pair.size // 2, tuple(entries))
