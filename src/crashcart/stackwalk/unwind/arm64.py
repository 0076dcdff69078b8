"""arm64: CFI, then the frame-record chain (x29/x30), then stack scan, with pointer-authentication stripping.

Return addresses may carry PAC bits; like Breakpad's ``PtrauthStrip`` they are masked to the address range
the modules occupy, when the masked value lands in a module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from crashcart.stackwalk.frame import Frame, Trust
from crashcart.stackwalk.unwind._common import Caller, UnwindEnv, cfi_caller

CALLEE_SAVED = (*(f"x{i}" for i in range(19, 29)), "fp")
_ALIASES = {"x29": "fp", "x30": "lr", "x31": "sp"}


class Arm64Unwinder:
    CPU = "arm64"
    POINTER_SIZE = 8
    PC = "pc"
    SP = "sp"
    INSTRUCTION_ADJUST = 4
    REPORTS_RETURN_ADDRESS = False

    def context_registers(self, registers: Mapping[str, int], env: UnwindEnv) -> dict[str, int]:
        regs = {name: value for name, value in registers.items() if name != "cpsr"}
        if "lr" in regs:
            regs["lr"] = env.strip_pointer_auth(regs["lr"])
        return regs

    def caller(self, frames: Sequence[Frame], env: UnwindEnv, *, scan_allowed: bool) -> Caller | None:
        last = frames[-1]
        regs = cfi_caller(env, last, prefix="", callee_saved=CALLEE_SAVED, aliases=_ALIASES)
        if regs is not None:
            cfa, ra = regs.pop(".cfa"), regs.pop(".ra")
            regs["pc"] = env.strip_pointer_auth(ra)
            regs.setdefault("sp", cfa)
            if "lr" in regs:
                regs["lr"] = env.strip_pointer_auth(regs["lr"])
            return Caller(Trust.CFI, regs)
        found = self._by_frame_pointer(frames, env)
        if found is None and scan_allowed:
            sp = last.registers.get("sp")
            hit = None if sp is None else env.scan(sp, context_frame=last.trust is Trust.CONTEXT)
            if hit is not None:
                slot, pc = hit
                found = Caller(Trust.SCAN, {"pc": pc, "sp": slot + 8})
        return found

    @staticmethod
    def _corrected_lr(frames: Sequence[Frame], env: UnwindEnv) -> int | None:
        """Breakpad's ``CorrectRegLRByFramePointer``: a callee without a valid LR (it came from CFI) gets the
        return address saved in the grand-callee's frame record, if that record's fp agrees with the CFI's."""
        callee_fp, callee_sp = frames[-1].registers.get("fp"), frames[-1].registers.get("sp")
        # A frame pointer at or below the stack pointer cannot be a frame record (Breakpad's check).
        if len(frames) < 2 or callee_fp is None or callee_sp is None or callee_fp <= callee_sp:
            return None
        grand_fp = frames[-2].registers.get("fp")
        if grand_fp is None:
            return None
        saved_fp = env.read_word(grand_fp) if grand_fp else 0
        if saved_fp is None or callee_fp != saved_fp:
            return None
        saved_lr = env.read_word(grand_fp + 8) if grand_fp else 0
        return None if saved_lr is None else env.strip_pointer_auth(saved_lr)

    @classmethod
    def _by_frame_pointer(cls, frames: Sequence[Frame], env: UnwindEnv) -> Caller | None:
        last = frames[-1]
        fp = last.registers.get("fp")
        sp = last.registers.get("sp")
        if fp is None or sp is None:
            return None
        lr = last.registers.get("lr")
        if lr is None:
            # Breakpad then carries on with LR 0 if the correction fails, which ends the walk.
            lr = cls._corrected_lr(frames, env) or 0
        if fp == 0:
            # End of the chain: sp stays put, so the driver's sp check ends the walk.
            return Caller(Trust.FRAME_POINTER, {"pc": lr, "lr": 0, "fp": 0, "sp": sp})
        caller_fp = env.read_word(fp)
        caller_lr = env.read_word(fp + 8)
        if caller_fp is None or caller_lr is None:
            return None
        return Caller(
            Trust.FRAME_POINTER,
            {"pc": lr, "lr": env.strip_pointer_auth(caller_lr), "fp": caller_fp, "sp": fp + 16},
        )


ARM64 = Arm64Unwinder()
