"""Memory64ListStream (9): memory of full-memory dumps, stored back to back from one base RVA."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from crashcart.minidump import errors
from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, ParseContext, unpack
from crashcart.minidump.errors import MinidumpError
from crashcart.minidump.streams._base import MemoryDescriptor, Stream
from crashcart.minidump.streams.memory_list import MAX_MEMORY_RANGES


@dataclass(frozen=True)
class Memory64List(Stream):
    STREAM_TYPE: ClassVar[int] = fmt.StreamType.MEMORY64_LIST

    base_rva: int
    #: Descriptors with the RVA each range's bytes start at (``base_rva`` plus the sizes before it).
    regions: tuple[MemoryDescriptor, ...]

    def __len__(self) -> int:
        return len(self.regions)

    @classmethod
    def parse(cls, data: Buffer, ctx: ParseContext) -> Memory64List:
        count, base_rva = unpack(fmt.MEMORY64_LIST, data, 0, "memory64 list header")
        if count > MAX_MEMORY_RANGES:
            raise MinidumpError(
                errors.TOO_MANY, f"memory64 list count {count} exceeds the limit of {MAX_MEMORY_RANGES}"
            )
        size = fmt.MEMORY_DESCRIPTOR64.size
        if fmt.MEMORY64_LIST.size + count * size > len(data):
            raise MinidumpError(
                errors.TRUNCATED,
                f"memory64 list: {count} entries need {16 + count * size} bytes, stream has {len(data)}",
            )
        regions = []
        rva = base_rva
        for i in range(count):
            start, data_size = fmt.MEMORY_DESCRIPTOR64.unpack_from(data, fmt.MEMORY64_LIST.size + i * size)
            regions.append(MemoryDescriptor(start, data_size, rva))
            rva += data_size
        return cls(base_rva, tuple(regions))
