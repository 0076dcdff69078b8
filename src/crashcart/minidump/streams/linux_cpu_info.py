"""MD_LINUX_CPU_INFO (0x47670003): a copy of ``/proc/cpuinfo``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, ParseContext
from crashcart.minidump.streams._base import Stream
from crashcart.minidump.streams._text import colon_fields, decode


@dataclass(frozen=True)
class LinuxCpuInfo(Stream):
    STREAM_TYPE: ClassVar[int] = fmt.StreamType.LINUX_CPU_INFO

    text: str = field(repr=False)
    #: One ``key → value`` mapping per blank-line-separated block (usually one per processor).
    processors: tuple[Mapping[str, str], ...] = field(hash=False)

    def _first(self, key: str) -> str | None:
        return next((p[key] for p in self.processors if key in p), None)

    @property
    def model_name(self) -> str | None:
        return self._first("model name")

    @property
    def microcode_version(self) -> int | None:
        """The ``microcode`` revision of the first processor that lists one."""
        value = self._first("microcode")
        if value is None:
            return None
        try:
            return int(value, 0)
        except ValueError:
            return None

    @classmethod
    def parse(cls, data: Buffer, ctx: ParseContext) -> LinuxCpuInfo:
        text = decode(data)
        blocks = (colon_fields(block) for block in text.replace("\r\n", "\n").split("\n\n"))
        return cls(text, tuple(b for b in blocks if b))
