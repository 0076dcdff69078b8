"""ThreadNamesStream (24): thread names set with Windows' ``SetThreadDescription``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, ParseContext, list_entries
from crashcart.minidump.errors import MinidumpError
from crashcart.minidump.streams._base import Stream

MAX_THREAD_NAMES = 100_000


@dataclass(frozen=True)
class ThreadName:
    thread_id: int
    name: str


@dataclass(frozen=True)
class ThreadNames(Stream):
    STREAM_TYPE: ClassVar[int] = fmt.StreamType.THREAD_NAMES

    names: tuple[ThreadName, ...]
    _by_id: Mapping[int, str] = field(default_factory=dict, repr=False, compare=False, hash=False)

    def get(self, thread_id: int) -> str | None:
        """The name of the thread with this OS id (the first one, if named twice)."""
        return self._by_id.get(thread_id)

    @classmethod
    def parse(cls, data: Buffer, ctx: ParseContext) -> ThreadNames:
        count, offset = list_entries(data, fmt.THREAD_NAME.size, MAX_THREAD_NAMES, "thread name list")
        names = []
        for index in range(count):
            thread_id, rva = fmt.THREAD_NAME.unpack_from(data, offset + index * fmt.THREAD_NAME.size)
            try:
                name = ctx.string(rva, f"name of thread {thread_id:#x}")
            except MinidumpError as exc:
                ctx.recover(exc, cls.STREAM_TYPE)
                continue
            names.append(ThreadName(thread_id, name))
        by_id: dict[int, str] = {}
        for entry in names:
            by_id.setdefault(entry.thread_id, entry.name)
        return cls(tuple(names), by_id)
