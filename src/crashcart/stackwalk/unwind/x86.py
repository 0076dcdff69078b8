"""x86: STACK WIN, then CFI, then the ebp chain (falling back to a scan when ebp is unreadable).

``STACK WIN`` follows Breakpad's ``GetCallerByWindowsFrameInfo``: FrameData program strings or a synthesized
FPO program, ``.raSearchStart`` from the frame sizes (``ebp + 4`` when the program aligns with ``@``), a
three-word look-ahead for FPO system calls in the context frame, a rescan (trust ``cfi_scan``) when the
return address is outside every module, a plain scan when the program fails, and ebp recovery from the
saved-register area.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from crashcart.stackwalk.cfi import run_program
from crashcart.stackwalk.frame import Frame, Trust
from crashcart.stackwalk.interfaces import WindowsFrameInfo
from crashcart.stackwalk.unwind._common import Caller, UnwindEnv, cfi_caller

CALLEE_SAVED = ("ebp", "ebx", "esi", "edi")
_GPRS = ("eip", "esp", "ebp", "ebx", "esi", "edi", "eax", "ecx", "edx")
_FPO_WITH_BASE_POINTER = (
    "$eip .raSearchStart ^ = $ebp $esp .cbCalleeParams + .cbSavedRegs + 8 - ^ = $esp .raSearchStart 4 + ="
)
_FPO = "$eip .raSearchStart ^ = $esp .raSearchStart 4 + ="
_MASK = 0xFFFF_FFFF
_MAX_FRAME_GAP = 128 * 1024


def _windows_info(frame: Frame, env: UnwindEnv) -> WindowsFrameInfo | None:
    module = frame.module
    if module is None:
        return None
    return env.symbols.windows_frame_info(module, frame.instruction - module.base_address)


def _callee_parameter_size(frames: Sequence[Frame], env: UnwindEnv) -> int:
    """``.cbCalleeParams`` as Breakpad (mid-2023 and HEAD) computes it: not the callee's parameter size.

    ``GetCallerByWindowsFrameInfo`` loops from the callee (``frames[-2]``) down to frame 0 over every frame that
    has Windows frame info with a parameter size, and the loop has no ``break``: the value that sticks is the
    *lowest-numbered* such frame's (usually the context frame). It only shows when that frame's parameter size
    differs from the real callee's and the program string uses ``.raSearch``/``.raSearchStart``, e.g. corpus
    ``windows-x86`` thread 54 frame 5 (``directmanipulation.dll``): frame 0 has 20 bytes of parameters, the
    callee 0, and Breakpad's return-address search starts 20 bytes (plus a 4-byte look-ahead) higher, skipping
    two real frames. We reproduce it because Breakpad is the reference; the report lists it as Breakpad's bug.
    """
    for frame in frames[:-1]:
        info = _windows_info(frame, env)
        if info is not None:
            return info.parameter_size
    return 0


class X86Unwinder:
    CPU = "x86"
    POINTER_SIZE = 4
    PC = "eip"
    SP = "esp"
    INSTRUCTION_ADJUST = 1
    REPORTS_RETURN_ADDRESS = True

    def context_registers(self, registers: Mapping[str, int], env: UnwindEnv) -> dict[str, int]:
        return {name: registers[name] for name in _GPRS if name in registers}

    def caller(self, frames: Sequence[Frame], env: UnwindEnv, *, scan_allowed: bool) -> Caller | None:
        last = frames[-1]
        info = _windows_info(last, env)
        if info is not None and info.complete:
            found = self._by_windows_frame_info(frames, env, info, scan_allowed=scan_allowed)
            if found is not None:
                return found
        regs = cfi_caller(env, last, prefix="$", callee_saved=CALLEE_SAVED)
        if regs is not None and regs[".ra"] != 0:  # a zero return address fails CFI (Breakpad)
            cfa, ra = regs.pop(".cfa"), regs.pop(".ra")
            regs["eip"] = ra
            regs.setdefault("esp", cfa)
            return Caller(Trust.CFI, regs)
        ebp = last.registers.get("ebp")
        if ebp is not None:
            caller_eip = env.read_word(ebp + 4)
            caller_ebp = env.read_word(ebp)
            if caller_eip is not None and caller_ebp is not None:
                # No validation of eip here, as in Breakpad: the driver's termination checks decide.
                return Caller(Trust.FRAME_POINTER, {"eip": caller_eip, "esp": ebp + 8, "ebp": caller_ebp})
        esp = last.registers.get("esp")
        if not scan_allowed or esp is None:
            return None
        hit = env.scan(esp, context_frame=last.trust is Trust.CONTEXT)
        if hit is None:
            return None
        slot, eip = hit
        caller_esp = slot + 4
        # Breakpad restores the ebp chain from the word below the return address when it points above that
        # word, by at most 128 KiB (``kMaxReasonableGapBetweenFrames``); otherwise ebp is unchanged.
        saved_at = slot - 4
        saved = env.read_word(saved_at)
        plausible = saved is not None and saved_at < saved <= saved_at + _MAX_FRAME_GAP
        caller_ebp = saved if plausible else ebp
        out = {"eip": eip, "esp": caller_esp}
        if caller_ebp is not None:
            out["ebp"] = caller_ebp
        return Caller(Trust.SCAN, out)

    @staticmethod
    def _by_windows_frame_info(
        frames: Sequence[Frame], env: UnwindEnv, info: WindowsFrameInfo, *, scan_allowed: bool
    ) -> Caller | None:
        last = frames[-1]
        context_frame = last.trust is Trust.CONTEXT
        esp = last.registers.get("esp")
        if esp is None:
            return None
        ebp = last.registers.get("ebp", 0)
        callee_params = _callee_parameter_size(frames, env)
        variables = {
            "$ebp": ebp,
            "$esp": esp,
            ".cbCalleeParams": callee_params,
            ".cbSavedRegs": info.saved_register_size,
            ".cbLocals": info.local_size,
            ".cbParams": info.parameter_size,
        }
        if "ebx" in last.registers:
            variables["$ebx"] = last.registers["ebx"]
        ra_search = (esp + callee_params + info.local_size + info.saved_register_size) & _MASK
        # Look a few words further in case the stack was aligned; an FPO system call in the context frame
        # leaves a pointer to the current instruction on top, so skip it.
        hit = env.scan(ra_search, context_frame=False, words=3)
        if hit is not None:
            if context_frame and info.kind == 0 and hit[0] == ra_search and hit[1] == last.registers.get("eip"):
                hit = env.scan(ra_search + 4, context_frame=False, words=3)
                ra_search = hit[0] if hit is not None else ra_search + 4
            else:
                ra_search = hit[0]
        if info.program:
            program, recover_ebp = info.program, True
        elif info.allocates_base_pointer:
            program, recover_ebp = _FPO_WITH_BASE_POINTER, True
        else:
            # Breakpad also passes ebx through, so the caller keeps it as a known register.
            program, recover_ebp = _FPO + (" $ebx $ebx =" if "$ebx" in variables else ""), False
        if "@" in program:
            ra_search = (ebp + 4) & _MASK
        variables[".raSearchStart"] = variables[".raSearch"] = ra_search

        trust = Trust.CFI
        result = run_program(program, variables, env.read_word, 4)
        if result is not None and {"$eip", "$esp"} <= result[1]:
            values, assigned = result
        else:
            found = env.scan(esp, context_frame=context_frame) if scan_allowed else None
            if found is None:
                return None
            values, assigned = dict(variables), set()
            values["$eip"], values["$esp"] = found[1], found[0] + 4
            trust = Trust.SCAN

        if values["$eip"] != 0 or values.get("$ebp", 0) != 0:
            offset = 0
            if env.module_at(values["$eip"]) is None and scan_allowed:
                start = (ra_search + 4) & _MASK
                found = env.scan(start, context_frame=context_frame)
                if found is not None:
                    values["$eip"], values["$esp"] = found[1], found[0] + 4
                    offset = found[0] - start
                    trust = Trust.CFI_SCAN
            if recover_ebp:
                new_ebp = values.get("$ebp", 0)
                skipped = trust is not Trust.CFI and new_ebp <= ra_search + offset
                if skipped or env.read_word(new_ebp) is None:
                    end = esp + callee_params
                    location = end + info.saved_register_size + offset
                    while location >= end:
                        candidate = env.read_word(location)
                        if candidate is None:
                            break
                        if env.read_word(candidate) is not None:
                            values["$ebp"] = candidate
                            break
                        location -= 4

        regs = {"eip": values["$eip"], "esp": values["$esp"], "ebp": values.get("$ebp", 0)}
        for name in ("ebx", "esi", "edi"):
            if f"${name}" in assigned:
                regs[name] = values[f"${name}"]
        return Caller(trust, regs)


X86 = X86Unwinder()
