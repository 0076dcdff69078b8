"""32-bit ARM context (Breakpad/Crashpad layout, 368 bytes: r0-r15, cpsr, VFP registers).

The frame pointer is r11, except on iOS where Apple's ABI uses r7 (``ios=True``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, unpack
from crashcart.minidump.contexts._base import CpuContext, group_validity

_GPRS = (*(f"r{i}" for i in range(13)), "sp", "lr", "pc")
_GROUPS = {fmt.CONTEXT_GROUP_INTEGER: (*_GPRS, "cpsr")}


@dataclass(frozen=True)
class ContextArm(CpuContext):
    CPU: ClassVar[str] = "arm"
    POINTER_SIZE: ClassVar[int] = 4
    REGISTERS: ClassVar[tuple[str, ...]] = (*_GPRS, "cpsr")
    ALIASES: ClassVar[dict[str, str]] = {"r13": "sp", "r14": "lr", "r15": "pc"}
    IP: ClassVar[str] = "pc"
    SP: ClassVar[str] = "sp"
    FP: ClassVar[str] = "r11"

    #: True when the dump comes from iOS (frame pointer r7).
    ios: bool = False
    fpscr: int = 0
    #: VFP double registers d0-d31.
    float_registers: tuple[int, ...] = ()

    @property
    def frame_pointer_register(self) -> str:
        return "r7" if self.ios else "r11"

    def get(self, name: str) -> int | None:
        if name == "fp":
            name = self.frame_pointer_register
        return super().get(name)

    @classmethod
    def parse(cls, data: Buffer, *, ios: bool = False) -> ContextArm:
        v = unpack(fmt.CONTEXT_ARM_STRUCT, data, 0, "arm context")
        flags = v[0]
        values = tuple(v[1:18])  # r0-r15, cpsr
        return cls(flags, values, group_validity(flags, _GROUPS), bytes(data), ios, v[18], tuple(v[19:51]))
