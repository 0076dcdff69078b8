"""ExceptionStream (6): the exception (signal, Mach exception) that made the process dump, and the crashing
thread's context at the fault (not the one in the thread list, which points into the exception handler)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar

from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, ParseContext, unpack
from crashcart.minidump.contexts import CpuContext
from crashcart.minidump.errors import MinidumpError
from crashcart.minidump.streams._base import Location, Stream, load_context


@dataclass(frozen=True)
class ExceptionStream(Stream):
    STREAM_TYPE: ClassVar[int] = fmt.StreamType.EXCEPTION

    thread_id: int
    #: Windows exception code / Linux signal number / Mach exception type.
    exception_code: int
    #: Windows exception flags / Linux ``si_code`` / Mach exception code.
    exception_flags: int
    #: Address of a chained exception record (Windows).
    exception_record: int
    #: Where the exception happened (``si_addr`` on Linux, the Mach subcode on macOS).
    exception_address: int
    number_parameters: int
    #: ``ExceptionInformation[:min(NumberParameters, 15)]``.
    parameters: tuple[int, ...]
    context_location: Location
    _ctx: ParseContext | None = field(default=None, repr=False, compare=False)

    @cached_property
    def context(self) -> CpuContext | None:
        """The crashing thread's registers at the fault, or None (with a note) when unreadable."""
        if self._ctx is None:
            return None
        try:
            return load_context(self._ctx, self.context_location, "exception")
        except MinidumpError as exc:
            self._ctx.note(exc.code, exc.message, self.STREAM_TYPE)
            return None

    @classmethod
    def parse(cls, data: Buffer, ctx: ParseContext) -> ExceptionStream:
        v = unpack(fmt.EXCEPTION_STREAM, data, 0, "exception stream")
        thread_id, _align, code, flags, record, address, nparams, _unused = v[0:8]
        info = v[8:23]
        ctx_size, ctx_rva = v[23], v[24]
        parameters = tuple(info[: min(nparams, fmt.EXCEPTION_MAXIMUM_PARAMETERS)])
        return cls(thread_id, code, flags, record, address, nparams, parameters, Location(ctx_size, ctx_rva), ctx)
