"""The walk driver: per thread, the context frame, then callers from the CPU's unwinder until a check stops it.

Termination follows Breakpad's ``Stackwalker::Walk``/``TerminateWalk``: no caller, a caller pc below
0x1000, a caller sp below the callee's, or an unchanged sp after the first unwind. Limits: frames per thread,
scanned frames per thread, and wall time per dump (checked between frames; the processor's supervisor
enforces the hard per-crash budget; see ``docs/architecture.md``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from crashcart.minidump import (
    BreakpadInfo,
    CpuContext,
    ExceptionStream,
    Minidump,
    ModuleList,
    SystemInfo,
    ThreadList,
)
from crashcart.stackwalk.frame import Frame, ThreadStack, Trust, WalkResult
from crashcart.stackwalk.interfaces import NoSymbols, SymbolLookup
from crashcart.stackwalk.unwind import UnwindEnv, Unwinder, amd64, arm, arm64, unwinder_for, x86
from crashcart.stackwalk.unwind._common import ModuleLookup

_UNWINDERS = (amd64, arm, arm64, x86)  # loaded with the walker (``unwinder_for`` imports them lazily)
_SCANNED = frozenset({Trust.SCAN, Trust.CFI_SCAN, Trust.NONE})


@dataclass(frozen=True)
class WalkOptions:
    #: Frames kept per thread (Breakpad allows 2^20; real stacks beyond 1,024 are recursion).
    max_frames: int = 1024
    #: Words scanned for a return address (×4 above the context frame), Breakpad's ``kRASearchWords``.
    scan_words: int = 40
    #: Scanned frames per thread after which scanning is no longer tried (Breakpad: 2^14).
    max_scanned_frames: int = 1 << 14
    #: Wall-clock budget for the whole dump, in seconds; threads not reached are left without frames.
    max_seconds: float = 20.0
    #: Walk only the crashing (requesting) thread.
    crashing_thread_only: bool = False


def _address_mask(modules: ModuleList | None) -> int:
    """arm64 PAC mask: all ones up to the highest bit of the highest module address."""
    if modules is None or not modules.modules:
        return 0
    highest = max(m.end_address - 1 for m in modules.modules)
    return (1 << highest.bit_length()) - 1 if highest > 0 else 0


def _make_frame(unwinder: Unwinder, env: UnwindEnv, trust: Trust, registers: dict[str, int], *, context: bool) -> Frame:
    pc = registers[unwinder.PC]
    instruction = pc if context else max(pc - unwinder.INSTRUCTION_ADJUST, 0)
    offset = pc if context or unwinder.REPORTS_RETURN_ADDRESS else instruction
    module = env.module_at(instruction)
    function = None
    if module is not None:
        function = env.symbols.function_at(module, instruction - module.base_address)
    module_offset = None if module is None else offset - module.base_address
    return Frame(trust, offset, instruction, module, module_offset, registers, function)


def walk_stack(
    unwinder: Unwinder,
    context_registers: dict[str, int],
    env: UnwindEnv,
    options: WalkOptions,
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[tuple[Frame, ...], str | None]:
    """Frames of one thread from its context registers; the second item says why the walk was cut short."""
    registers = unwinder.context_registers(context_registers, env)
    if unwinder.PC not in registers or unwinder.SP not in registers:
        return (), "no_context"
    frames = [_make_frame(unwinder, env, Trust.CONTEXT, registers, context=True)]
    scanned = 0
    while True:
        if len(frames) >= options.max_frames:
            return tuple(frames), "frame_limit"
        if clock() > deadline:
            return tuple(frames), "time_budget"
        callee = frames[-1]
        found = unwinder.caller(frames, env, scan_allowed=scanned < options.max_scanned_frames)
        if found is None:
            break
        pc = found.registers.get(unwinder.PC)
        sp = found.registers.get(unwinder.SP)
        callee_sp = callee.registers[unwinder.SP]
        if pc is None or sp is None or pc < 0x1000 or sp < callee_sp:
            break
        if sp == callee_sp and callee.trust is not Trust.CONTEXT:
            break
        frame = _make_frame(unwinder, env, found.trust, found.registers, context=False)
        if frame.trust in _SCANNED:
            scanned += 1
        frames.append(frame)
    return tuple(frames), None


def walk(
    minidump: Minidump,
    symbols: SymbolLookup | None = None,
    options: WalkOptions | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> WalkResult:
    """Walk every thread of ``minidump`` (Breakpad's thread numbering: the dump-writing thread is skipped)."""
    options = options or WalkOptions()
    symbols = symbols if symbols is not None else NoSymbols()
    deadline = clock() + options.max_seconds
    system = minidump.get_stream(SystemInfo)
    cpu = system.cpu if system is not None else "unknown"
    os_name = system.os if system is not None else "unknown"
    notes: list[str] = []
    threads = minidump.get_stream(ThreadList)
    crashing = minidump.requesting_thread_index()
    unwinder = unwinder_for(cpu)
    if threads is None:
        return WalkResult(cpu, os_name, (), crashing, "failed", ("no_thread_list",))
    if unwinder is None:
        return WalkResult(cpu, os_name, (), crashing, "failed", (f"unsupported_cpu: {cpu}",))
    modules = minidump.get_stream(ModuleList)
    lookup: ModuleLookup = modules if modules is not None else minidump
    info = minidump.get_stream(BreakpadInfo)
    dump_thread = None if info is None else info.dump_thread_id
    exception = minidump.get_stream(ExceptionStream)
    mask = _address_mask(modules) if cpu == "arm64" else 0

    stacks: list[ThreadStack] = []
    index = 0
    for thread in threads.threads:
        if dump_thread is not None and thread.thread_id == dump_thread:
            continue
        this_index, index = index, index + 1
        if options.crashing_thread_only and this_index != crashing:
            continue
        if clock() > deadline:
            stacks.append(ThreadStack(this_index, thread.thread_id, (), "time_budget"))
            continue
        context: CpuContext | None = None
        if exception is not None and exception.thread_id == thread.thread_id:
            context = exception.context  # the fault, not the exception handler
        if context is None:
            context = thread.context
        if context is None:
            stacks.append(ThreadStack(this_index, thread.thread_id, (), "no_context"))
            continue
        stack = minidump.thread_stack(thread)
        env = UnwindEnv(stack, lookup, symbols, os_name, unwinder.POINTER_SIZE, options.scan_words, mask)
        frames, truncated = walk_stack(unwinder, context.registers, env, options, deadline, clock)
        if truncated is not None:
            notes.append(f"thread {this_index}: {truncated}")
        stacks.append(ThreadStack(this_index, thread.thread_id, frames, truncated))
    status = "partial" if notes else "ok"
    return WalkResult(cpu, os_name, tuple(stacks), crashing, status, tuple(notes))
