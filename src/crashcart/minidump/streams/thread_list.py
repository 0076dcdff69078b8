"""ThreadListStream (3): every thread with its stack location and CPU context.

Contexts are parsed on first access (``thread.context``) and cached: a dump with many threads costs nothing
until a walker asks, and a corrupt context only loses that thread's registers (None plus a note).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar

from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, ParseContext, list_entries
from crashcart.minidump.contexts import CpuContext
from crashcart.minidump.errors import MinidumpError
from crashcart.minidump.streams._base import Location, MemoryDescriptor, Stream, load_context

MAX_THREADS = 100_000


@dataclass(frozen=True)
class Thread:
    index: int
    thread_id: int
    suspend_count: int
    priority_class: int
    priority: int
    #: Thread environment block (Windows) / thread pointer.
    teb: int
    #: The thread's stack memory as recorded with the thread.
    stack: MemoryDescriptor
    context_location: Location
    _ctx: ParseContext | None = field(default=None, repr=False, compare=False)

    @cached_property
    def context(self) -> CpuContext | None:
        """The thread's registers, or None (with a note on the dump) when the context cannot be read."""
        if self._ctx is None:
            return None
        try:
            return load_context(self._ctx, self.context_location, f"thread {self.index}")
        except MinidumpError as exc:
            self._ctx.note(exc.code, exc.message, fmt.StreamType.THREAD_LIST)
            return None


@dataclass(frozen=True)
class ThreadList(Stream):
    STREAM_TYPE: ClassVar[int] = fmt.StreamType.THREAD_LIST

    threads: tuple[Thread, ...]
    _by_id: Mapping[int, Thread] = field(default_factory=dict, repr=False, compare=False, hash=False)

    def __len__(self) -> int:
        return len(self.threads)

    def by_id(self, thread_id: int) -> Thread | None:
        """The first thread with this OS thread id."""
        return self._by_id.get(thread_id)

    def index_of(self, thread_id: int) -> int | None:
        """Index (in dump order) of the first thread with this OS thread id."""
        thread = self.by_id(thread_id)
        return None if thread is None else thread.index

    @classmethod
    def parse(cls, data: Buffer, ctx: ParseContext) -> ThreadList:
        count, offset = list_entries(data, fmt.THREAD.size, MAX_THREADS, "thread list")
        threads = []
        for index in range(count):
            tid, suspend, prio_class, prio, teb, stack_start, stack_size, stack_rva, ctx_size, ctx_rva = (
                fmt.THREAD.unpack_from(data, offset + index * fmt.THREAD.size)
            )
            threads.append(
                Thread(
                    index,
                    tid,
                    suspend,
                    prio_class,
                    prio,
                    teb,
                    MemoryDescriptor(stack_start, stack_size, stack_rva),
                    Location(ctx_size, ctx_rva),
                    ctx,
                )
            )
        by_id: dict[int, Thread] = {}
        for thread in threads:
            by_id.setdefault(thread.thread_id, thread)
        return cls(tuple(threads), by_id)
