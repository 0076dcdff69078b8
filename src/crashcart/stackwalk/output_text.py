"""The walk as human text in the shape of Breakpad's ``minidump_stackwalk`` (``PrintProcessState``).

Frame lines use Breakpad's offsets (the return address on x86/amd64): ``module!function [file : line + 0x…]``
(from the start of the line record), ``module!function + 0x…``, ``module + 0x…`` or ``0x…``. Inline frames
come first, each on its own line with ``Found by: inline record``, as Breakpad prints them; Breakpad's inline
frames are plain copies of the real frame, so their ``+ 0x…`` is from the lookup address (``instruction``)
where the real frame's is from its return address: on x86/amd64 callers the two differ by one. x86 frame 0
also lists ``efl``. Not reproduced: the GPU lines beyond ``UNKNOWN``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Collection
from ntpath import basename as _nt_basename

from crashcart.minidump import AssertionInfo, Minidump, ModuleList, SystemInfo
from crashcart.stackwalk.frame import Frame, ThreadStack, Trust, WalkResult
from crashcart.stackwalk.output_budget import SLACK, OutputBudget
from crashcart.stackwalk.output_json import (
    Symbolizer,
    SymbolStatus,
    context_frame_extras,
    pointer_size,
    process_uptime,
    symbolize_frame,
)
from crashcart.symbols import SymbolInfo

#: Breakpad's ``StackFrame::trust_description``.
TRUST_DESCRIPTIONS: dict[Trust, str] = {
    Trust.CONTEXT: "given as instruction pointer in context",
    Trust.PREWALKED: "recovered by external stack walker",
    Trust.CFI: "call frame info",
    Trust.CFI_SCAN: "call frame info with scanning",
    Trust.FRAME_POINTER: "previous frame's frame pointer",
    Trust.SCAN: "stack scanning",
    Trust.NONE: "unknown",
}


def _source_name(path: str) -> str:
    """Breakpad prints the source file's basename, Windows or POSIX."""
    return _nt_basename(path)


def build_text(
    dump: Minidump,
    result: WalkResult,
    symbolize: Symbolizer | None = None,
    symbol_status: SymbolStatus | None = None,
    *,
    asked: Collection[int] = (),
    all_threads: bool = True,
    max_size: int | None = None,
    deadline: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Breakpad-like text for a walked dump (crashed thread first, then the others, then loaded modules).

    ``asked``: indexes of modules the walker asked the symbol lookup about (``RecordingLookup.asked``); with
    the frames' modules they are the modules Breakpad warns about when they have no symbols.

    ``max_size`` (characters) and ``deadline`` bound the output as ``output_json.build_json``'s: the header,
    the crashed thread and the module list are always printed; the other threads until the next would not fit,
    then one line says how many were left out.
    """
    lines: list[str] = []
    system = dump.get_stream(SystemInfo)
    if system is not None:
        lines += [f"Operating system: {system.os}", f"                  {system.os_version}", f"CPU: {system.cpu}"]
        if system.cpu_info:
            lines.append(f"     {system.cpu_info}")
        count = system.number_of_processors
        lines.append(f"     {count} CPU{'' if count == 1 else 's'}")
    else:
        lines += ["Operating system: unknown", "CPU: unknown"]
    lines += ["", "GPU: UNKNOWN", ""]
    reason = dump.crash_reason()
    if reason is not None:
        lines += [f"Crash reason:  {reason.reason}", f"Crash address: 0x{reason.address:x}"]
    else:
        lines.append("No crash")
    assertion = dump.get_stream(AssertionInfo)
    if assertion is not None and assertion.expression:
        lines.append(f"Assertion: {assertion.expression}")
    uptime = process_uptime(dump)
    lines.append("Process uptime: not available" if uptime is None else f"Process uptime: {uptime} seconds")
    lines.append("")

    width = pointer_size(dump) * 2
    touched: set[int] = set(asked)
    modules = dump.get_stream(ModuleList)
    budget = OutputBudget(max_size if max_size is not None else sys.maxsize, deadline, clock)
    if max_size is not None:
        budget.spend(_size(lines) + _modules_size(modules) + SLACK)
    crashing = result.crashing_stack
    if crashing is not None:
        label = "crashed" if reason is not None else "requested dump, did not crash"
        lines.append(f"Thread {crashing.index} ({label})")
        lines += _stack_lines(crashing, width, symbolize, touched, context_frame_extras(dump, crashing))
        budget.spend(_size(lines))
    omitted = 0
    if all_threads:
        for stack in result.threads:
            if stack is crashing:
                continue
            if budget.refused is not None:
                omitted += 1
                continue
            thread_touched: set[int] = set()
            thread_lines = ["", f"Thread {stack.index}"]
            thread_lines += _stack_lines(stack, width, symbolize, thread_touched, context_frame_extras(dump, stack))
            if budget.take(_size(thread_lines) if max_size is not None else 0):
                lines += thread_lines
                touched |= thread_touched
            else:
                omitted += 1
    if omitted:
        why = "output size limit" if budget.refused == "output_size" else "time budget"
        lines += ["", f"({omitted:,} threads omitted: {why} reached)"]
    lines += ["", "Loaded modules:"]
    if modules is not None:
        main = modules.main_module
        # Breakpad's ContainsModule matches by (debug file, debug id), so a warned module warns every module
        # with the same identifiers (several modules without a CodeView record all share ("", "")).
        touched_ids = {(m.debug_filename, m.debug_id) for m in modules.modules if m.index in touched}
        module_lines: list[tuple[bool, str]] = []  # (must stay, line)
        for module in modules.by_address():
            line = f"0x{module.base_address:08x} - 0x{module.end_address - 1:08x}  {module.filename}  "
            line += module.version or "???"
            if main is not None and module.index == main.index:
                line += "  (main)"
            if (module.debug_filename, module.debug_id) in touched_ids:  # only modules the walk looked up
                status = symbol_status(module) if symbol_status is not None else "symbol_not_found"
                if status == "symbol_malformed":
                    line += f"  (WARNING: Corrupt symbols, {module.debug_filename}, {module.debug_id})"
                elif status != "ok":
                    line += f"  (WARNING: No symbols, {module.debug_filename}, {module.debug_id})"
            stays = (main is not None and module.index == main.index) or module.index in touched
            module_lines.append((stays, line))
        if max_size is not None:
            budget.left += _modules_size(modules) - _size([line for _, line in module_lines])
        lines += _trim_modules(module_lines, budget)
    return "\n".join(lines) + "\n"


def _trim_modules(module_lines: list[tuple[bool, str]], budget: OutputBudget) -> list[str]:
    """The module lines, less those of modules no printed frame is in, from the end, while the output is over
    its cap (a hostile dump may list 100,000 modules); a last line counts them."""
    dropped: set[int] = set()
    for index in range(len(module_lines) - 1, -1, -1):
        if budget.left >= 0:
            break
        stays, line = module_lines[index]
        if not stays:
            dropped.add(index)
            budget.left += len(line) + 1
    kept = [line for i, (_, line) in enumerate(module_lines) if i not in dropped]
    if dropped:
        kept.append(f"({len(dropped):,} modules omitted: output size limit reached)")
    return kept


def _size(lines: list[str]) -> int:
    return sum(len(line) + 1 for line in lines)


def _modules_size(modules: ModuleList | None) -> int:
    """An upper bound of the "Loaded modules" section: every module with the longer warning."""
    if modules is None:
        return 0
    return sum(
        90 + len(m.filename) + len(m.version or "???") + 2 * (len(m.debug_filename) + len(m.debug_id))
        for m in modules.modules
    )


def _stack_lines(
    stack: ThreadStack,
    width: int,
    symbolize: Symbolizer | None,
    touched: set[int],
    context_extras: dict[str, int],
) -> list[str]:
    lines: list[str] = []
    number = 0
    # Breakpad prints every frame's registers in the context's order (rax rdx rcx rbx … rip).
    order: dict[str, float] = {name: i for i, name in enumerate(stack.frames[0].registers)} if stack.frames else {}
    for position, frame in enumerate(stack.frames):
        if frame.module is not None:
            touched.add(frame.module.index)
        info = symbolize_frame(frame, symbolize)
        if info is not None and frame.module is not None:
            for inline in info.inlines:
                where = ""
                if inline.file:
                    where = f" [{_source_name(inline.file)} : {inline.line}{_line_offset(frame, info, inline=True)}]"
                # Breakpad prints an inline frame's (empty) register line as a single space.
                lines += [
                    f"{number:2d}  {frame.module.filename}!{inline.function}{where}",
                    " ",
                    "    Found by: inline record",
                ]
                number += 1
        lines.append(f"{number:2d}  {_frame_label(frame, info)}")
        registers = dict(frame.registers)
        if position == 0:
            registers.update(context_extras)
        lines += _register_lines(registers, width, order)
        lines.append(f"    Found by: {TRUST_DESCRIPTIONS.get(frame.trust, 'unknown')}")
        number += 1
    return lines


def _line_offset(frame: Frame, info: SymbolInfo, *, inline: bool = False) -> str:
    """`` + 0x…`` from the line record's start: to the frame's printed address, or for inline frames (plain
    copies in Breakpad, whose ``ReturnAddress()`` is the instruction) to the lookup address."""
    if info.line_address is None or frame.module is None:
        return ""
    address = frame.instruction if inline else frame.offset
    return f" + 0x{address - (frame.module.base_address + info.line_address):x}"


def _frame_label(frame: Frame, info: SymbolInfo | None) -> str:
    module = frame.module
    if module is None:
        return f"0x{frame.offset:x}"
    if info is not None:
        if info.file is not None and info.line is not None:
            where = f"{_source_name(info.file)} : {info.line}{_line_offset(frame, info)}"
            return f"{module.filename}!{info.function} [{where}]"
        function_base = module.base_address + info.function_address
        return f"{module.filename}!{info.function} + 0x{frame.offset - function_base:x}"
    return f"{module.filename} + 0x{frame.offset - module.base_address:x}"


def _register_lines(registers: dict[str, int], width: int, order: dict[str, float]) -> list[str]:
    per_line = 4 if width <= 8 else 2
    arm = width <= 8 and "r11" in order  # 32-bit ARM: Breakpad prints r11 as "fp", after r12
    if arm and "r12" in order:
        order = {**order, "r12": order["r11"] - 0.5}
    names = sorted(registers, key=lambda name: order.get(name, len(order)))
    cells = [f"{_register_name(name, arm):>3} = 0x{registers[name]:0{width}x}" for name in names]
    return ["    " + "   ".join(cells[i : i + per_line]) for i in range(0, len(cells), per_line)]


def _register_name(name: str, arm: bool) -> str:
    if name == "eflags":
        return "efl"
    return "fp" if arm and name == "r11" else name
