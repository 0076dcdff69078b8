"""Mozilla's MozMacosBootargsStream (0x4d7a0002): the kernel boot arguments of the crashing Mac."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, ParseContext, unpack
from crashcart.minidump.streams._base import Stream


@dataclass(frozen=True)
class MacBootArgs(Stream):
    STREAM_TYPE: ClassVar[int] = fmt.StreamType.MOZ_MACOS_BOOTARGS

    #: The boot arguments, None when the writer recorded none (RVA 0).
    boot_args: str | None

    @classmethod
    def parse(cls, data: Buffer, ctx: ParseContext) -> MacBootArgs:
        _stream_type, rva = unpack(fmt.MAC_BOOTARGS, data, 0, "mac boot args")
        return cls(ctx.string(rva, "mac boot args") if rva else None)
