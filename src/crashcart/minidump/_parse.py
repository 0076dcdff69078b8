"""What every stream parser shares: bounds-checked access to the whole file, strings, limits and notes.

A :class:`ParseContext` belongs to one :class:`~crashcart.minidump.reader.Minidump`. Stream parsers receive
their own bytes plus the context, and reach everything an RVA points at through it, so every offset and size
is checked against the file size in one place. Reads through an RVA are charged to a per-dump budget
proportional to the file size: a hostile dump cannot make a thousand records decode the same 64 KiB string a
thousand times over.

Parsed objects never keep a ``memoryview`` into the file (they copy to ``bytes``), so a memory-mapped file can
be closed without dangling exports.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crashcart.minidump import errors
from crashcart.minidump.errors import MinidumpError
from crashcart.minidump.format import LOCATION, U32, stream_type_name

Buffer = bytes | bytearray | memoryview

#: Longest MINIDUMP_STRING / UTF-8 string accepted, in bytes.
MAX_STRING_BYTES = 64 * 1024
#: Longest Crashpad byte array (annotation value) accepted.
MAX_BYTE_ARRAY = 1024 * 1024
#: Notes kept per dump; later ones are counted, not stored.
MAX_NOTES = 1000
#: Exceptions a parser bug could raise on odd input. The reader turns them into ``MinidumpError`` so that its
#: promise holds (a result or a MinidumpError, nothing else); the property tests check it never happens.
PARSER_BUGS = (struct.error, IndexError, KeyError, ValueError, OverflowError, TypeError, ZeroDivisionError)
#: Budget of bytes read through RVAs (strings, CodeView records, contexts, annotations): a fixed allowance
#: plus this many times the file size.
BUDGET_FIXED = 16 * 1024 * 1024
BUDGET_PER_FILE_BYTE = 16


@dataclass(frozen=True)
class Note:
    """A non-fatal problem found while reading a dump (a corrupt optional stream, a record that was skipped)."""

    code: str
    message: str
    stream_type: int | None = None

    def __str__(self) -> str:
        where = f"{stream_type_name(self.stream_type)} stream: " if self.stream_type is not None else ""
        return f"{where}{self.code}: {self.message}"


def unpack(fmt: struct.Struct, data: Buffer, offset: int, what: str) -> tuple[Any, ...]:
    """``fmt.unpack_from(data, offset)``, raising ``truncated`` instead of ``struct.error``."""
    if offset < 0 or offset + fmt.size > len(data):
        raise MinidumpError(
            errors.TRUNCATED, f"{what} needs {fmt.size} bytes at offset {offset}, only {max(len(data) - offset, 0)}"
        )
    return fmt.unpack_from(data, offset)


def list_entries(data: Buffer, entry_size: int, cap: int, what: str) -> tuple[int, int]:
    """Read a ``u32 count`` + fixed-size entries list header: return ``(count, first entry offset)``.

    Accepts the 4 bytes of padding some writers put after the count (stream exactly 4 bytes longer than
    needed). A count whose entries do not fit is ``truncated``; a count over ``cap`` is ``too_many``.
    """
    (count,) = unpack(U32, data, 0, f"{what} count")
    if count > cap:
        raise MinidumpError(errors.TOO_MANY, f"{what} count {count} exceeds the limit of {cap}")
    needed = 4 + count * entry_size
    if len(data) == needed + 4 and count:
        return count, 8
    if len(data) < needed:
        raise MinidumpError(
            errors.TRUNCATED,
            f"{what}: {count} entries of {entry_size} bytes need {needed} bytes, stream has {len(data)}",
        )
    return count, 4


def cstring(data: Buffer, offset: int, limit: int, what: str) -> tuple[str, int]:
    """A NUL-terminated UTF-8 string at ``offset`` (at most ``limit`` bytes): ``(text, offset after NUL)``."""
    end = min(len(data), offset + limit + 1)
    raw = bytes(data[offset:end])
    nul = raw.find(b"\0")
    if nul < 0:
        raise MinidumpError(errors.BAD_STRING, f"{what}: no NUL terminator within {limit} bytes at offset {offset}")
    return raw[:nul].decode("utf-8", errors="replace"), offset + nul + 1


def utf16(raw: bytes) -> str:
    """Decode a fixed-size UTF-16LE field, stopping at the first NUL code unit."""
    text = raw.decode("utf-16-le", errors="replace")
    nul = text.find("\0")
    return text if nul < 0 else text[:nul]


class ParseContext:
    """Bounds-checked view of one dump's bytes, shared by the stream parsers of that dump."""

    def __init__(
        self,
        buf: memoryview,
        *,
        cpu_architecture: Callable[[], int | None] = lambda: None,
        platform_id: Callable[[], int | None] = lambda: None,
    ) -> None:
        self._buf: memoryview | None = buf
        self.size = len(buf)
        self.notes: list[Note] = []
        self.dropped_notes = 0
        self.budget = BUDGET_FIXED + BUDGET_PER_FILE_BYTE * self.size
        self._cpu_architecture = cpu_architecture
        self._platform_id = platform_id

    # --- system info, resolved lazily (parsing the system info stream needs neither) --------------------

    @property
    def cpu_architecture(self) -> int | None:
        """``MINIDUMP_SYSTEM_INFO.ProcessorArchitecture``, or None without a readable system info stream."""
        return self._cpu_architecture()

    @property
    def platform_id(self) -> int | None:
        """``MINIDUMP_SYSTEM_INFO.PlatformId``, or None without a readable system info stream."""
        return self._platform_id()

    # --- notes ------------------------------------------------------------------------------------------

    def note(self, code: str, message: str, stream_type: int | None = None) -> None:
        """Record a non-fatal problem (kept in ``Minidump.notes``)."""
        if len(self.notes) < MAX_NOTES:
            self.notes.append(Note(code, message, stream_type))
        else:
            self.dropped_notes += 1

    def recover(self, exc: MinidumpError, stream_type: int, context: str = "") -> None:
        """Note a problem with one record and carry on with the next, unless the problem is the exhausted
        work budget: that is not about one record, so it propagates and fails the whole stream."""
        if exc.code == errors.LIMIT_EXCEEDED:
            raise exc
        self.note(exc.code, f"{context}{exc.message}", stream_type)

    # --- bytes --------------------------------------------------------------------------------------------

    @property
    def buf(self) -> memoryview:
        """The whole file; ``closed`` once the dump was closed."""
        if self._buf is None:
            raise MinidumpError(errors.CLOSED, "the minidump was closed")
        return self._buf

    def release(self) -> None:
        """Forget the file's bytes (called by ``Minidump.close``)."""
        if self._buf is not None:
            self._buf.release()
            self._buf = None

    def charge(self, nbytes: int, what: str) -> None:
        """Spend ``nbytes`` of the dump's read budget, or raise ``limit_exceeded``."""
        self.budget -= nbytes
        if self.budget < 0:
            raise MinidumpError(errors.LIMIT_EXCEEDED, f"reading {what} exceeds the per-dump work budget")

    def check(self, rva: int, size: int, what: str) -> None:
        """Raise ``out_of_bounds`` unless ``[rva, rva + size)`` lies inside the file."""
        if rva < 0 or size < 0 or rva + size > self.size:
            raise MinidumpError(
                errors.OUT_OF_BOUNDS, f"{what} at RVA 0x{rva:x} (+{size}) lies outside the file ({self.size} bytes)"
            )

    def slice(self, rva: int, size: int, what: str) -> memoryview:
        """The ``size`` bytes at ``rva``, bounds-checked and charged to the budget (a view: do not keep it)."""
        self.check(rva, size, what)
        self.charge(size, what)
        return self.buf[rva : rva + size]

    def read_bytes(self, rva: int, size: int, what: str) -> bytes:
        """Like :meth:`slice`, as a copy."""
        return bytes(self.slice(rva, size, what))

    def location(self, data: Buffer, offset: int, what: str) -> tuple[int, int]:
        """A MINIDUMP_LOCATION_DESCRIPTOR in ``data`` at ``offset``: ``(data_size, rva)``."""
        size, rva = unpack(LOCATION, data, offset, what)
        return size, rva

    # --- strings ------------------------------------------------------------------------------------------

    def string(self, rva: int, what: str) -> str:
        """A MINIDUMP_STRING (u32 byte length, UTF-16LE) at ``rva``."""
        if not 0 <= rva <= self.size - 4:
            raise MinidumpError(errors.OUT_OF_BOUNDS, f"{what} at RVA 0x{rva:x} lies outside the file")
        (length,) = unpack(U32, self.buf, rva, f"{what} length")
        if length % 2:
            raise MinidumpError(errors.BAD_STRING, f"{what} at RVA 0x{rva:x} has an odd UTF-16 length {length}")
        if length > MAX_STRING_BYTES:
            raise MinidumpError(
                errors.BAD_STRING, f"{what} at RVA 0x{rva:x} is {length} bytes long, over {MAX_STRING_BYTES}"
            )
        raw = self.read_bytes(rva + 4, length, what)
        return raw.decode("utf-16-le", errors="replace")

    def utf8_string(self, rva: int, what: str) -> str:
        """A Crashpad MinidumpUTF8String (u32 byte length, UTF-8 bytes, NUL) at ``rva``."""
        if not 0 <= rva <= self.size - 4:
            raise MinidumpError(errors.OUT_OF_BOUNDS, f"{what} at RVA 0x{rva:x} lies outside the file")
        (length,) = unpack(U32, self.buf, rva, f"{what} length")
        if length > MAX_STRING_BYTES:
            raise MinidumpError(
                errors.BAD_STRING, f"{what} at RVA 0x{rva:x} is {length} bytes long, over {MAX_STRING_BYTES}"
            )
        raw = self.read_bytes(rva + 4, length, what)
        return raw.decode("utf-8", errors="replace")

    def byte_array(self, rva: int, what: str) -> bytes:
        """A Crashpad MinidumpByteArray (u32 length, bytes) at ``rva``."""
        if not 0 <= rva <= self.size - 4:
            raise MinidumpError(errors.OUT_OF_BOUNDS, f"{what} at RVA 0x{rva:x} lies outside the file")
        (length,) = unpack(U32, self.buf, rva, f"{what} length")
        if length > MAX_BYTE_ARRAY:
            raise MinidumpError(
                errors.TOO_MANY, f"{what} at RVA 0x{rva:x} is {length} bytes long, over {MAX_BYTE_ARRAY}"
            )
        return self.read_bytes(rva + 4, length, what)
