"""MD_LINUX_CMD_LINE (0x47670006): a copy of ``/proc/<pid>/cmdline`` (NUL-separated arguments)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, ParseContext
from crashcart.minidump.streams._base import Stream


@dataclass(frozen=True)
class LinuxCmdLine(Stream):
    STREAM_TYPE: ClassVar[int] = fmt.StreamType.LINUX_CMD_LINE

    args: tuple[str, ...]

    @classmethod
    def parse(cls, data: Buffer, ctx: ParseContext) -> LinuxCmdLine:
        raw = bytes(data).rstrip(b"\0")  # Android pads the command line with NULs
        return cls(tuple(a.decode("utf-8", errors="replace") for a in raw.split(b"\0")) if raw else ())
