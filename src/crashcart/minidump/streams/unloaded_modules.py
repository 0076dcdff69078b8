"""UnloadedModuleListStream (14): modules the process had unloaded by the time of the dump (Windows).

Unlike the older lists, this one has an extensible header (SizeOfHeader, SizeOfEntry, NumberOfEntries), so
entries larger than today's 24 bytes are read with their known prefix. Ranges may overlap and repeat.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import ClassVar

from crashcart.minidump import errors
from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, ParseContext, unpack
from crashcart.minidump.errors import MinidumpError
from crashcart.minidump.streams._base import Stream
from crashcart.minidump.streams.module_list import basename

MAX_UNLOADED_MODULES = 100_000


@dataclass(frozen=True)
class UnloadedModule:
    index: int
    base_address: int
    size: int
    checksum: int
    time_date_stamp: int
    name: str

    @property
    def end_address(self) -> int:
        return self.base_address + self.size

    @property
    def filename(self) -> str:
        return basename(self.name)

    @property
    def code_id(self) -> str:
        """``%08x%x`` of TimeDateStamp and SizeOfImage (the Windows symbol-server code id, lowercase)."""
        return f"{self.time_date_stamp:08x}{self.size:x}"

    def contains(self, address: int) -> bool:
        return self.base_address <= address < self.end_address


@dataclass(frozen=True)
class UnloadedModuleList(Stream):
    STREAM_TYPE: ClassVar[int] = fmt.StreamType.UNLOADED_MODULE_LIST

    modules: tuple[UnloadedModule, ...]
    #: Module indices sorted by base, their bases, and the highest end address up to each position.
    _order: tuple[int, ...] = field(default=(), repr=False, compare=False)
    _bases: tuple[int, ...] = field(default=(), repr=False, compare=False)
    _max_end: tuple[int, ...] = field(default=(), repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.modules)

    def modules_at(self, address: int) -> list[UnloadedModule]:
        """Every unloaded module whose range contained ``address`` (they may overlap), in list order."""
        found = []
        pos = bisect.bisect_right(self._bases, address) - 1
        while pos >= 0 and self._max_end[pos] > address:
            module = self.modules[self._order[pos]]
            if module.contains(address):
                found.append(module)
            pos -= 1
        return sorted(found, key=lambda m: m.index)

    @classmethod
    def parse(cls, data: Buffer, ctx: ParseContext) -> UnloadedModuleList:
        header_size, entry_size, count = unpack(fmt.UNLOADED_MODULE_LIST, data, 0, "unloaded module list header")
        if header_size < fmt.UNLOADED_MODULE_LIST.size or entry_size < fmt.UNLOADED_MODULE.size:
            raise MinidumpError(
                errors.BAD_STREAM, f"unloaded module list header/entry sizes {header_size}/{entry_size} are too small"
            )
        if count > MAX_UNLOADED_MODULES:
            raise MinidumpError(errors.TOO_MANY, f"{count} unloaded modules exceed the limit of {MAX_UNLOADED_MODULES}")
        if header_size + count * entry_size > len(data):
            raise MinidumpError(
                errors.TRUNCATED,
                f"{count} unloaded modules of {entry_size} bytes need {header_size + count * entry_size} bytes, "
                f"stream has {len(data)}",
            )
        modules = []
        for index in range(count):
            base, size, checksum, stamp, name_rva = fmt.UNLOADED_MODULE.unpack_from(
                data, header_size + index * entry_size
            )
            try:
                name = ctx.string(name_rva, f"name of unloaded module {index}")
            except MinidumpError as exc:
                ctx.recover(exc, cls.STREAM_TYPE)
                name = ""
            modules.append(UnloadedModule(index, base, size, checksum, stamp, name))
        order = tuple(sorted(range(len(modules)), key=lambda i: (modules[i].base_address, i)))
        max_end: list[int] = []
        for i in order:
            max_end.append(max(max_end[-1] if max_end else 0, modules[i].end_address))
        return cls(tuple(modules), order, tuple(modules[i].base_address for i in order), tuple(max_end))
