"""MemoryListStream (5): the memory a minidump carries (thread stacks, memory around pointers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, ParseContext, list_entries
from crashcart.minidump.streams._base import MemoryDescriptor, Stream

MAX_MEMORY_RANGES = 1_000_000


@dataclass(frozen=True)
class MemoryList(Stream):
    STREAM_TYPE: ClassVar[int] = fmt.StreamType.MEMORY_LIST

    #: Descriptors in stream order, as recorded (the reader validates and indexes them).
    regions: tuple[MemoryDescriptor, ...]

    def __len__(self) -> int:
        return len(self.regions)

    @classmethod
    def parse(cls, data: Buffer, ctx: ParseContext) -> MemoryList:
        count, offset = list_entries(data, fmt.MEMORY_DESCRIPTOR.size, MAX_MEMORY_RANGES, "memory list")
        size = fmt.MEMORY_DESCRIPTOR.size
        regions = tuple(
            MemoryDescriptor(*fmt.MEMORY_DESCRIPTOR.unpack_from(data, offset + i * size)) for i in range(count)
        )
        return cls(regions)
