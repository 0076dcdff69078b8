"""One module per stream kind; every class has a ``STREAM_TYPE`` and ``parse(data, ctx)``."""

from __future__ import annotations

from crashcart.minidump.streams._base import Location, MemoryDescriptor, Stream
from crashcart.minidump.streams.assertion_info import AssertionInfo
from crashcart.minidump.streams.breakpad_info import BreakpadInfo
from crashcart.minidump.streams.crashpad_info import Annotation, CrashpadInfo, ModuleCrashpadInfo
from crashcart.minidump.streams.exception import ExceptionStream
from crashcart.minidump.streams.handle_data import Handle, HandleData
from crashcart.minidump.streams.linux_auxv import LinuxAuxv
from crashcart.minidump.streams.linux_cmd_line import LinuxCmdLine
from crashcart.minidump.streams.linux_cpu_info import LinuxCpuInfo
from crashcart.minidump.streams.linux_dso_debug import LinkMap, LinuxDsoDebug
from crashcart.minidump.streams.linux_environ import LinuxEnviron
from crashcart.minidump.streams.linux_lsb_release import LinuxLsbRelease
from crashcart.minidump.streams.linux_maps import LinuxMaps, MapEntry
from crashcart.minidump.streams.linux_proc_status import LinuxProcStatus
from crashcart.minidump.streams.mac_boot_args import MacBootArgs
from crashcart.minidump.streams.mac_crash_info import MacCrashInfo, MacCrashInfoRecord
from crashcart.minidump.streams.memory64_list import Memory64List
from crashcart.minidump.streams.memory_info_list import MemoryInfo, MemoryInfoList
from crashcart.minidump.streams.memory_list import MemoryList
from crashcart.minidump.streams.misc_info import MiscInfo, SystemTime, TimeZone, XStateConfig, XStateFeature
from crashcart.minidump.streams.module_list import (
    CodeView,
    CodeViewElf,
    CodeViewPdb20,
    CodeViewPdb70,
    CodeViewUnknown,
    Module,
    ModuleList,
    VersionInfo,
)
from crashcart.minidump.streams.system_info import SystemInfo
from crashcart.minidump.streams.thread_list import Thread, ThreadList
from crashcart.minidump.streams.thread_names import ThreadName, ThreadNames
from crashcart.minidump.streams.unloaded_modules import UnloadedModule, UnloadedModuleList

#: Every stream class the reader knows, by stream type.
STREAM_CLASSES: dict[int, type[Stream]] = {
    cls.STREAM_TYPE: cls
    for cls in (
        ThreadList,
        ThreadNames,
        ModuleList,
        UnloadedModuleList,
        MemoryList,
        Memory64List,
        MemoryInfoList,
        ExceptionStream,
        SystemInfo,
        MiscInfo,
        AssertionInfo,
        BreakpadInfo,
        CrashpadInfo,
        LinuxCpuInfo,
        LinuxProcStatus,
        LinuxLsbRelease,
        LinuxCmdLine,
        LinuxEnviron,
        LinuxAuxv,
        LinuxMaps,
        LinuxDsoDebug,
        MacCrashInfo,
        MacBootArgs,
        HandleData,
    )
}

__all__ = [
    "STREAM_CLASSES",
    "Annotation",
    "AssertionInfo",
    "BreakpadInfo",
    "CodeView",
    "CodeViewElf",
    "CodeViewPdb20",
    "CodeViewPdb70",
    "CodeViewUnknown",
    "CrashpadInfo",
    "ExceptionStream",
    "Handle",
    "HandleData",
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
    "MiscInfo",
    "Module",
    "ModuleCrashpadInfo",
    "ModuleList",
    "Stream",
    "SystemInfo",
    "SystemTime",
    "Thread",
    "ThreadList",
    "ThreadName",
    "ThreadNames",
    "TimeZone",
    "UnloadedModule",
    "UnloadedModuleList",
    "VersionInfo",
    "XStateConfig",
    "XStateFeature",
]
