"""The walk driver: per thread, the context frame, then callers from the CPU's unwinder until a check stops it.

Termination follows Breakpad's ``Stackwalker::Walk``/``TerminateWalk``: no caller, a caller pc below
0x1000, a caller sp below the callee's, or an unchanged sp after the first unwind. Limits: frames per thread,
frames per dump, scanned frames per thread, and wall time per dump (checked between frames; the processor's
supervisor enforces the hard per-crash budget; see ``docs/architecture.md``).

Frames per thread alone do not bound a walk: a dump of a thousand threads whose stacks all point at one stored
frame-pointer chain costs a thousand full stacks for the bytes of one (issue #9). So frames are also counted
per dump, and the crashing thread is walked first, so that it is never the thread the budget cuts.
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
#: Per-thread notes kept in a result (``thread N: frame_limit``); the rest are counted in one note.
MAX_THREAD_NOTES = 20


@dataclass(frozen=True)
class WalkOptions:
    #: Frames kept per thread (Breakpad allows 2^20; real stacks beyond 1,024 are recursion).
    max_frames: int = 1024
    #: Frames kept per dump, all threads together (the crashing thread is walked first).
    max_total_frames: int = 20_000
    #: Words scanned for a return address (×4 above the context frame), Breakpad's ``kRASearchWords``.
    scan_words: int = 40
    #: Scanned frames per thread after which scanning is no longer tried (Breakpad: 2^14).
    max_scanned_frames: int = 1 << 14
    #: Wall-clock budget for the whole dump, in seconds, the output's building included (``Stackwalker``);
    #: threads not reached are left without frames.
    max_seconds: float = 20.0
    #: Walk only the crashing (requesting) thread.
    crashing_thread_only: bool = False
    #: Bytes of output (``json.dumps(doc, indent=2)``, or the text) beyond which threads other than the
    #: crashing one are left out; used by the output builders, not by the walk.
    max_output_size: int = 10 * 1024 * 1024


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
    max_frames: int | None = None,
) -> tuple[tuple[Frame, ...], str | None]:
    """Frames of one thread from its context registers; the second item says why the walk was cut short.

    ``max_frames`` (default ``options.max_frames``) lower than the options' is what the dump's frame budget has
    left; a thread cut by it is ``frame_budget``, not ``frame_limit``."""
    limit = options.max_frames if max_frames is None else min(max_frames, options.max_frames)
    limit_reason = "frame_limit" if limit >= options.max_frames else "frame_budget"
    registers = unwinder.context_registers(context_registers, env)
    if unwinder.PC not in registers or unwinder.SP not in registers:
        return (), "no_context"
    frames = [_make_frame(unwinder, env, Trust.CONTEXT, registers, context=True)]
    scanned = 0
    while True:
        if len(frames) >= limit:
            return tuple(frames), limit_reason
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
    deadline: float | None = None,
) -> WalkResult:
    """Walk every thread of ``minidump`` (Breakpad's thread numbering: the dump-writing thread is skipped).

    The crashing thread is walked first, then the others in minidump order, each with what is left of
    ``options.max_total_frames`` (the result lists them in minidump order). ``deadline`` (``clock`` time)
    replaces ``now + options.max_seconds`` when the caller's budget started earlier.
    """
    options = options or WalkOptions()
    symbols = symbols if symbols is not None else NoSymbols()
    deadline = clock() + options.max_seconds if deadline is None else deadline
    system = minidump.get_stream(SystemInfo)
    cpu = system.cpu if system is not None else "unknown"
    os_name = system.os if system is not None else "unknown"
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

    numbered = [t for t in threads.threads if dump_thread is None or t.thread_id != dump_thread]
    order = list(range(len(numbered)))
    if crashing is not None and 0 <= crashing < len(numbered):
        order.remove(crashing)
        order.insert(0, crashing)
    if options.crashing_thread_only:
        order = [i for i in order if i == crashing]
    stacks: dict[int, ThreadStack] = {}
    cut: list[str] = []  # per-thread notes
    unwalked: dict[str, int] = {}  # reason -> threads left without frames
    frames_left = options.max_total_frames
    for this_index in order:
        thread = numbered[this_index]
        reason = "time_budget" if clock() > deadline else "frame_budget" if frames_left <= 0 else None
        if reason is not None:
            stacks[this_index] = ThreadStack(this_index, thread.thread_id, (), reason)
            unwalked[reason] = unwalked.get(reason, 0) + 1
            continue
        context: CpuContext | None = None
        if exception is not None and exception.thread_id == thread.thread_id:
            context = exception.context  # the fault, not the exception handler
        if context is None:
            context = thread.context
        if context is None:
            stacks[this_index] = ThreadStack(this_index, thread.thread_id, (), "no_context")
            continue
        stack = minidump.thread_stack(thread)
        env = UnwindEnv(stack, lookup, symbols, os_name, unwinder.POINTER_SIZE, options.scan_words, mask)
        frames, truncated = walk_stack(unwinder, context.registers, env, options, deadline, clock, frames_left)
        frames_left -= len(frames)
        if truncated is not None:
            cut.append(f"thread {this_index}: {truncated}")
        stacks[this_index] = ThreadStack(this_index, thread.thread_id, frames, truncated)
    notes = cut[:MAX_THREAD_NOTES]
    if len(cut) > MAX_THREAD_NOTES:
        notes.append(f"{len(cut) - MAX_THREAD_NOTES:,} more threads cut short")
    if unwalked.get("frame_budget"):
        notes.append(
            f"frame_budget: {options.max_total_frames:,} frames per dump reached; "
            f"{unwalked['frame_budget']:,} threads not walked"
        )
    if unwalked.get("time_budget"):
        notes.append(f"time_budget: {options.max_seconds:g} s reached; {unwalked['time_budget']:,} threads not walked")
    status = "partial" if notes else "ok"
    ordered = tuple(stacks[i] for i in sorted(stacks))
    return WalkResult(cpu, os_name, ordered, crashing, status, tuple(notes))
