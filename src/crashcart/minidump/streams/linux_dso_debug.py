"""MD_LINUX_DSO_DEBUG (0x4767000A): the dynamic linker's ``r_debug`` and its ``link_map`` list.

Breakpad's Linux writer emits the structs with natural alignment, so on 64-bit the debug record is 40 bytes
(4 bytes of padding after ``dso_count``) and each link map 24 (padding after ``name``). The packed sizes (36
and 20) are accepted too. 32-bit dumps use 24-byte debug records and 12-byte link maps.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar

from crashcart.minidump import errors
from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, ParseContext
from crashcart.minidump.errors import MinidumpError
from crashcart.minidump.format import CpuArchitecture
from crashcart.minidump.streams._base import Stream

MAX_DSOS = 100_000
_32BIT = {CpuArchitecture.X86, CpuArchitecture.ARM, CpuArchitecture.MIPS, CpuArchitecture.PPC, CpuArchitecture.RISCV}


@dataclass(frozen=True)
class LinkMap:
    #: Load bias of the shared object.
    addr: int
    name: str
    #: Address of its dynamic section.
    ld: int


@dataclass(frozen=True)
class LinuxDsoDebug(Stream):
    STREAM_TYPE: ClassVar[int] = fmt.StreamType.LINUX_DSO_DEBUG

    version: int
    map_rva: int
    dso_count: int
    brk: int
    ldbase: int
    dynamic: int
    link_maps: tuple[LinkMap, ...]

    @classmethod
    def parse(cls, data: Buffer, ctx: ParseContext) -> LinuxDsoDebug:
        arch = ctx.cpu_architecture
        is_32 = arch in _32BIT if arch is not None else len(data) == fmt.DSO_DEBUG_32.size
        link_map: struct.Struct
        if is_32:
            if len(data) < fmt.DSO_DEBUG_32.size:
                raise MinidumpError(errors.TRUNCATED, f"32-bit DSO debug record needs 24 bytes, stream has {len(data)}")
            version, map_rva, count, brk, ldbase, dynamic = fmt.DSO_DEBUG_32.unpack_from(data)
            link_map = fmt.LINK_MAP_32
        elif len(data) >= fmt.DSO_DEBUG_64.size:
            version, map_rva, count, _pad, brk, ldbase, dynamic = fmt.DSO_DEBUG_64.unpack_from(data)
            link_map = fmt.LINK_MAP_64
        elif len(data) >= fmt.DSO_DEBUG_64_PACKED.size:
            version, map_rva, count, brk, ldbase, dynamic = fmt.DSO_DEBUG_64_PACKED.unpack_from(data)
            link_map = fmt.LINK_MAP_64_PACKED
        else:
            raise MinidumpError(errors.TRUNCATED, f"64-bit DSO debug record needs 36 bytes, stream has {len(data)}")
        if count > MAX_DSOS:
            raise MinidumpError(errors.TOO_MANY, f"DSO count {count} exceeds the limit of {MAX_DSOS}")
        maps = []
        if count:
            raw = ctx.read_bytes(map_rva, count * link_map.size, "link map array")
            for i in range(count):
                fields = link_map.unpack_from(raw, i * link_map.size)
                addr, name_rva, ld = fields[0], fields[1], fields[-1]
                try:
                    name = ctx.string(name_rva, f"name of DSO {i}")
                except MinidumpError as exc:
                    ctx.recover(exc, cls.STREAM_TYPE)
                    name = ""
                maps.append(LinkMap(addr, name, ld))
        return cls(version, map_rva, count, brk, ldbase, dynamic, tuple(maps))
