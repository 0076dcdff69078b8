"""32-bit x86 context (Windows ``CONTEXT``, 716 bytes; x86 XSAVE contexts append an xstate area)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, unpack
from crashcart.minidump.contexts._base import CpuContext, group_validity

_GROUPS = {
    fmt.CONTEXT_GROUP_CONTROL: ("ebp", "eip", "cs", "eflags", "esp", "ss"),
    fmt.CONTEXT_GROUP_INTEGER: ("edi", "esi", "ebx", "edx", "ecx", "eax"),
    fmt.CONTEXT_GROUP_SEGMENTS: ("gs", "fs", "es", "ds"),
    fmt.CONTEXT_GROUP_DEBUG: ("dr0", "dr1", "dr2", "dr3", "dr6", "dr7"),
}


@dataclass(frozen=True)
class ContextX86(CpuContext):
    CPU: ClassVar[str] = "x86"
    POINTER_SIZE: ClassVar[int] = 4
    REGISTERS: ClassVar[tuple[str, ...]] = (
        "eip",
        "esp",
        "ebp",
        "ebx",
        "esi",
        "edi",
        "eax",
        "ecx",
        "edx",
        "eflags",
        "cs",
        "ds",
        "es",
        "fs",
        "gs",
        "ss",
        "dr0",
        "dr1",
        "dr2",
        "dr3",
        "dr6",
        "dr7",
    )
    ALIASES: ClassVar[dict[str, str]] = {"efl": "eflags"}
    IP: ClassVar[str] = "eip"
    SP: ClassVar[str] = "esp"
    FP: ClassVar[str] = "ebp"

    @classmethod
    def parse(cls, data: Buffer) -> ContextX86:
        """Parse the 716-byte record (anything after it, such as an XSAVE area, is kept in ``raw`` only)."""
        v = unpack(fmt.CONTEXT_X86_STRUCT, data, 0, "x86 context")
        flags, dr0, dr1, dr2, dr3, dr6, dr7 = v[0:7]
        # v[7:14] float save control words, v[14] x87 registers, v[15] cr0_npx_state
        gs, fs, es, ds, edi, esi, ebx, edx, ecx, eax, ebp, eip, cs, eflags, esp, ss = v[16:32]
        values = (
            eip,
            esp,
            ebp,
            ebx,
            esi,
            edi,
            eax,
            ecx,
            edx,
            eflags,
            cs,
            ds,
            es,
            fs,
            gs,
            ss,
            dr0,
            dr1,
            dr2,
            dr3,
            dr6,
            dr7,
        )
        return cls(flags, values, group_validity(flags, _GROUPS), bytes(data))
