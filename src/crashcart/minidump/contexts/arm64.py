"""64-bit ARM contexts, in both layouts.

* The current layout (Windows ``CONTEXT_ARM64``, also written by Crashpad and new Breakpad): 912 bytes,
  CPU flag ``0x00400000``, u32 flags then u32 cpsr, x0-x28, fp, lr, sp, pc, 32 vector registers, fpcr, fpsr
  and debug registers.
* Breakpad's old layout: 796 bytes, CPU flag ``0x80000000``, u64 flags, x0-x28, fp, lr, sp, pc, then cpsr,
  fpsr, fpcr and the vector registers (packed to 4 bytes).

Both become :class:`ContextArm64`; ``old_layout`` says which one was read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, unpack
from crashcart.minidump.contexts._base import CpuContext, group_validity

_X = tuple(f"x{i}" for i in range(29))
_GROUPS_NEW = {
    fmt.CONTEXT_GROUP_CONTROL: ("fp", "lr", "sp", "pc", "cpsr"),
    fmt.CONTEXT_GROUP_INTEGER: _X,
}
_GROUPS_OLD = {fmt.CONTEXT_GROUP_INTEGER: (*_X, "fp", "lr", "sp", "pc", "cpsr")}


def _vectors(raw: bytes) -> tuple[int, ...]:
    return tuple(int.from_bytes(raw[i : i + 16], "little") for i in range(0, 512, 16))


@dataclass(frozen=True)
class ContextArm64(CpuContext):
    CPU: ClassVar[str] = "arm64"
    POINTER_SIZE: ClassVar[int] = 8
    REGISTERS: ClassVar[tuple[str, ...]] = (*_X, "fp", "lr", "sp", "pc", "cpsr")
    ALIASES: ClassVar[dict[str, str]] = {"x29": "fp", "x30": "lr", "x31": "sp"}
    IP: ClassVar[str] = "pc"
    SP: ClassVar[str] = "sp"
    FP: ClassVar[str] = "fp"

    #: True for Breakpad's old 796-byte layout.
    old_layout: bool = False
    fpcr: int = 0
    fpsr: int = 0
    #: v0-v31 as 128-bit integers.
    vector_registers: tuple[int, ...] = ()

    @classmethod
    def parse(cls, data: Buffer) -> ContextArm64:
        """The current (912-byte) layout."""
        v = unpack(fmt.CONTEXT_ARM64_STRUCT, data, 0, "arm64 context")
        flags, cpsr = v[0], v[1]
        values = (*v[2:35], cpsr)
        vectors, fpcr, fpsr = v[35], v[36], v[37]
        return cls(flags, values, group_validity(flags, _GROUPS_NEW), bytes(data), False, fpcr, fpsr, _vectors(vectors))

    @classmethod
    def parse_old(cls, data: Buffer) -> ContextArm64:
        """Breakpad's old (796-byte) layout."""
        v = unpack(fmt.CONTEXT_ARM64_OLD_STRUCT, data, 0, "old arm64 context")
        flags = v[0]
        cpsr, fpsr, fpcr, vectors = v[34], v[35], v[36], v[37]
        values = (*v[1:34], cpsr)
        low = flags & 0xFFFFFFFF
        return cls(low, values, group_validity(low, _GROUPS_OLD), bytes(data), True, fpcr, fpsr, _vectors(vectors))
