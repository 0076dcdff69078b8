"""MD_LINUX_PROC_STATUS (0x47670004): a copy of ``/proc/<pid>/status``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, ParseContext
from crashcart.minidump.streams._base import Stream
from crashcart.minidump.streams._text import colon_fields, decode


@dataclass(frozen=True)
class LinuxProcStatus(Stream):
    STREAM_TYPE: ClassVar[int] = fmt.StreamType.LINUX_PROC_STATUS

    text: str = field(repr=False)
    fields: Mapping[str, str] = field(hash=False)

    def _int(self, key: str) -> int | None:
        value = self.fields.get(key, "").split()
        return int(value[0]) if value and value[0].isascii() and value[0].isdigit() else None

    @property
    def name(self) -> str | None:
        return self.fields.get("Name")

    @property
    def pid(self) -> int | None:
        return self._int("Pid")

    @property
    def ppid(self) -> int | None:
        return self._int("PPid")

    @property
    def threads(self) -> int | None:
        return self._int("Threads")

    @classmethod
    def parse(cls, data: Buffer, ctx: ParseContext) -> LinuxProcStatus:
        text = decode(data)
        return cls(text, colon_fields(text))
