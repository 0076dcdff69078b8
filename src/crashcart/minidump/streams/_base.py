"""The contract every stream class follows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from crashcart.minidump import errors
from crashcart.minidump import format as fmt
from crashcart.minidump._parse import PARSER_BUGS, Buffer, ParseContext
from crashcart.minidump.contexts import CpuContext, parse_context
from crashcart.minidump.errors import MinidumpError


class Stream:
    """A parsed minidump stream. Subclasses are frozen dataclasses with a ``STREAM_TYPE`` and a ``parse``.

    ``parse`` gets the stream's own bytes and the dump's :class:`ParseContext`; it returns an instance or
    raises :class:`~crashcart.minidump.errors.MinidumpError`. It may record non-fatal problems (a record it
    had to skip) with ``ctx.note``.
    """

    STREAM_TYPE: ClassVar[int]

    @classmethod
    def parse(cls, data: Buffer, ctx: ParseContext) -> Self:
        raise NotImplementedError


@dataclass(frozen=True)
class Location:
    """A MINIDUMP_LOCATION_DESCRIPTOR: ``data_size`` bytes at file offset ``rva``."""

    data_size: int
    rva: int


@dataclass(frozen=True)
class MemoryDescriptor:
    """A MINIDUMP_MEMORY_DESCRIPTOR: process memory ``[start, start + data_size)`` stored at ``rva``."""

    start: int
    data_size: int
    rva: int

    @property
    def end(self) -> int:
        """One past the last address."""
        return self.start + self.data_size


def load_context(ctx: ParseContext, location: Location, what: str) -> CpuContext:
    """Parse the CPU context ``location`` points at (raises MinidumpError)."""
    if location.data_size == 0:
        raise MinidumpError(errors.BAD_CONTEXT, f"{what} has an empty context")
    if location.data_size > fmt.CONTEXT_AMD64_SIZE + fmt.CONTEXT_MAX_XSTATE_SIZE:
        raise MinidumpError(errors.BAD_CONTEXT, f"{what} context of {location.data_size} bytes is implausibly large")
    cpu_architecture, platform_id = ctx.cpu_architecture, ctx.platform_id
    data = ctx.slice(location.rva, location.data_size, f"{what} context")
    try:
        return parse_context(data, cpu_architecture=cpu_architecture, platform_id=platform_id)
    except PARSER_BUGS as exc:
        raise MinidumpError(errors.BAD_CONTEXT, f"unexpected parser failure: {exc!r}") from exc
    finally:
        data.release()
