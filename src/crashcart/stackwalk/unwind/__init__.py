"""Per-CPU unwinders: one module per CPU, each exposing the :class:`Unwinder` shape."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from crashcart.stackwalk.frame import Frame
from crashcart.stackwalk.unwind._common import Caller, UnwindEnv


class Unwinder(Protocol):
    CPU: str
    POINTER_SIZE: int
    PC: str
    SP: str
    #: ``caller.instruction = caller.pc - INSTRUCTION_ADJUST`` (the call instruction, for lookups).
    INSTRUCTION_ADJUST: int
    #: Whether output offsets use the return address (x86/amd64) or the adjusted instruction.
    REPORTS_RETURN_ADDRESS: bool

    def context_registers(self, registers: Mapping[str, int], env: UnwindEnv) -> dict[str, int]: ...

    def caller(self, frames: Sequence[Frame], env: UnwindEnv, *, scan_allowed: bool) -> Caller | None: ...


def unwinder_for(cpu: str) -> Unwinder | None:
    # Imported here to avoid an import cycle; ``walker`` imports them at load time, so no walk pays for it.
    from crashcart.stackwalk.unwind import amd64, arm, arm64, x86  # noqa: PLC0415

    table: dict[str, Unwinder] = {
        "amd64": amd64.AMD64,
        "x86": x86.X86,
        "arm64": arm64.ARM64,
        "arm": arm.ARM,
    }
    return table.get(cpu)


__all__ = ["Caller", "UnwindEnv", "Unwinder", "unwinder_for"]
