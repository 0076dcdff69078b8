"""The walk as rust-minidump's ``minidump-stackwalk --json`` document (Socorro's ``json_dump``).

Keys and conventions follow rust-minidump's ``json-schema.md``: addresses are ``"0x…"`` strings padded
to the pointer width, ``threads`` and ``modules`` are in minidump order, ``crash_info.crashing_thread`` is an
index into ``threads``, a frame's ``offset`` is its lookup address (``return address - 1`` on x86/amd64).
Every field is optional: what the dump does not have is ``None`` or absent.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Collection
from typing import Any

from crashcart.minidump import (
    AssertionInfo,
    ExceptionStream,
    LinuxLsbRelease,
    LinuxProcStatus,
    MacBootArgs,
    MacCrashInfo,
    Minidump,
    MiscInfo,
    Module,
    ModuleList,
    SystemInfo,
    Thread,
    ThreadList,
    ThreadNames,
    UnloadedModuleList,
)
from crashcart.stackwalk.crash_analysis import crash_info_fields
from crashcart.stackwalk.frame import Frame, ThreadStack, Trust, WalkResult
from crashcart.stackwalk.output_budget import SLACK, OutputBudget, encoded_size
from crashcart.symbols import SymbolInfo

#: ``(module, module-relative address) -> SymbolInfo | None``; the output's symbolication.
Symbolizer = Callable[[Module, int], SymbolInfo | None]
#: ``module -> "ok" | "symbol_not_found" | …``, the provider's status of a module's symbols.
SymbolStatus = Callable[[Module], str]


class HexFormatter:
    """``"0x…"`` zero-padded to the dump's pointer width (8 digits on 32-bit CPUs, 16 on 64-bit)."""

    def __init__(self, pointer_size: int) -> None:
        self.digits = pointer_size * 2

    def __call__(self, value: int | None) -> str | None:
        return None if value is None else f"0x{value:0{self.digits}x}"


def pointer_size(dump: Minidump) -> int:
    info = dump.get_stream(SystemInfo)
    return info.pointer_size if info is not None else 8


def context_frame_extras(dump: Minidump, stack: ThreadStack) -> dict[str, int]:
    """Context registers both outputs print for frame 0 that the walker's frames do not carry: x86 ``efl``.

    The x86 unwinder keeps only the registers unwinding uses, but Breakpad's text and rust-minidump's JSON list
    ``efl`` (EFLAGS) for the context frame. It is read from the context the walker started from: the
    exception's for the crashing thread, else the thread's own.
    """
    system = dump.get_stream(SystemInfo)
    if system is None or system.cpu != "x86" or not stack.frames or stack.frames[0].trust != Trust.CONTEXT:
        return {}
    context = None
    exception = dump.get_stream(ExceptionStream)
    if exception is not None and exception.thread_id == stack.thread_id:
        context = exception.context
    if context is None:
        threads = dump.get_stream(ThreadList)
        thread = None if threads is None else threads.by_id(stack.thread_id)
        context = None if thread is None else thread.context
    value = None if context is None else context.registers.get("eflags")
    return {} if value is None else {"efl": value}


def symbolize_frame(frame: Frame, symbolize: Symbolizer | None) -> SymbolInfo | None:
    """The symbol info at the frame's lookup address (``frame.instruction``), if any."""
    if symbolize is None or frame.module is None:
        return None
    return symbolize(frame.module, frame.instruction - frame.module.base_address)


#: Why a thread's frames are not all there (``ThreadStack.truncated``); ``no_context`` is the dump's doing.
CUT_SHORT = frozenset({"frame_limit", "frame_budget", "time_budget"})
#: Of those, the reasons a thread was not walked at all.
NOT_WALKED = frozenset({"frame_budget", "time_budget"})


def build_json(
    dump: Minidump,
    result: WalkResult,
    symbolize: Symbolizer | None = None,
    symbol_status: SymbolStatus | None = None,
    asked: Collection[int] = (),
    *,
    max_size: int | None = None,
    deadline: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    prepare: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """The ``--json`` document for a walked dump.

    ``asked``: indexes of modules the walker asked the symbol lookup about (``RecordingLookup.asked``); they
    count as touched, like the modules of the frames.

    ``max_size`` bounds ``json.dumps(doc, indent=2)`` (``output_budget``): the dump-level parts and the crashing
    thread are always kept; the other threads follow in minidump order until the next would not fit, or
    ``deadline`` (``clock`` time) has passed; the rest are left out of ``threads`` (which stays in minidump
    order, ``crash_info.crashing_thread`` indexing it) and counted in ``stackwalker.truncated``. ``prepare``
    changes the document before it is sized (the raw crash's certificate subjects).
    """
    hx = HexFormatter(pointer_size(dump))
    doc: dict[str, Any] = {"status": "OK" if result.status != "failed" else "ERROR"}
    system = dump.get_stream(SystemInfo)
    doc["system_info"] = _system_info(system)
    misc = dump.get_stream(MiscInfo)
    doc["pid"] = _pid(dump, misc)
    doc["process_uptime"] = process_uptime(dump)
    doc["crash_info"] = _crash_info(dump, hx, None)
    doc["thread_count"] = 0
    doc["threads"] = []
    doc["crashing_thread"] = None
    modules = dump.get_stream(ModuleList)
    doc["main_module"] = 0 if modules is not None and modules.modules else None
    # Sized untouched: every symbol flag ``false``, the longest form; touched modules are set once threads are in.
    module_docs = [_module(m, hx, False, None) for m in modules.modules] if modules else []
    doc["modules"] = module_docs
    unloaded = dump.get_stream(UnloadedModuleList)
    doc["unloaded_modules"] = [
        {
            "base_addr": hx(u.base_address),
            "end_addr": hx(u.base_address + u.size),
            "code_id": None,
            "filename": u.name.replace("\\", "/").rsplit("/", 1)[-1],
        }
        for u in (unloaded.modules if unloaded is not None else ())
    ]
    doc["lsb_release"] = _lsb_release(dump.get_stream(LinuxLsbRelease))
    doc["mac_crash_info"] = _mac_crash_info(dump.get_stream(MacCrashInfo))
    boot_args = dump.get_stream(MacBootArgs)
    doc["mac_boot_args"] = None if boot_args is None else boot_args.boot_args
    doc["modules_contains_cert_info"] = False  # set by the raw crash's ModuleSignatureInfo
    doc["stackwalker"] = {"version": result.version, "status": result.status, "notes": list(result.notes)}
    if prepare is not None:
        prepare(doc)
    budget = OutputBudget(max_size if max_size is not None else sys.maxsize, deadline, clock)
    if max_size is not None:
        budget.spend(encoded_size(doc) + SLACK)

    # Threads in minidump order; the walker numbers them Breakpad's way (dump-writing thread skipped).
    thread_list = dump.get_stream(ThreadList)
    names = dump.get_stream(ThreadNames)
    stacks_by_id: dict[int, list[ThreadStack]] = {}
    for walked in result.threads:
        stacks_by_id.setdefault(walked.thread_id, []).append(walked)
    listed = [
        (thread, candidates.pop(0) if candidates else None)
        for thread in (thread_list.threads if thread_list is not None else ())
        for candidates in (stacks_by_id.get(thread.thread_id),)
    ]
    crashing = result.crashing_stack
    touched: set[int] = set(asked)  # module indexes some kept frame (or the walker) touched
    kept: dict[int, dict[str, Any]] = {}  # position in ``listed`` -> thread entry
    crashing_position = None
    if crashing is not None:
        crashing_position = next((i for i, (_, stack) in enumerate(listed) if stack is crashing), None)
    if crashing is not None and crashing_position is not None:
        entry, modules_touched = _thread(listed[crashing_position][0], crashing, names, hx, symbolize)
        kept[crashing_position] = entry
        touched |= modules_touched
        copy = dict(entry)
        copy["threads_index"] = 0  # set below
        if crashing.frames:
            frames = [dict(f) for f in entry["frames"]]
            registers = {**crashing.frames[0].registers, **context_frame_extras(dump, crashing)}
            frames[0]["registers"] = {name: hx(value) for name, value in registers.items()}
            copy["frames"] = frames
            doc["crashing_thread"] = copy
        if max_size is not None:
            budget.spend(encoded_size(entry, 2) + (encoded_size(copy, 1) if crashing.frames else 0))
    omitted = 0
    for position, (thread, stack) in enumerate(listed):
        if position == crashing_position:
            continue
        if budget.refused is not None:
            omitted += 1
            continue
        entry, modules_touched = _thread(thread, stack, names, hx, symbolize)
        if budget.take(encoded_size(entry, 2) + 8 if max_size is not None else 0):
            kept[position] = entry
            touched |= modules_touched
        else:
            omitted += 1
    threads = [kept[i] for i in sorted(kept)]
    crashing_index = None if crashing_position is None else sorted(kept).index(crashing_position)
    doc["crash_info"]["crashing_thread"] = crashing_index
    doc["thread_count"] = len(threads)
    doc["threads"] = threads
    if doc["crashing_thread"] is None:
        del doc["crashing_thread"]
    else:
        doc["crashing_thread"]["threads_index"] = crashing_index
    if modules is not None:
        for module in modules.modules:
            if module.index in touched:
                module_docs[module.index].update(_symbol_flags(module, True, symbol_status))
    modules_omitted = 0
    if max_size is not None and budget.left < 0:
        # Still over: the module lists themselves are (a hostile dump may list 100,000 modules).
        doc["modules"], dropped = _trim(module_docs, budget, keep=touched | {0})
        doc["unloaded_modules"], dropped_unloaded = _trim(doc["unloaded_modules"], budget, keep=set())
        modules_omitted = dropped + dropped_unloaded
    _record_truncation(doc, result, omitted, budget.refused, modules_omitted)
    return doc


def _thread(
    thread: Thread, stack: ThreadStack | None, names: ThreadNames | None, hx: HexFormatter, symbolize: Symbolizer | None
) -> tuple[dict[str, Any], set[int]]:
    """A ``threads[]`` entry and the indexes of the modules its frames touched."""
    touched: set[int] = set()
    frames = [] if stack is None else [_frame(i, f, hx, symbolize, touched) for i, f in enumerate(stack.frames)]
    entry: dict[str, Any] = {
        "thread_id": thread.thread_id,
        "thread_name": None if names is None else names.get(thread.thread_id),
        "frame_count": len(frames),
        "frames": frames,
        "last_error_value": None,
    }
    if stack is not None and stack.truncated in CUT_SHORT:
        entry["truncated"] = True  # Socorro's thread key: not every frame of this thread is there
    return entry, touched


def _trim(items: list[dict[str, Any]], budget: OutputBudget, keep: set[int]) -> tuple[list[dict[str, Any]], int]:
    """Drop items from the end (never those whose index is in ``keep``) until the budget is no longer
    overspent; the items left, in order, and how many were dropped."""
    dropped: set[int] = set()
    for index in range(len(items) - 1, -1, -1):
        if budget.left >= 0:
            break
        if index not in keep:
            dropped.add(index)
            budget.left += encoded_size(items[index], 2) + 8
    return [item for i, item in enumerate(items) if i not in dropped], len(dropped)


def _record_truncation(
    doc: dict[str, Any], result: WalkResult, omitted: int, refused: str | None, modules_omitted: int = 0
) -> None:
    """``stackwalker.truncated`` and a note when any limit cut the walk or the output; absent otherwise."""
    stackwalker = doc["stackwalker"]
    not_walked = sum(1 for s in result.threads if s.truncated in NOT_WALKED and not s.frames)
    frames_cut = any(s.truncated in CUT_SHORT for s in result.threads)
    if omitted:
        stackwalker["status"] = "partial"
        limit = "output size" if refused == "output_size" else "time budget"
        stackwalker["notes"].append(f"{refused}: {omitted:,} threads left out of the output ({limit} reached)")
    if modules_omitted:
        stackwalker["status"] = "partial"
        stackwalker["notes"].append(
            f"output_size: {modules_omitted:,} modules no kept frame is in left out of the output (output size reached)"
        )
    if frames_cut or omitted or modules_omitted:
        stackwalker["truncated"] = {
            "frames": frames_cut,
            "threads_not_walked": not_walked,
            "threads_omitted": omitted,
            "modules_omitted": modules_omitted,
            "output_size": refused == "output_size" or modules_omitted > 0,
            "time_budget": refused == "time_budget" or any(s.truncated == "time_budget" for s in result.threads),
        }


def _system_info(system: SystemInfo | None) -> dict[str, Any] | None:
    if system is None:
        return None
    return {
        "os": system.os,
        "os_ver": system.os_version or None,
        "cpu_arch": system.cpu,
        "cpu_info": system.cpu_info or None,
        "cpu_count": system.number_of_processors,
        "cpu_microcode_version": None,
    }


def process_uptime(dump: Minidump) -> int | None:
    """Seconds from process creation (MiscInfo) to the dump's timestamp; None when unknown."""
    misc = dump.get_stream(MiscInfo)
    if misc is None or not misc.process_create_time:
        return None
    uptime = dump.header.time_date_stamp - misc.process_create_time
    return uptime if uptime >= 0 else None


def _pid(dump: Minidump, misc: MiscInfo | None) -> int | None:
    if misc is not None and misc.process_id is not None:
        return misc.process_id
    status = dump.get_stream(LinuxProcStatus)
    if status is not None:
        try:
            return int(status.fields.get("Pid", ""))
        except ValueError:
            return None
    return None


def _crash_info(dump: Minidump, hx: HexFormatter, crashing_index: int | None) -> dict[str, Any]:
    reason = dump.crash_reason()
    assertion = dump.get_stream(AssertionInfo)
    return {
        "type": None if reason is None else reason.reason,
        "address": None if reason is None else hx(reason.address),
        "crashing_thread": crashing_index,
        "assertion": None if assertion is None else assertion.expression or None,
        **crash_info_fields(dump, hx),
    }


def _frame(
    index: int, frame: Frame, hx: HexFormatter, symbolize: Symbolizer | None, touched: set[int]
) -> dict[str, Any]:
    module = frame.module
    if module is not None:
        touched.add(module.index)
    info = symbolize_frame(frame, symbolize)
    rel = None if module is None else frame.instruction - module.base_address
    return {
        "frame": index,
        "module": None if module is None else module.filename,
        "function": None if info is None else info.function,
        "function_offset": None if info is None else hx(info.function_offset),
        "file": None if info is None else info.file,
        "line": None if info is None else info.line,
        "offset": hx(frame.instruction),
        "module_offset": hx(rel),
        "missing_symbols": info is None,
        "trust": str(frame.trust),
        "inlines": None
        if info is None or not info.inlines
        else [{"function": i.function, "file": i.file, "line": i.line} for i in info.inlines],
        "unloaded_modules": None,
    }


def _module(module: Module, hx: HexFormatter, touched: bool, symbol_status: SymbolStatus | None) -> dict[str, Any]:
    return {
        "base_addr": hx(module.base_address),
        "end_addr": hx(module.end_address),
        "filename": module.filename,
        "code_id": module.code_id.lower() if module.code_id else None,
        "debug_file": module.debug_filename,
        "debug_id": module.debug_id or None,
        "version": module.version,
        **_symbol_flags(module, touched, symbol_status),
        "symbol_url": None,
        "cert_subject": None,
    }


def _symbol_flags(module: Module, touched: bool, symbol_status: SymbolStatus | None) -> dict[str, bool]:
    # rust-minidump sets the symbol flags only for modules some frame touched; without symbols, none load.
    status = None if not touched else symbol_status(module) if symbol_status is not None else "symbol_not_found"
    return {
        "missing_symbols": status is not None and status != "ok",
        "loaded_symbols": status == "ok",
        "corrupt_symbols": status == "symbol_malformed",
    }


def _lsb_release(lsb: LinuxLsbRelease | None) -> dict[str, Any] | None:
    if lsb is None:
        return None
    return {"id": lsb.id, "release": lsb.release, "codename": lsb.codename, "description": lsb.description}


def _mac_crash_info(info: MacCrashInfo | None) -> dict[str, Any] | None:
    if info is None:
        return None
    return {
        "num_records": len(info.records),
        "records": [
            {
                "thread": r.thread,
                "dialog_mode": r.dialog_mode,
                "abort_cause": r.abort_cause,
                "module": r.module_path,
                "message": r.message,
                "signature_string": r.signature_string,
                "backtrace": r.backtrace,
            }
            for r in info.records
        ],
    }
