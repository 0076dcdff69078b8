"""Crashcart's minidump reader.

    with Minidump.from_path("crash.dmp") as dump:
        reason = dump.crash_reason()                 # CrashReason | None
        modules = dump.get_stream(ModuleList)        # ModuleList | None (missing or corrupt)
        for thread in dump.get_stream(ThreadList).threads:
            regs = thread.context                    # CpuContext | None, parsed on first access
            stack = dump.thread_stack(thread)        # MemoryRegion | None
        dump.notes                                   # what was corrupt, and where

Any byte string gives a :class:`Minidump` or a :class:`MinidumpError`; see ``docs/minidump.md``.
"""

from __future__ import annotations

from crashcart.minidump._parse import Note
from crashcart.minidump.contexts import ContextAmd64, ContextArm, ContextArm64, ContextX86, CpuContext, parse_context
from crashcart.minidump.errors import ERROR_CODES, MinidumpError
from crashcart.minidump.format import CpuArchitecture, PlatformId, StreamType
from crashcart.minidump.reader import DirectoryEntry, Header, MemoryRegion, Minidump
from crashcart.minidump.reason import CrashReason, crash_reason
from crashcart.minidump.streams import (
    STREAM_CLASSES,
    Annotation,
    AssertionInfo,
    BreakpadInfo,
    CodeView,
    CodeViewElf,
    CodeViewPdb20,
    CodeViewPdb70,
    CodeViewUnknown,
    CrashpadInfo,
    ExceptionStream,
    Handle,
    HandleData,
    LinkMap,
    LinuxAuxv,
    LinuxCmdLine,
    LinuxCpuInfo,
    LinuxDsoDebug,
    LinuxEnviron,
    LinuxLsbRelease,
    LinuxMaps,
    LinuxProcStatus,
    Location,
    MacBootArgs,
    MacCrashInfo,
    MacCrashInfoRecord,
    MapEntry,
    Memory64List,
    MemoryDescriptor,
    MemoryInfo,
    MemoryInfoList,
    MemoryList,
    MiscInfo,
    Module,
    ModuleCrashpadInfo,
    ModuleList,
    Stream,
    SystemInfo,
    Thread,
    ThreadList,
    ThreadName,
    ThreadNames,
    UnloadedModule,
    UnloadedModuleList,
    VersionInfo,
)

__all__ = [
    "ERROR_CODES",
    "STREAM_CLASSES",
    "Annotation",
    "AssertionInfo",
    "BreakpadInfo",
    "CodeView",
    "CodeViewElf",
    "CodeViewPdb20",
    "CodeViewPdb70",
    "CodeViewUnknown",
    "ContextAmd64",
    "ContextArm",
    "ContextArm64",
    "ContextX86",
    "CpuArchitecture",
    "CpuContext",
    "CrashReason",
    "CrashpadInfo",
    "DirectoryEntry",
    "ExceptionStream",
    "Handle",
    "HandleData",
    "Header",
    "LinkMap",
    "LinuxAuxv",
    "LinuxCmdLine",
    "LinuxCpuInfo",
    "LinuxDsoDebug",
    "LinuxEnviron",
    "LinuxLsbRelease",
    "LinuxMaps",
    "LinuxProcStatus",
    "Location",
    "MacBootArgs",
    "MacCrashInfo",
    "MacCrashInfoRecord",
    "MapEntry",
    "Memory64List",
    "MemoryDescriptor",
    "MemoryInfo",
    "MemoryInfoList",
    "MemoryList",
    "MemoryRegion",
    "Minidump",
    "MinidumpError",
    "MiscInfo",
    "Module",
    "ModuleCrashpadInfo",
    "ModuleList",
    "Note",
    "PlatformId",
    "Stream",
    "StreamType",
    "SystemInfo",
    "Thread",
    "ThreadList",
    "ThreadName",
    "ThreadNames",
    "UnloadedModule",
    "UnloadedModuleList",
    "VersionInfo",
    "crash_reason",
    "parse_context",
]
