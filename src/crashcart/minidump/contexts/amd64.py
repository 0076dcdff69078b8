"""x86-64 context (Windows ``CONTEXT``, 1232 bytes; extended XSAVE/CET contexts append an xstate area)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, unpack
from crashcart.minidump.contexts._base import CpuContext, group_validity

_INTEGER = ("rax", "rcx", "rdx", "rbx", "rbp", "rsi", "rdi", *(f"r{i}" for i in range(8, 16)))
_GROUPS = {
    fmt.CONTEXT_GROUP_CONTROL: ("cs", "ss", "eflags", "rsp", "rip"),
    fmt.CONTEXT_GROUP_INTEGER: _INTEGER,
    fmt.CONTEXT_GROUP_SEGMENTS: ("ds", "es", "fs", "gs"),
    fmt.CONTEXT_GROUP_FLOATING_POINT: ("mxcsr",),
    fmt.CONTEXT_GROUP_DEBUG: ("dr0", "dr1", "dr2", "dr3", "dr6", "dr7"),
}


@dataclass(frozen=True)
class ContextAmd64(CpuContext):
    CPU: ClassVar[str] = "amd64"
    POINTER_SIZE: ClassVar[int] = 8
    REGISTERS: ClassVar[tuple[str, ...]] = (
        "rax",
        "rdx",
        "rcx",
        "rbx",
        "rsi",
        "rdi",
        "rbp",
        "rsp",
        *(f"r{i}" for i in range(8, 16)),
        "rip",
        "eflags",
        "cs",
        "ds",
        "es",
        "fs",
        "gs",
        "ss",
        "mxcsr",
        "dr0",
        "dr1",
        "dr2",
        "dr3",
        "dr6",
        "dr7",
    )
    ALIASES: ClassVar[dict[str, str]] = {"efl": "eflags", "rflags": "eflags"}
    IP: ClassVar[str] = "rip"
    SP: ClassVar[str] = "rsp"
    FP: ClassVar[str] = "rbp"

    @property
    def xmm_save_area(self) -> bytes:
        """The 512-byte FXSAVE area (x87, MMX and XMM0-15), as recorded."""
        return self.raw[256:768]

    @classmethod
    def parse(cls, data: Buffer) -> ContextAmd64:
        """Parse the 1232-byte record (an XSAVE area after it is kept in ``raw`` only)."""
        v = unpack(fmt.CONTEXT_AMD64_STRUCT, data, 0, "amd64 context")
        flags, mxcsr = v[6], v[7]
        cs, ds, es, fs, gs, ss, eflags = v[8:15]
        dr0, dr1, dr2, dr3, dr6, dr7 = v[15:21]
        rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi = v[21:29]
        r8_to_r15 = v[29:37]
        rip = v[37]
        values = (rax, rdx, rcx, rbx, rsi, rdi, rbp, rsp, *r8_to_r15, rip, eflags, cs, ds, es, fs, gs, ss, mxcsr)
        values += (dr0, dr1, dr2, dr3, dr6, dr7)
        return cls(flags, values, group_validity(flags, _GROUPS), bytes(data))
