"""Read Google Breakpad's ``minidump_stackwalk -m`` output, and render ours in the same terms, to compare."""

from __future__ import annotations

from dataclasses import dataclass, field

from crashcart.minidump import BreakpadInfo, Minidump, ModuleList, SystemInfo, ThreadList


@dataclass(frozen=True)
class ModuleLine:
    """One ``Module|code file|version|debug file|debug id|base|last|main`` line."""

    filename: str
    version: str
    debug_filename: str
    debug_id: str
    base: int
    last: int
    main: bool


@dataclass
class Reference:
    os: str | None = None
    os_version: str | None = None
    cpu: str | None = None
    cpu_info: str | None = None
    cpu_count: int | None = None
    #: ``No crash`` when Breakpad found no exception stream.
    crash_reason: str | None = None
    crash_address: int | None = None
    crashing_thread: int | None = None
    modules: list[ModuleLine] = field(default_factory=list)
    #: Thread indices that have at least one frame line.
    threads_with_frames: set[int] = field(default_factory=set)


def parse(text: str) -> Reference:
    ref = Reference()
    for line in text.splitlines():
        parts = line.split("|")
        if parts[0] == "OS":
            ref.os, ref.os_version = parts[1], parts[2]
        elif parts[0] == "CPU":
            ref.cpu, ref.cpu_info, ref.cpu_count = parts[1], parts[2], int(parts[3])
        elif parts[0] == "Crash":
            ref.crash_reason = parts[1]
            ref.crash_address = int(parts[2], 16) if parts[2] else None
            ref.crashing_thread = int(parts[3]) if parts[3] else None
        elif parts[0] == "Module":
            name, version, debug_file, debug_id, base, last, main = parts[1:8]
            ref.modules.append(
                ModuleLine(name, version, debug_file, debug_id, int(base, 16), int(last, 16), main == "1")
            )
        elif parts[0].isdigit() and len(parts) == 7:
            ref.threads_with_frames.add(int(parts[0]))
    return ref


def _strip(text: str) -> str:
    return text.replace("|", "")  # Breakpad removes the separator from every field


def ours(dump: Minidump) -> Reference:
    """Our reading of a dump, in the reference's terms."""
    ref = Reference()
    info = dump.get_stream(SystemInfo)
    if info is not None:
        ref.os, ref.os_version = info.os, _strip(info.os_version)
        ref.cpu, ref.cpu_info, ref.cpu_count = info.cpu, info.cpu_info, info.number_of_processors
    reason = dump.crash_reason()
    ref.crash_reason = "No crash" if reason is None else reason.reason
    ref.crash_address = None if reason is None else reason.address
    ref.crashing_thread = dump.requesting_thread_index()
    modules = dump.get_stream(ModuleList)
    if modules is not None:
        ref.modules = [
            ModuleLine(
                _strip(m.filename),
                m.version or "",
                _strip(m.debug_filename),
                m.debug_id,
                m.base_address,
                m.end_address - 1,
                m.index == 0,
            )
            for m in modules.by_address()
        ]
    threads = dump.get_stream(ThreadList)
    return ref if threads is None else _with_threads(ref, dump, threads)


def _with_threads(ref: Reference, dump: Minidump, threads: ThreadList) -> Reference:
    info = dump.get_stream(BreakpadInfo)
    dump_thread = None if info is None else info.dump_thread_id
    processed = [t for t in threads.threads if dump_thread is None or t.thread_id != dump_thread]
    ref.threads_with_frames = {i for i, t in enumerate(processed) if t.context is not None}
    return ref
