"""MD_BREAKPAD_INFO_STREAM (0x47670001): which thread wrote the dump and which one asked for it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, ParseContext, unpack
from crashcart.minidump.streams._base import Stream


@dataclass(frozen=True)
class BreakpadInfo(Stream):
    STREAM_TYPE: ClassVar[int] = fmt.StreamType.BREAKPAD_INFO

    validity: int
    #: The handler thread that wrote the dump (stack walkers skip it), if the stream says so.
    dump_thread_id: int | None
    #: The thread that requested the dump (the crashing thread for crashes), if the stream says so.
    requesting_thread_id: int | None

    @classmethod
    def parse(cls, data: Buffer, ctx: ParseContext) -> BreakpadInfo:
        validity, dump_tid, requesting_tid = unpack(fmt.BREAKPAD_INFO, data, 0, "Breakpad info")
        return cls(
            validity,
            dump_tid if validity & fmt.BREAKPAD_INFO_VALID_DUMP_THREAD_ID else None,
            requesting_tid if validity & fmt.BREAKPAD_INFO_VALID_REQUESTING_THREAD_ID else None,
        )
