"""Raw minidump layouts: precompiled little-endian structs, sizes and constants.

Nothing here interprets data; the stream modules do. Sources for the layouts (facts only): Microsoft's
``minidumpapiset.h``, Breakpad's ``minidump_format.h`` / ``minidump_cpu_*.h`` / ``minidump_exception_*.h``,
Crashpad's ``minidump_extensions.h`` and rust-minidump's ``minidump-common/src/format.rs``.

Folklore kept here on purpose:

* Windows declares these structs with 4-byte packing, so a ``u64`` may sit at an offset that is not a multiple
  of 8 (``MINIDUMP_MODULE.Reserved0`` at 92, ``MINIDUMP_THREAD_NAME.RvaOfThreadName`` at 4). All formats below
  use ``<`` (no padding); where a writer *did* pad (the Linux DSO debug records) the stream module says so.
* Some writers pad the thread, module and memory list headers to 8 bytes (4 unused bytes after the count).
  Readers accept a stream exactly 4 bytes longer than ``4 + count * entry_size`` (Breakpad does the same).
"""

from __future__ import annotations

import struct
from enum import IntEnum

# --- header and directory -------------------------------------------------------------------------------

#: ``MDMP`` read as a little-endian u32.
SIGNATURE = 0x504D444D
#: ``PMDM``: the same signature written by a big-endian machine.
SIGNATURE_SWAPPED = 0x4D444D50
#: The low 16 bits of ``MINIDUMP_HEADER.Version``; the high 16 bits are implementation-specific.
HEADER_VERSION = 0xA793

#: MINIDUMP_HEADER: Signature, Version, NumberOfStreams, StreamDirectoryRva, CheckSum, TimeDateStamp, Flags.
HEADER = struct.Struct("<IIIIIIQ")
#: MINIDUMP_DIRECTORY: StreamType, then a location descriptor (DataSize, Rva).
DIRECTORY_ENTRY = struct.Struct("<III")
#: MINIDUMP_LOCATION_DESCRIPTOR: DataSize, Rva.
LOCATION = struct.Struct("<II")
#: MINIDUMP_MEMORY_DESCRIPTOR: StartOfMemoryRange, then a location descriptor.
MEMORY_DESCRIPTOR = struct.Struct("<QII")
#: MINIDUMP_MEMORY_DESCRIPTOR64: StartOfMemoryRange, DataSize.
MEMORY_DESCRIPTOR64 = struct.Struct("<QQ")
#: A u32 (list counts, string lengths, RVAs).
U32 = struct.Struct("<I")
#: A u64.
U64 = struct.Struct("<Q")
#: A u16.
U16 = struct.Struct("<H")


class StreamType(IntEnum):
    """MINIDUMP_STREAM_TYPE values, with the Breakpad (``Gg``), Crashpad (``CP``), Chromium and Mozilla
    (``Mz``) extensions."""

    UNUSED = 0
    RESERVED_0 = 1
    RESERVED_1 = 2
    THREAD_LIST = 3
    MODULE_LIST = 4
    MEMORY_LIST = 5
    EXCEPTION = 6
    SYSTEM_INFO = 7
    THREAD_EX_LIST = 8
    MEMORY64_LIST = 9
    COMMENT_A = 10
    COMMENT_W = 11
    HANDLE_DATA = 12
    FUNCTION_TABLE = 13
    UNLOADED_MODULE_LIST = 14
    MISC_INFO = 15
    MEMORY_INFO_LIST = 16
    THREAD_INFO_LIST = 17
    HANDLE_OPERATION_LIST = 18
    TOKEN = 19
    JAVASCRIPT_DATA = 20
    SYSTEM_MEMORY_INFO = 21
    PROCESS_VM_COUNTERS = 22
    IPT_TRACE = 23
    THREAD_NAMES = 24
    LAST_RESERVED = 0x0000FFFF
    BREAKPAD_INFO = 0x47670001
    ASSERTION_INFO = 0x47670002
    LINUX_CPU_INFO = 0x47670003
    LINUX_PROC_STATUS = 0x47670004
    LINUX_LSB_RELEASE = 0x47670005
    LINUX_CMD_LINE = 0x47670006
    LINUX_ENVIRON = 0x47670007
    LINUX_AUXV = 0x47670008
    LINUX_MAPS = 0x47670009
    LINUX_DSO_DEBUG = 0x4767000A
    CRASHPAD_INFO = 0x43500001
    CHROMIUM_STABILITY_REPORT = 0x4B6B0002
    MOZ_MACOS_CRASH_INFO = 0x4D7A0001
    MOZ_MACOS_BOOTARGS = 0x4D7A0002
    MOZ_LINUX_LIMITS = 0x4D7A0003
    MOZ_SOFT_ERRORS = 0x4D7A0004


def stream_type_name(stream_type: int) -> str:
    """``THREAD_LIST`` for 3, ``0x12345678`` for an unknown type."""
    try:
        return StreamType(stream_type).name
    except ValueError:
        return f"0x{stream_type:08x}"


# --- system info ----------------------------------------------------------------------------------------


class CpuArchitecture(IntEnum):
    """MINIDUMP_SYSTEM_INFO.ProcessorArchitecture (PROCESSOR_ARCHITECTURE_* plus Breakpad's values)."""

    X86 = 0
    MIPS = 1
    ALPHA = 2
    PPC = 3
    SHX = 4
    ARM = 5
    IA64 = 6
    ALPHA64 = 7
    MSIL = 8
    AMD64 = 9
    X86_WIN64 = 10
    ARM64 = 12
    SPARC = 0x8001
    PPC64 = 0x8002
    ARM64_OLD = 0x8003
    MIPS64 = 0x8004
    RISCV = 0x8005
    RISCV64 = 0x8006
    UNKNOWN = 0xFFFF


class PlatformId(IntEnum):
    """MINIDUMP_SYSTEM_INFO.PlatformId (VER_PLATFORM_* plus Breakpad's values)."""

    WIN32S = 0
    WIN32_WINDOWS = 1
    WIN32_NT = 2
    WIN32_CE = 3
    UNIX = 0x8000
    MAC_OS_X = 0x8101
    IOS = 0x8102
    LINUX = 0x8201
    SOLARIS = 0x8202
    ANDROID = 0x8203
    PS3 = 0x8204
    NACL = 0x8205
    FUCHSIA = 0x8206


#: MINIDUMP_SYSTEM_INFO: ProcessorArchitecture, ProcessorLevel, ProcessorRevision, NumberOfProcessors,
#: ProductType, MajorVersion, MinorVersion, BuildNumber, PlatformId, CSDVersionRva, SuiteMask, Reserved2,
#: then the 24-byte CPU_INFORMATION union (read separately).
SYSTEM_INFO = struct.Struct("<HHHBBIIIIIHH")
SYSTEM_INFO_SIZE = SYSTEM_INFO.size + 24  # 56
#: CPU_INFORMATION for x86: VendorId[3], VersionInformation, FeatureInformation, AMDExtendedCpuFeatures.
CPU_INFO_X86 = struct.Struct("<IIIIII")
#: CPU_INFORMATION for ARM (Breakpad): cpuid, elf_hwcaps.
CPU_INFO_ARM = struct.Struct("<II")
#: CPU_INFORMATION otherwise: ProcessorFeatures[2].
CPU_INFO_OTHER = struct.Struct("<QQ")

# --- threads, modules, memory ---------------------------------------------------------------------------

#: MINIDUMP_THREAD: ThreadId, SuspendCount, PriorityClass, Priority, Teb, Stack (memory descriptor),
#: ThreadContext (location).
THREAD = struct.Struct("<IIIIQQIIII")
#: MINIDUMP_THREAD_NAME: ThreadId, RvaOfThreadName (RVA64).
THREAD_NAME = struct.Struct("<IQ")
#: VS_FIXEDFILEINFO: 13 u32s (signature, struct version, file version hi/lo, product version hi/lo, flags
#: mask, flags, OS, type, subtype, date hi/lo).
FIXED_FILE_INFO = struct.Struct("<13I")
VS_FFI_SIGNATURE = 0xFEEF04BD
VS_FFI_STRUCVERSION = 0x00010000
#: MINIDUMP_MODULE: BaseOfImage, SizeOfImage, CheckSum, TimeDateStamp, ModuleNameRva, VS_FIXEDFILEINFO,
#: CvRecord (location), MiscRecord (location), Reserved0, Reserved1.
MODULE = struct.Struct("<QIIII13IIIIIQQ")
MODULE_SIZE = 108
#: MINIDUMP_UNLOADED_MODULE_LIST header: SizeOfHeader, SizeOfEntry, NumberOfEntries.
UNLOADED_MODULE_LIST = struct.Struct("<III")
#: MINIDUMP_UNLOADED_MODULE: BaseOfImage, SizeOfImage, CheckSum, TimeDateStamp, ModuleNameRva.
UNLOADED_MODULE = struct.Struct("<QIIII")
#: MINIDUMP_MEMORY64_LIST header: NumberOfMemoryRanges, BaseRva.
MEMORY64_LIST = struct.Struct("<QQ")
#: MINIDUMP_MEMORY_INFO_LIST header: SizeOfHeader, SizeOfEntry, NumberOfEntries.
MEMORY_INFO_LIST = struct.Struct("<IIQ")
#: MINIDUMP_MEMORY_INFO: BaseAddress, AllocationBase, AllocationProtect, __alignment1, RegionSize, State,
#: Protect, Type, __alignment2.
MEMORY_INFO = struct.Struct("<QQIIQIIII")

# CodeView record signatures (first u32 of MINIDUMP_MODULE.CvRecord).
CV_SIGNATURE_PDB70 = 0x53445352  # "RSDS"
CV_SIGNATURE_PDB20 = 0x3031424E  # "NB10"
CV_SIGNATURE_ELF = 0x4270454C  # "BpEL" (Breakpad's ELF build id record)
#: CV_INFO_PDB70 before the name: CvSignature, GUID (data1, data2, data3, data4[8]), Age.
CV_PDB70 = struct.Struct("<IIHH8sI")
#: CV_INFO_PDB20 before the name: CvSignature, Offset, Signature, Age.
CV_PDB20 = struct.Struct("<IIII")
#: IMAGE_DEBUG_MISC before the data: DataType, Length, Unicode, Reserved[3].
IMAGE_DEBUG_MISC = struct.Struct("<IIB3s")
#: A GUID: data1, data2, data3, data4[8].
GUID = struct.Struct("<IHH8s")

# --- exception ------------------------------------------------------------------------------------------

EXCEPTION_MAXIMUM_PARAMETERS = 15
#: MINIDUMP_EXCEPTION_STREAM: ThreadId, __alignment, then MINIDUMP_EXCEPTION (ExceptionCode,
#: ExceptionFlags, ExceptionRecord, ExceptionAddress, NumberParameters, __unusedAlignment,
#: ExceptionInformation[15]), then ThreadContext (location).
EXCEPTION_STREAM = struct.Struct("<IIIIQQII15QII")

# --- misc info ------------------------------------------------------------------------------------------

#: MINIDUMP_MISC_INFO: SizeOfInfo, Flags1, ProcessId, ProcessCreateTime, ProcessUserTime, ProcessKernelTime.
MISC_INFO_1 = struct.Struct("<6I")
#: MINIDUMP_MISC_INFO_2 adds ProcessorMaxMhz, ProcessorCurrentMhz, ProcessorMhzLimit, ProcessorMaxIdleState,
#: ProcessorCurrentIdleState.
MISC_INFO_2_EXTRA = struct.Struct("<5I")
#: MINIDUMP_MISC_INFO_3 adds ProcessIntegrityLevel, ProcessExecuteFlags, ProtectedProcess, TimeZoneId, then
#: TIME_ZONE_INFORMATION.
MISC_INFO_3_EXTRA = struct.Struct("<4I")
#: TIME_ZONE_INFORMATION: Bias, StandardName[32] (UTF-16), StandardDate (SYSTEMTIME), StandardBias,
#: DaylightName[32], DaylightDate, DaylightBias.
TIME_ZONE_INFORMATION = struct.Struct("<i64s8Hi64s8Hi")
#: SYSTEMTIME: year, month, day of week, day, hour, minute, second, milliseconds.
SYSTEMTIME_FIELDS = 8
#: MINIDUMP_MISC_INFO_4 adds BuildString[260] and DbgBldStr[40] (UTF-16).
MISC_INFO_4_EXTRA = struct.Struct("<520s80s")
#: MINIDUMP_MISC_INFO_5 adds XSTATE_CONFIG_FEATURE_MSC_INFO (SizeOfInfo, ContextSize, EnabledFeatures,
#: Features[64] of (Offset, Size)), then ProcessCookie.
XSTATE_CONFIG_HEADER = struct.Struct("<IIQ")
XSTATE_FEATURE = struct.Struct("<II")
XSTATE_MAX_FEATURES = 64
MISC_INFO_1_SIZE = 24
MISC_INFO_2_SIZE = 44
MISC_INFO_3_SIZE = 232
MISC_INFO_4_SIZE = 832
MISC_INFO_5_SIZE = 1364

MISC_FLAGS1_PROCESS_ID = 0x00000001
MISC_FLAGS1_PROCESS_TIMES = 0x00000002
MISC_FLAGS1_PROCESSOR_POWER_INFO = 0x00000004
MISC_FLAGS1_PROCESS_INTEGRITY = 0x00000010
MISC_FLAGS1_PROCESS_EXECUTE_FLAGS = 0x00000020
MISC_FLAGS1_TIMEZONE = 0x00000040
MISC_FLAGS1_PROTECTED_PROCESS = 0x00000080
MISC_FLAGS1_BUILDSTRING = 0x00000100
MISC_FLAGS1_PROCESS_COOKIE = 0x00000200

# --- Breakpad extensions --------------------------------------------------------------------------------

#: MDRawBreakpadInfo: validity, dump_thread_id, requesting_thread_id.
BREAKPAD_INFO = struct.Struct("<III")
BREAKPAD_INFO_VALID_DUMP_THREAD_ID = 1 << 0
BREAKPAD_INFO_VALID_REQUESTING_THREAD_ID = 1 << 1
#: MDRawAssertionInfo: expression[128], function[128], file[128] (UTF-16), line, type.
ASSERTION_INFO = struct.Struct("<256s256s256sII")
ASSERTION_TYPE_UNKNOWN = 0
ASSERTION_TYPE_INVALID_PARAMETER = 1
ASSERTION_TYPE_PURE_VIRTUAL_CALL = 2
#: MDRawDebug32: version, map (RVA), dso_count, brk, ldbase, dynamic.
DSO_DEBUG_32 = struct.Struct("<6I")
#: MDRawLinkMap32: addr, name (RVA), ld.
LINK_MAP_32 = struct.Struct("<III")
#: MDRawDebug64 as Breakpad's Linux writer lays it out (natural alignment: 4 bytes of padding after
#: dso_count): version, map, dso_count, pad, brk, ldbase, dynamic.
DSO_DEBUG_64 = struct.Struct("<IIIIQQQ")
#: MDRawLinkMap64 with natural alignment: addr, name (RVA), pad, ld.
LINK_MAP_64 = struct.Struct("<QIIQ")
#: The packed variants (no padding), used only when a stream is too short for the padded record.
DSO_DEBUG_64_PACKED = struct.Struct("<IIIQQQ")
LINK_MAP_64_PACKED = struct.Struct("<QIQ")

# --- Crashpad extensions --------------------------------------------------------------------------------

#: MinidumpCrashpadInfo: version, report_id (GUID), client_id (GUID), simple_annotations (location),
#: module_list (location); version ≥ 1 may be followed by reserved u32 and address_mask u64.
CRASHPAD_INFO = struct.Struct("<I16s16sIIII")
CRASHPAD_INFO_ADDRESS_MASK = struct.Struct("<IQ")
#: MinidumpSimpleStringDictionaryEntry: key (RVA), value (RVA).
SIMPLE_STRING_DICTIONARY_ENTRY = struct.Struct("<II")
#: MinidumpModuleCrashpadInfoLink: minidump_module_list_index, location.
MODULE_CRASHPAD_INFO_LINK = struct.Struct("<III")
#: MinidumpModuleCrashpadInfo: version, list_annotations, simple_annotations, annotation_objects (locations).
MODULE_CRASHPAD_INFO = struct.Struct("<IIIIIII")
#: MinidumpAnnotation: name (RVA), type, reserved, value (RVA of a MinidumpByteArray).
ANNOTATION = struct.Struct("<IHHI")
ANNOTATION_TYPE_INVALID = 0
ANNOTATION_TYPE_STRING = 1
ANNOTATION_TYPE_USER_DEFINED = 0x8000

# --- Mozilla macOS extensions ---------------------------------------------------------------------------

MAC_CRASH_INFO_MAX_RECORDS = 20
#: MINIDUMP_MAC_CRASH_INFO: stream_type, record_count, record_start_size, then 20 locations.
MAC_CRASH_INFO = struct.Struct("<III")
#: Record fields by version: v1 stream_type, version; v4 adds thread, dialog_mode; v5 adds abort_cause.
MAC_CRASH_INFO_RECORD_1 = struct.Struct("<QQ")
MAC_CRASH_INFO_RECORD_4 = struct.Struct("<QQQQ")
MAC_CRASH_INFO_RECORD_5 = struct.Struct("<QQQQQ")
#: Strings after the fixed part (v4+): module_path, message, signature_string, backtrace, message2.
MAC_CRASH_INFO_STRINGS = ("module_path", "message", "signature_string", "backtrace", "message2")
MAC_CRASH_INFO_STRING_MAX = 8192
#: MINIDUMP_MAC_BOOTARGS: stream_type, bootargs (RVA64 of a MINIDUMP_STRING).
MAC_BOOTARGS = struct.Struct("<IQ")

# --- handle data ----------------------------------------------------------------------------------------

#: MINIDUMP_HANDLE_DATA_STREAM: SizeOfHeader, SizeOfDescriptor, NumberOfDescriptors, Reserved.
HANDLE_DATA = struct.Struct("<IIII")
#: MINIDUMP_HANDLE_DESCRIPTOR: Handle, TypeNameRva, ObjectNameRva, Attributes, GrantedAccess, HandleCount,
#: PointerCount.
HANDLE_DESCRIPTOR = struct.Struct("<QIIIIII")
#: MINIDUMP_HANDLE_DESCRIPTOR_2 adds ObjectInfoRva, Reserved0.
HANDLE_DESCRIPTOR_2 = struct.Struct("<QIIIIIIII")

# --- CPU contexts ---------------------------------------------------------------------------------------

#: The CPU bits of ``context_flags`` (the low byte holds the register-group bits).
CONTEXT_CPU_MASK = 0xFFFFFF00
CONTEXT_X86 = 0x00010000
CONTEXT_AMD64 = 0x00100000
CONTEXT_ARM = 0x40000000
CONTEXT_ARM64 = 0x00400000
CONTEXT_ARM64_OLD = 0x80000000
#: Windows CE's ARM flag, which collides with x86's XSTATE bit; only meaningful when no CPU bit is set.
CONTEXT_ARM_OLD = 0x00000040
CONTEXT_PPC = 0x20000000
CONTEXT_PPC64 = 0x01000000
CONTEXT_SPARC = 0x10000000
CONTEXT_MIPS = 0x00040000
CONTEXT_MIPS64 = 0x00080000
CONTEXT_RISCV = 0x00800000
CONTEXT_RISCV64 = 0x08000000

# Register-group bits (combined with the CPU bit).
CONTEXT_GROUP_CONTROL = 0x01
CONTEXT_GROUP_INTEGER = 0x02
CONTEXT_GROUP_SEGMENTS = 0x04  # x86/amd64; "floating point" on ARM
CONTEXT_GROUP_FLOATING_POINT = 0x08  # x86/amd64
CONTEXT_GROUP_DEBUG = 0x10  # x86/amd64
CONTEXT_GROUP_EXTENDED = 0x20  # x86 extended registers
CONTEXT_GROUP_XSTATE = 0x40  # x86/amd64 XSAVE area follows

CONTEXT_X86_SIZE = 716
CONTEXT_AMD64_SIZE = 1232
CONTEXT_ARM_SIZE = 368
CONTEXT_ARM64_SIZE = 912
CONTEXT_ARM64_OLD_SIZE = 796
#: The largest XSAVE area accepted after an amd64/x86 context (Breakpad's kMaxXSaveAreaSize is 16 KiB).
CONTEXT_MAX_XSTATE_SIZE = 16 * 1024

#: x86 CONTEXT up to the extended registers: ContextFlags, Dr0-3, Dr6, Dr7, FLOATING_SAVE_AREA (7 u32,
#: 80 bytes of x87 registers, Cr0NpxState), Gs, Fs, Es, Ds, Edi, Esi, Ebx, Edx, Ecx, Eax, Ebp, Eip, SegCs,
#: EFlags, Esp, SegSs; then 512 bytes of extended (FXSAVE) registers.
CONTEXT_X86_STRUCT = struct.Struct("<7I7I80sI16I512s")
#: amd64 CONTEXT: P1Home-P6Home, ContextFlags, MxCsr, SegCs, SegDs, SegEs, SegFs, SegGs, SegSs, EFlags,
#: Dr0-3, Dr6, Dr7, Rax, Rcx, Rdx, Rbx, Rsp, Rbp, Rsi, Rdi, R8-R15, Rip, then the 512-byte FltSave
#: (XMM_SAVE_AREA32), VectorRegister[26] (16 bytes each), VectorControl, DebugControl, LastBranchToRip,
#: LastBranchFromRip, LastExceptionToRip, LastExceptionFromRip.
CONTEXT_AMD64_STRUCT = struct.Struct("<6QII6HI6Q17Q512s416s6Q")
#: ARM CONTEXT (Breakpad layout): context_flags, iregs[16] (r0-r12, sp, lr, pc), cpsr, then the VFP area
#: (fpscr u64, d0-d31, extra[8] u32).
CONTEXT_ARM_STRUCT = struct.Struct("<I16IIQ32Q8I")
#: ARM64 CONTEXT (Windows/Crashpad layout): ContextFlags, Cpsr, X0-X28, Fp, Lr, Sp, Pc, V[32] (16 bytes
#: each), Fpcr, Fpsr, Bcr[8], Bvr[8], Wcr[2], Wvr[2].
CONTEXT_ARM64_STRUCT = struct.Struct("<II33Q512sII8I8Q2I2Q")
#: Breakpad's old ARM64 layout: context_flags (u64), iregs[33] (x0-x28, fp, lr, sp, pc), cpsr, fpsr, fpcr,
#: regs[32] (16 bytes each), packed to 4 bytes.
CONTEXT_ARM64_OLD_STRUCT = struct.Struct("<Q33QIII512s")

assert CONTEXT_X86_STRUCT.size == CONTEXT_X86_SIZE
assert CONTEXT_AMD64_STRUCT.size == CONTEXT_AMD64_SIZE
assert CONTEXT_ARM_STRUCT.size == CONTEXT_ARM_SIZE
assert CONTEXT_ARM64_STRUCT.size == CONTEXT_ARM64_SIZE
assert CONTEXT_ARM64_OLD_STRUCT.size == CONTEXT_ARM64_OLD_SIZE
assert MODULE.size == MODULE_SIZE
assert THREAD.size == 48
assert EXCEPTION_STREAM.size == 168
assert MEMORY_INFO.size == 48
assert TIME_ZONE_INFORMATION.size == 172
assert SYSTEM_INFO_SIZE == 56
