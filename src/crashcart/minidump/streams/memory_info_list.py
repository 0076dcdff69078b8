"""MemoryInfoListStream (16): the process's address space layout with page states and protections."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import ClassVar

from crashcart.minidump import errors
from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, ParseContext, unpack
from crashcart.minidump.errors import MinidumpError
from crashcart.minidump.streams._base import Stream
from crashcart.minidump.streams.memory_list import MAX_MEMORY_RANGES

MEM_COMMIT = 0x1000
MEM_RESERVE = 0x2000
MEM_FREE = 0x10000
PAGE_NOACCESS = 0x01
PAGE_READONLY = 0x02
PAGE_READWRITE = 0x04
PAGE_WRITECOPY = 0x08
PAGE_EXECUTE = 0x10
PAGE_EXECUTE_READ = 0x20
PAGE_EXECUTE_READWRITE = 0x40
PAGE_EXECUTE_WRITECOPY = 0x80
PAGE_GUARD = 0x100
PROTECTION_ACCESS_MASK = 0xFF
_EXECUTABLE = PAGE_EXECUTE | PAGE_EXECUTE_READ | PAGE_EXECUTE_READWRITE | PAGE_EXECUTE_WRITECOPY
_WRITABLE = PAGE_READWRITE | PAGE_WRITECOPY | PAGE_EXECUTE_READWRITE | PAGE_EXECUTE_WRITECOPY
MEM_PRIVATE = 0x20000
MEM_MAPPED = 0x40000
MEM_IMAGE = 0x1000000


@dataclass(frozen=True)
class MemoryInfo:
    base_address: int
    allocation_base: int
    allocation_protection: int
    region_size: int
    state: int
    protection: int
    type: int

    @property
    def end_address(self) -> int:
        return self.base_address + self.region_size

    @property
    def is_committed(self) -> bool:
        return self.state == MEM_COMMIT

    @property
    def is_executable(self) -> bool:
        return bool(self.protection & _EXECUTABLE)

    @property
    def is_writable(self) -> bool:
        return bool(self.protection & _WRITABLE)

    @property
    def is_guard_page(self) -> bool:
        return bool(self.protection & PAGE_GUARD)


@dataclass(frozen=True)
class MemoryInfoList(Stream):
    STREAM_TYPE: ClassVar[int] = fmt.StreamType.MEMORY_INFO_LIST

    entries: tuple[MemoryInfo, ...]
    _order: tuple[int, ...] = field(default=(), repr=False, compare=False)
    _bases: tuple[int, ...] = field(default=(), repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.entries)

    def info_at(self, address: int) -> MemoryInfo | None:
        """The region containing ``address`` (regions do not overlap in well-formed dumps)."""
        pos = bisect.bisect_right(self._bases, address) - 1
        if pos >= 0:
            entry = self.entries[self._order[pos]]
            if entry.base_address <= address < entry.end_address:
                return entry
        return None

    @classmethod
    def parse(cls, data: Buffer, ctx: ParseContext) -> MemoryInfoList:
        header_size, entry_size, count = unpack(fmt.MEMORY_INFO_LIST, data, 0, "memory info list header")
        if header_size < fmt.MEMORY_INFO_LIST.size or entry_size < fmt.MEMORY_INFO.size:
            raise MinidumpError(
                errors.BAD_STREAM, f"memory info list header/entry sizes {header_size}/{entry_size} are too small"
            )
        if count > MAX_MEMORY_RANGES:
            raise MinidumpError(errors.TOO_MANY, f"memory info count {count} exceeds the limit of {MAX_MEMORY_RANGES}")
        if header_size + count * entry_size > len(data):
            raise MinidumpError(
                errors.TRUNCATED,
                f"{count} memory info entries of {entry_size} bytes need {header_size + count * entry_size} bytes, "
                f"stream has {len(data)}",
            )
        entries = []
        for i in range(count):
            base, alloc_base, alloc_prot, _a1, size, state, prot, mtype, _a2 = fmt.MEMORY_INFO.unpack_from(
                data, header_size + i * entry_size
            )
            entries.append(MemoryInfo(base, alloc_base, alloc_prot, size, state, prot, mtype))
        order = tuple(sorted(range(len(entries)), key=lambda i: entries[i].base_address))
        return cls(tuple(entries), order, tuple(entries[i].base_address for i in order))
