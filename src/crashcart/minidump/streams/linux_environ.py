"""MD_LINUX_ENVIRON (0x47670007): a copy of ``/proc/<pid>/environ`` (NUL-separated ``KEY=value``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, ParseContext
from crashcart.minidump.streams._base import Stream


@dataclass(frozen=True)
class LinuxEnviron(Stream):
    STREAM_TYPE: ClassVar[int] = fmt.StreamType.LINUX_ENVIRON

    #: ``(key, value)`` pairs in order (an entry without ``=`` has an empty value).
    variables: tuple[tuple[str, str], ...]

    def get(self, key: str) -> str | None:
        return next((v for k, v in self.variables if k == key), None)

    @classmethod
    def parse(cls, data: Buffer, ctx: ParseContext) -> LinuxEnviron:
        pairs = []
        for entry in bytes(data).split(b"\0"):
            if entry:
                key, _sep, value = entry.decode("utf-8", errors="replace").partition("=")
                pairs.append((key, value))
        return cls(tuple(pairs))
