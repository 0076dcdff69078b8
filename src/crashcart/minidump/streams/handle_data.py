"""HandleDataStream (12): the process's open handles (Windows) or file descriptors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from crashcart.minidump import errors
from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, ParseContext, unpack
from crashcart.minidump.errors import MinidumpError
from crashcart.minidump.streams._base import Stream

MAX_HANDLES = 1_000_000


@dataclass(frozen=True)
class Handle:
    handle: int
    type_name: str | None
    object_name: str | None
    attributes: int
    granted_access: int
    handle_count: int
    pointer_count: int
    #: RVA of the MINIDUMP_HANDLE_OBJECT_INFORMATION chain (descriptor version 2), else 0.
    object_info_rva: int = 0


@dataclass(frozen=True)
class HandleData(Stream):
    STREAM_TYPE: ClassVar[int] = fmt.StreamType.HANDLE_DATA

    handles: tuple[Handle, ...]

    def __len__(self) -> int:
        return len(self.handles)

    @classmethod
    def parse(cls, data: Buffer, ctx: ParseContext) -> HandleData:
        header_size, entry_size, count, _reserved = unpack(fmt.HANDLE_DATA, data, 0, "handle data header")
        if header_size < fmt.HANDLE_DATA.size or entry_size < fmt.HANDLE_DESCRIPTOR.size:
            raise MinidumpError(
                errors.BAD_STREAM, f"handle data header/descriptor sizes {header_size}/{entry_size} are too small"
            )
        if count > MAX_HANDLES:
            raise MinidumpError(errors.TOO_MANY, f"{count} handles exceed the limit of {MAX_HANDLES}")
        if header_size + count * entry_size > len(data):
            raise MinidumpError(
                errors.TRUNCATED,
                f"{count} handle descriptors of {entry_size} bytes need {header_size + count * entry_size} bytes, "
                f"stream has {len(data)}",
            )
        version2 = entry_size >= fmt.HANDLE_DESCRIPTOR_2.size
        handles = []
        for i in range(count):
            offset = header_size + i * entry_size
            if version2:
                handle, type_rva, name_rva, attrs, access, hcount, pcount, info_rva, _r = (
                    fmt.HANDLE_DESCRIPTOR_2.unpack_from(data, offset)
                )
            else:
                handle, type_rva, name_rva, attrs, access, hcount, pcount = fmt.HANDLE_DESCRIPTOR.unpack_from(
                    data, offset
                )
                info_rva = 0
            handles.append(
                Handle(
                    handle,
                    _optional_string(ctx, type_rva, f"type name of handle {handle:#x}"),
                    _optional_string(ctx, name_rva, f"object name of handle {handle:#x}"),
                    attrs,
                    access,
                    hcount,
                    pcount,
                    info_rva,
                )
            )
        return cls(tuple(handles))


def _optional_string(ctx: ParseContext, rva: int, what: str) -> str | None:
    if rva == 0:
        return None
    try:
        return ctx.string(rva, what)
    except MinidumpError as exc:
        ctx.recover(exc, fmt.StreamType.HANDLE_DATA)
        return None
