"""MD_LINUX_LSB_RELEASE (0x47670005): a copy of ``/etc/lsb-release`` (or ``/etc/os-release``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, ParseContext
from crashcart.minidump.streams._base import Stream
from crashcart.minidump.streams._text import decode, equals_fields


@dataclass(frozen=True)
class LinuxLsbRelease(Stream):
    STREAM_TYPE: ClassVar[int] = fmt.StreamType.LINUX_LSB_RELEASE

    text: str = field(repr=False)
    fields: Mapping[str, str] = field(hash=False)

    def _either(self, lsb_key: str, os_release_key: str) -> str | None:
        return self.fields.get(lsb_key, self.fields.get(os_release_key))

    @property
    def id(self) -> str | None:
        return self._either("DISTRIB_ID", "ID")

    @property
    def release(self) -> str | None:
        return self._either("DISTRIB_RELEASE", "VERSION_ID")

    @property
    def codename(self) -> str | None:
        return self._either("DISTRIB_CODENAME", "VERSION_CODENAME")

    @property
    def description(self) -> str | None:
        return self._either("DISTRIB_DESCRIPTION", "PRETTY_NAME")

    @classmethod
    def parse(cls, data: Buffer, ctx: ParseContext) -> LinuxLsbRelease:
        text = decode(data)
        return cls(text, equals_fields(text))
