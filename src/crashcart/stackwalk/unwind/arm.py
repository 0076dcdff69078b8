"""32-bit ARM: CFI, then (iOS only, r7) the frame-pointer chain, then stack scan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from crashcart.stackwalk.frame import Frame, Trust
from crashcart.stackwalk.unwind._common import Caller, UnwindEnv, cfi_caller

CALLEE_SAVED = tuple(f"r{i}" for i in range(4, 12))
_ALIASES = {"r13": "sp", "r14": "lr", "r15": "pc"}


class ArmUnwinder:
    CPU = "arm"
    POINTER_SIZE = 4
    PC = "pc"
    SP = "sp"
    INSTRUCTION_ADJUST = 2
    REPORTS_RETURN_ADDRESS = False

    def context_registers(self, registers: Mapping[str, int], env: UnwindEnv) -> dict[str, int]:
        return {name: value for name, value in registers.items() if name != "cpsr"}

    def caller(self, frames: Sequence[Frame], env: UnwindEnv, *, scan_allowed: bool) -> Caller | None:
        last = frames[-1]
        if env.os != "iOS":
            regs = cfi_caller(env, last, prefix="", callee_saved=CALLEE_SAVED, aliases=_ALIASES)
            if regs is not None:
                cfa, ra = regs.pop(".cfa"), regs.pop(".ra")
                regs["pc"] = ra
                regs.setdefault("sp", cfa)
                return Caller(Trust.CFI, regs)
        if env.os == "iOS":
            fp, lr = last.registers.get("r7"), last.registers.get("lr")
            if fp is not None and lr is not None:
                caller_fp, caller_lr = env.read_word(fp), env.read_word(fp + 4)
                if caller_fp is not None and caller_lr is not None:
                    return Caller(Trust.FRAME_POINTER, {"pc": lr, "lr": caller_lr, "r7": caller_fp, "sp": fp + 8})
        sp = last.registers.get("sp")
        if not scan_allowed or sp is None:
            return None
        hit = env.scan(sp, context_frame=last.trust is Trust.CONTEXT)
        if hit is None:
            return None
        slot, pc = hit
        return Caller(Trust.SCAN, {"pc": pc, "sp": slot + 4})


ARM = ArmUnwinder()
