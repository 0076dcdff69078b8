"""The minidump reader: header and directory up front, every stream parsed lazily on first request.

Rules (rust-minidump's best-effort rule, Breakpad's limits):

* Opening checks only the header and the stream directory; a bad header or directory raises
  :class:`MinidumpError`. Nothing else ever fails the whole dump.
* :meth:`Minidump.get_stream` parses a stream the first time it is asked for and caches the result. A missing
  stream and a corrupt one look the same, None, and a corrupt one leaves a :class:`Note` in
  :attr:`Minidump.notes` (``strict=True`` raises instead).
* Every offset and size is checked against the file; every count has a cap; reads through RVAs are charged to a
  budget proportional to the file size. Whatever the bytes, the reader returns or raises MinidumpError.
"""

from __future__ import annotations

import bisect
import mmap
import os
from dataclasses import dataclass
from typing import TypeVar

from crashcart.minidump import errors
from crashcart.minidump import format as fmt
from crashcart.minidump._parse import PARSER_BUGS, Note, ParseContext
from crashcart.minidump.errors import MinidumpError
from crashcart.minidump.reason import CrashReason, crash_reason
from crashcart.minidump.streams import (
    BreakpadInfo,
    ExceptionStream,
    Memory64List,
    MemoryDescriptor,
    MemoryList,
    Module,
    ModuleList,
    Stream,
    SystemInfo,
    Thread,
    ThreadList,
)

S = TypeVar("S", bound=Stream)

#: Most directory entries accepted.
MAX_STREAMS = 10_000


@dataclass(frozen=True)
class Header:
    """MINIDUMP_HEADER."""

    signature: int
    version: int
    stream_count: int
    stream_directory_rva: int
    checksum: int
    #: When the dump was written (seconds since the epoch).
    time_date_stamp: int
    flags: int


@dataclass(frozen=True)
class DirectoryEntry:
    """One MINIDUMP_DIRECTORY entry."""

    index: int
    stream_type: int
    data_size: int
    rva: int

    @property
    def name(self) -> str:
        return fmt.stream_type_name(self.stream_type)


@dataclass(frozen=True)
class MemoryRegion:
    """A copy of one range of process memory (a thread's stack, typically)."""

    base: int
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def end(self) -> int:
        return self.base + len(self.data)

    def contains(self, address: int, size: int = 1) -> bool:
        return self.base <= address and address + size <= self.end

    def read(self, address: int, size: int) -> bytes | None:
        """``size`` bytes at ``address``, None unless the whole range is inside the region."""
        if size < 0 or not self.contains(address, size):
            return None
        offset = address - self.base
        return self.data[offset : offset + size]

    def read_u32(self, address: int) -> int | None:
        raw = self.read(address, 4)
        return None if raw is None else int.from_bytes(raw, "little")

    def read_u64(self, address: int) -> int | None:
        raw = self.read(address, 8)
        return None if raw is None else int.from_bytes(raw, "little")


def _as_byte_view(data: bytes | bytearray | memoryview | mmap.mmap) -> memoryview:
    view = memoryview(data)
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    return view


class Minidump:
    """A minidump file. Build one with :meth:`from_bytes` or :meth:`from_path`."""

    def __init__(self, data: bytes | bytearray | memoryview | mmap.mmap, *, _mapping: mmap.mmap | None = None) -> None:
        buf = _as_byte_view(data)
        self._mapping = _mapping
        self._ctx = ParseContext(buf, cpu_architecture=self._cpu_architecture, platform_id=self._platform_id)
        self._cache: dict[type[Stream], Stream | MinidumpError | None] = {}
        self._memory: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]] | None = None
        try:
            self.header = self._read_header(buf)
            self.directory, self._streams, self._bad_streams = self._read_directory(buf, self.header)
        except MinidumpError:
            self.close()
            raise

    # --- construction -------------------------------------------------------------------------------------

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> Minidump:
        """Read a dump held in memory."""
        return cls(data)

    @classmethod
    def from_path(cls, path: str | os.PathLike[str]) -> Minidump:
        """Map a dump file read-only (close it with :meth:`close` or a ``with`` block)."""
        try:
            with open(path, "rb") as file:
                if os.fstat(file.fileno()).st_size == 0:
                    raise MinidumpError(errors.NOT_A_MINIDUMP, f"{os.fspath(path)!s} is empty")
                mapping = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        except OSError as exc:
            raise MinidumpError(errors.IO_ERROR, f"cannot read {os.fspath(path)!s}: {exc.strerror or exc}") from exc
        return cls(mapping, _mapping=mapping)

    def close(self) -> None:
        """Release the bytes (and unmap a file). Streams already parsed stay usable."""
        self._ctx.release()
        if self._mapping is not None:
            self._mapping.close()
            self._mapping = None

    def __enter__(self) -> Minidump:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @staticmethod
    def _read_header(buf: memoryview) -> Header:
        if len(buf) < fmt.HEADER.size:
            raise MinidumpError(errors.NOT_A_MINIDUMP, f"{len(buf)} bytes are too few for a minidump header")
        header = Header(*fmt.HEADER.unpack_from(buf, 0))
        if header.signature == fmt.SIGNATURE_SWAPPED:
            raise MinidumpError(errors.BIG_ENDIAN, "big-endian (byte-swapped) minidumps are not supported")
        if header.signature != fmt.SIGNATURE:
            raise MinidumpError(errors.NOT_A_MINIDUMP, f"signature 0x{header.signature:08x} is not MDMP")
        if header.version & 0xFFFF != fmt.HEADER_VERSION:
            raise MinidumpError(errors.BAD_VERSION, f"header version 0x{header.version:08x} is not 0x....a793")
        return header

    def _read_directory(
        self, buf: memoryview, header: Header
    ) -> tuple[tuple[DirectoryEntry, ...], dict[int, DirectoryEntry], dict[int, MinidumpError]]:
        count, rva = header.stream_count, header.stream_directory_rva
        if count > MAX_STREAMS:
            raise MinidumpError(errors.BAD_DIRECTORY, f"{count} streams exceed the limit of {MAX_STREAMS}")
        if rva + count * fmt.DIRECTORY_ENTRY.size > len(buf):
            raise MinidumpError(
                errors.BAD_DIRECTORY,
                f"a directory of {count} entries at RVA 0x{rva:x} does not fit in {len(buf)} bytes",
            )
        entries = []
        streams: dict[int, DirectoryEntry] = {}
        bad: dict[int, MinidumpError] = {}
        for index in range(count):
            stream_type, size, stream_rva = fmt.DIRECTORY_ENTRY.unpack_from(buf, rva + index * fmt.DIRECTORY_ENTRY.size)
            entry = DirectoryEntry(index, stream_type, size, stream_rva)
            entries.append(entry)
            if stream_type == fmt.StreamType.UNUSED:
                continue
            if stream_type in streams or stream_type in bad:
                self._ctx.note(errors.BAD_DIRECTORY, f"duplicate entry {index} ignored", stream_type)
                continue
            if stream_rva + size > len(buf):
                bad[stream_type] = MinidumpError(
                    errors.OUT_OF_BOUNDS,
                    f"stream data at RVA 0x{stream_rva:x} (+{size}) lies outside the file ({len(buf)} bytes)",
                )
                continue
            streams[stream_type] = entry
        return tuple(entries), streams, bad

    # --- streams --------------------------------------------------------------------------------------------

    @property
    def notes(self) -> list[Note]:
        """Non-fatal problems found so far (corrupt optional streams, skipped records)."""
        return self._ctx.notes

    @property
    def dropped_notes(self) -> int:
        """Notes not kept because :attr:`notes` reached its cap of 1,000."""
        return self._ctx.dropped_notes

    @property
    def stream_types(self) -> tuple[int, ...]:
        """The types of the usable streams in the directory (first entry of each type)."""
        return tuple(self._streams)

    def has_stream(self, stream_type: int) -> bool:
        return stream_type in self._streams

    def raw_stream(self, stream_type: int) -> bytes | None:
        """A copy of a stream's bytes (any type, known or not)."""
        entry = self._streams.get(stream_type)
        if entry is None:
            return None
        return bytes(self._ctx.buf[entry.rva : entry.rva + entry.data_size])

    def get_stream(self, stream_class: type[S], *, strict: bool = False) -> S | None:
        """The parsed stream, or None when it is missing or corrupt (``strict``: raise MinidumpError if corrupt)."""
        if stream_class not in self._cache:
            self._cache[stream_class] = self._parse_stream(stream_class)
        result = self._cache[stream_class]
        if isinstance(result, MinidumpError):
            if strict:
                raise result
            return None
        if result is None:
            return None
        assert isinstance(result, stream_class)
        return result

    def _parse_stream(self, stream_class: type[Stream]) -> Stream | MinidumpError | None:
        stream_type = stream_class.STREAM_TYPE
        if stream_type in self._bad_streams:
            error = self._bad_streams[stream_type]
            self._ctx.note(error.code, error.message, stream_type)
            return error
        entry = self._streams.get(stream_type)
        if entry is None:
            return None
        try:
            data = self._ctx.buf[entry.rva : entry.rva + entry.data_size]
            try:
                return stream_class.parse(data, self._ctx)
            except PARSER_BUGS as exc:
                raise MinidumpError(errors.BAD_STREAM, f"unexpected parser failure: {exc!r}") from exc
            finally:
                data.release()
        except MinidumpError as exc:
            self._ctx.note(exc.code, exc.message, stream_type)
            return exc

    def _cpu_architecture(self) -> int | None:
        info = self.get_stream(SystemInfo)
        return None if info is None else info.processor_architecture

    def _platform_id(self) -> int | None:
        info = self.get_stream(SystemInfo)
        return None if info is None else info.platform_id

    # --- crash ----------------------------------------------------------------------------------------------

    def crash_reason(self) -> CrashReason | None:
        """Breakpad's crash reason and address, None when the dump has no (readable) exception stream."""
        exception = self.get_stream(ExceptionStream)
        if exception is None:
            return None
        return crash_reason(exception, self.get_stream(SystemInfo))

    def requesting_thread_id(self) -> int | None:
        """The crashing thread (exception stream), else the thread that asked for the dump (Breakpad info)."""
        exception = self.get_stream(ExceptionStream)
        if exception is not None:
            return exception.thread_id
        info = self.get_stream(BreakpadInfo)
        return None if info is None else info.requesting_thread_id

    def requesting_thread_index(self, *, skip_dump_thread: bool = True) -> int | None:
        """Index of the requesting thread among the threads, None if it is not in the list.

        With ``skip_dump_thread`` (Breakpad's numbering) the thread that wrote the dump, named by the Breakpad
        info stream, is not counted.
        """
        requesting = self.requesting_thread_id()
        threads = self.get_stream(ThreadList)
        if requesting is None or threads is None:
            return None
        info = self.get_stream(BreakpadInfo) if skip_dump_thread else None
        dump_thread = None if info is None else info.dump_thread_id
        index = 0
        for thread in threads.threads:
            if dump_thread is not None and thread.thread_id == dump_thread:
                continue
            if thread.thread_id == requesting:
                return index
            index += 1
        return None

    # --- modules ----------------------------------------------------------------------------------------------

    def module_at(self, address: int) -> Module | None:
        """The loaded module containing ``address``."""
        modules = self.get_stream(ModuleList)
        return None if modules is None else modules.module_at(address)

    # --- memory -----------------------------------------------------------------------------------------------

    def _memory_index(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        """Sorted, disjoint ``(starts, ends, rvas)`` of the memory list and memory64 list ranges."""
        if self._memory is not None:
            return self._memory
        candidates: list[tuple[int, int, int]] = []
        memory_list, memory64_list = self.get_stream(MemoryList), self.get_stream(Memory64List)
        sources = [
            (fmt.StreamType.MEMORY_LIST, memory_list.regions if memory_list else ()),
            (fmt.StreamType.MEMORY64_LIST, memory64_list.regions if memory64_list else ()),
        ]
        for stream_type, regions in sources:
            for d in regions:
                if d.data_size == 0:
                    continue
                if d.rva + d.data_size > self._ctx.size or d.end > 1 << 64:
                    self._ctx.note(
                        errors.OUT_OF_BOUNDS,
                        f"memory range 0x{d.start:x} (+{d.data_size}) at RVA 0x{d.rva:x} is not in the file",
                        stream_type,
                    )
                    continue
                candidates.append((d.start, d.end, d.rva))
        candidates.sort(key=lambda r: (r[0], -r[1]))
        starts: list[int] = []
        ends: list[int] = []
        rvas: list[int] = []
        for start, end, rva in candidates:
            if ends and start < ends[-1]:
                if end <= ends[-1]:
                    continue  # wholly inside an earlier range
                # Overlap: keep only the part after the earlier range.
                starts.append(ends[-1])
                rvas.append(rva + ends[-1] - start)
            else:
                starts.append(start)
                rvas.append(rva)
            ends.append(end)
        self._memory = (tuple(starts), tuple(ends), tuple(rvas))
        return self._memory

    def memory_ranges(self) -> tuple[MemoryDescriptor, ...]:
        """The readable memory, sorted by address, overlaps removed."""
        starts, ends, rvas = self._memory_index()
        return tuple(MemoryDescriptor(s, e - s, r) for s, e, r in zip(starts, ends, rvas, strict=True))

    def memory_range_at(self, address: int) -> MemoryDescriptor | None:
        """The stored memory range containing ``address``."""
        starts, ends, rvas = self._memory_index()
        pos = bisect.bisect_right(starts, address) - 1
        if pos < 0 or address >= ends[pos]:
            return None
        return MemoryDescriptor(starts[pos], ends[pos] - starts[pos], rvas[pos])

    def read_memory(self, address: int, size: int) -> bytes | None:
        """``size`` bytes of process memory at ``address``, None unless the dump holds all of them.

        Reads may span adjacent ranges (full-memory dumps split memory at protection boundaries).
        """
        if size < 0 or address < 0:
            return None
        starts, ends, rvas = self._memory_index()
        buf = self._ctx.buf
        parts = []
        remaining = size
        while remaining:
            pos = bisect.bisect_right(starts, address) - 1
            if pos < 0 or address >= ends[pos]:
                return None
            take = min(remaining, ends[pos] - address)
            offset = rvas[pos] + address - starts[pos]
            parts.append(bytes(buf[offset : offset + take]))
            address += take
            remaining -= take
        return b"".join(parts)

    def read_u32(self, address: int) -> int | None:
        raw = self.read_memory(address, 4)
        return None if raw is None else int.from_bytes(raw, "little")

    def read_u64(self, address: int) -> int | None:
        raw = self.read_memory(address, 8)
        return None if raw is None else int.from_bytes(raw, "little")

    def thread_stack(self, thread: Thread) -> MemoryRegion | None:
        """A copy of a thread's stack memory: its own descriptor if that is readable, else the stored range
        containing its start (Breakpad's fallback).

        A descriptor with RVA 0 has no bytes of its own, whatever its size says: full-memory dumps
        (Memory64List) record every thread's stack range with RVA 0 and keep the bytes in the memory list.
        Reading RVA 0 would return the file header as stack memory. Breakpad's ``MinidumpThread::Read``
        likewise drops the thread's own region when the RVA is 0, the size is 0 or the range overflows.
        """
        stack = thread.stack
        own = stack.rva != 0 and stack.data_size != 0 and stack.end <= 1 << 64
        if own and stack.rva + stack.data_size <= self._ctx.size:
            return MemoryRegion(stack.start, bytes(self._ctx.buf[stack.rva : stack.rva + stack.data_size]))
        found = self.memory_range_at(stack.start)
        if found is None:
            return None
        return MemoryRegion(found.start, bytes(self._ctx.buf[found.rva : found.rva + found.data_size]))
