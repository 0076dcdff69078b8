"""Crash reason and crash address, named exactly as Google Breakpad's ``minidump_stackwalk`` names them.

The reference is Breakpad's ``MinidumpProcessor::GetCrashReason`` (as of mid-2023, the build the corpus
references were produced with), plus the five ``SEGV_*`` codes Breakpad added right after it. The name
depends on the OS (from the system info), the exception code, the exception flags and, for some Windows
codes, the exception parameters:

* Windows: ``EXCEPTION_ACCESS_VIOLATION_READ/WRITE/EXEC`` (parameter 0 is 0/1/8; the address becomes
  parameter 1, the data address), ``EXCEPTION_IN_PAGE_ERROR_*`` (with `` / <NTSTATUS>`` from parameter 2),
  ``FAST_FAIL_*`` for ``STATUS_STACK_BUFFER_OVERRUN`` with a fast-fail code in parameter 0, and the other
  ``EXCEPTION_*`` names.
* Linux/Android: the signal, and for SIGILL/SIGBUS/SIGFPE/SIGSEGV the ``si_code`` (``SIGSEGV /SEGV_MAPERR``:
  Breakpad puts no space after the slash for SIGSEGV only; ``SIGILL / ILL_ILLOPN`` has one). Unknown codes
  print as ``0x%08x``.
* macOS/iOS: the Mach exception and its code (``EXC_BAD_ACCESS / KERN_INVALID_ADDRESS``), CPU-specific
  codes for ``EXC_BAD_INSTRUCTION``, ``EXC_ARITHMETIC`` and ``EXC_BREAKPOINT``.
* Anything unknown (or no system info): ``0x%08x / 0x%08x`` of code and flags.

The crash address is ``ExceptionAddress`` (except access violations and in-page errors, see above), cut to
32 bits on 32-bit CPUs (x86, ARM, MIPS, PPC, SuperH, WoW64).
"""

from __future__ import annotations

from dataclasses import dataclass

from crashcart.minidump.format import CpuArchitecture, PlatformId
from crashcart.minidump.streams.exception import ExceptionStream
from crashcart.minidump.streams.system_info import SystemInfo


@dataclass(frozen=True)
class CrashReason:
    """Why and where the process crashed."""

    #: Breakpad's crash reason (``EXCEPTION_ACCESS_VIOLATION_WRITE``, ``SIGSEGV /SEGV_MAPERR``, …).
    reason: str
    #: The crash address Breakpad reports.
    address: int
    #: OS id of the thread that crashed (the exception stream's thread).
    thread_id: int
    exception_code: int
    exception_flags: int


# --- Windows ----------------------------------------------------------------------------------------------

WIN_ACCESS_VIOLATION = 0xC0000005
WIN_IN_PAGE_ERROR = 0xC0000006
WIN_STACK_BUFFER_OVERRUN = 0xC0000409

WINDOWS_CODES = {
    0x40010005: "DBG_CONTROL_C",
    0x80000001: "EXCEPTION_GUARD_PAGE",
    0x80000002: "EXCEPTION_DATATYPE_MISALIGNMENT",
    0x80000003: "EXCEPTION_BREAKPOINT",
    0x80000004: "EXCEPTION_SINGLE_STEP",
    0xC0000008: "EXCEPTION_INVALID_HANDLE",
    0xC000001D: "EXCEPTION_ILLEGAL_INSTRUCTION",
    0xC0000025: "EXCEPTION_NONCONTINUABLE_EXCEPTION",
    0xC0000026: "EXCEPTION_INVALID_DISPOSITION",
    0xC000008C: "EXCEPTION_BOUNDS_EXCEEDED",
    0xC000008D: "EXCEPTION_FLT_DENORMAL_OPERAND",
    0xC000008E: "EXCEPTION_FLT_DIVIDE_BY_ZERO",
    0xC000008F: "EXCEPTION_FLT_INEXACT_RESULT",
    0xC0000090: "EXCEPTION_FLT_INVALID_OPERATION",
    0xC0000091: "EXCEPTION_FLT_OVERFLOW",
    0xC0000092: "EXCEPTION_FLT_STACK_CHECK",
    0xC0000093: "EXCEPTION_FLT_UNDERFLOW",
    0xC0000094: "EXCEPTION_INT_DIVIDE_BY_ZERO",
    0xC0000095: "EXCEPTION_INT_OVERFLOW",
    0xC0000096: "EXCEPTION_PRIV_INSTRUCTION",
    0xC00000FD: "EXCEPTION_STACK_OVERFLOW",
    0xC00000FF: "EXCEPTION_BAD_FUNCTION_TABLE",
    0xC0000194: "EXCEPTION_POSSIBLE_DEADLOCK",
    0xC0000374: "EXCEPTION_HEAP_CORRUPTION",
    0xE0000008: "Out of Memory",
    0xE06D7363: "Unhandled C++ Exception",
    0x0517A7ED: "Simulated Exception",
}
#: ``ExceptionInformation[0]`` of access violations and in-page errors.
WINDOWS_ACCESS_TYPES = {0: "READ", 1: "WRITE", 8: "EXEC"}
#: ``__fastfail`` codes (``ExceptionInformation[0]`` of STATUS_STACK_BUFFER_OVERRUN). 0, the legacy /GS
#: violation, is deliberately absent: it reads as EXCEPTION_STACK_BUFFER_OVERRUN.
FAST_FAIL_CODES = {
    1: "VTGUARD_CHECK_FAILURE",
    2: "STACK_COOKIE_CHECK_FAILURE",
    3: "CORRUPT_LIST_ENTRY",
    4: "INCORRECT_STACK",
    5: "INVALID_ARG",
    6: "GS_COOKIE_INIT",
    7: "FATAL_APP_EXIT",
    8: "RANGE_CHECK_FAILURE",
    9: "UNSAFE_REGISTRY_ACCESS",
    10: "GUARD_ICALL_CHECK_FAILURE",
    11: "GUARD_WRITE_CHECK_FAILURE",
    12: "INVALID_FIBER_SWITCH",
    13: "INVALID_SET_OF_CONTEXT",
    14: "INVALID_REFERENCE_COUNT",
    18: "INVALID_JUMP_BUFFER",
    19: "MRDATA_MODIFIED",
    20: "CERTIFICATION_FAILURE",
    21: "INVALID_EXCEPTION_CHAIN",
    22: "CRYPTO_LIBRARY",
    23: "INVALID_CALL_IN_DLL_CALLOUT",
    24: "INVALID_IMAGE_BASE",
    25: "DLOAD_PROTECTION_FAILURE",
    26: "UNSAFE_EXTENSION_CALL",
    27: "DEPRECATED_SERVICE_INVOKED",
    28: "INVALID_BUFFER_ACCESS",
    29: "INVALID_BALANCED_TREE",
    30: "INVALID_NEXT_THREAD",
    31: "GUARD_ICALL_CHECK_SUPPRESSED",
    32: "APCS_DISABLED",
    33: "INVALID_IDLE_STATE",
    34: "MRDATA_PROTECTION_FAILURE",
    35: "UNEXPECTED_HEAP_EXCEPTION",
    36: "INVALID_LOCK_STATE",
    37: "GUARD_JUMPTABLE",
    38: "INVALID_LONGJUMP_TARGET",
    39: "INVALID_DISPATCH_CONTEXT",
    40: "INVALID_THREAD",
    41: "INVALID_SYSCALL_NUMBER",
    42: "INVALID_FILE_OPERATION",
    43: "LPAC_ACCESS_DENIED",
    44: "GUARD_SS_FAILURE",
    45: "LOADER_CONTINUITY_FAILURE",
    46: "GUARD_EXPORT_SUPPRESSION_FAILURE",
    47: "INVALID_CONTROL_STACK",
    48: "SET_CONTEXT_DENIED",
    49: "INVALID_IAT",
    50: "HEAP_METADATA_CORRUPTION",
    51: "PAYLOAD_RESTRICTION_VIOLATION",
    52: "LOW_LABEL_ACCESS_DENIED",
    53: "ENCLAVE_CALL_FAILURE",
    54: "UNHANDLED_LSS_EXCEPTON",  # sic, as Windows and Breakpad spell it
    55: "ADMINLESS_ACCESS_DENIED",
    56: "UNEXPECTED_CALL",
    57: "CONTROL_INVALID_RETURN_ADDRESS",
    58: "UNEXPECTED_HOST_BEHAVIOR",
    59: "FLAGS_CORRUPTION",
    60: "VEH_CORRUPTION",
    61: "ETW_CORRUPTION",
    62: "RIO_ABORT",
    63: "INVALID_PFN",
    64: "GUARD_ICALL_CHECK_FAILURE_XFG",
    65: "CAST_GUARD",
    66: "HOST_VISIBILITY_CHANGE",
    67: "KERNEL_CET_SHADOW_STACK_ASSIST",
    68: "PATCH_CALLBACK_FAILED",
    69: "NTDLL_PATCH_FAILED",
    70: "INVALID_FLS_DATA",
}
#: The NTSTATUS values that commonly explain an in-page error; others print as ``0x%08x``.
NTSTATUS_NAMES = {
    0xC0000005: "STATUS_ACCESS_VIOLATION",
    0xC0000006: "STATUS_IN_PAGE_ERROR",
    0xC0000007: "STATUS_PAGEFILE_QUOTA",
    0xC000000D: "STATUS_INVALID_PARAMETER",
    0xC000000E: "STATUS_NO_SUCH_DEVICE",
    0xC0000010: "STATUS_INVALID_DEVICE_REQUEST",
    0xC0000015: "STATUS_NONEXISTENT_SECTOR",
    0xC0000017: "STATUS_NO_MEMORY",
    0xC0000032: "STATUS_DISK_CORRUPT_ERROR",
    0xC000003F: "STATUS_CRC_ERROR",
    0xC000007F: "STATUS_DISK_FULL",
    0xC0000098: "STATUS_FILE_INVALID",
    0xC000009A: "STATUS_INSUFFICIENT_RESOURCES",
    0xC000009C: "STATUS_DEVICE_DATA_ERROR",
    0xC000009D: "STATUS_DEVICE_NOT_CONNECTED",
    0xC000009E: "STATUS_DEVICE_POWER_FAILURE",
    0xC00000BE: "STATUS_BAD_NETWORK_PATH",
    0xC00000C4: "STATUS_UNEXPECTED_NETWORK_ERROR",
    0xC00000C9: "STATUS_NETWORK_NAME_DELETED",
    0xC0000102: "STATUS_FILE_CORRUPT_ERROR",
    0xC0000123: "STATUS_FILE_DELETED",
    0xC000012D: "STATUS_COMMITMENT_LIMIT",
    0xC0000185: "STATUS_IO_DEVICE_ERROR",
    0xC0000225: "STATUS_NOT_FOUND",
    0xC000026E: "STATUS_VOLUME_DISMOUNTED",
    0xC0000374: "STATUS_HEAP_CORRUPTION",
    0xC0000409: "STATUS_STACK_BUFFER_OVERRUN",
    0xC0000483: "STATUS_DEVICE_HARDWARE_ERROR",
}

# --- Linux ------------------------------------------------------------------------------------------------

LINUX_SIGNALS = {
    1: "SIGHUP",
    2: "SIGINT",
    3: "SIGQUIT",
    4: "SIGILL",
    5: "SIGTRAP",
    6: "SIGABRT",
    7: "SIGBUS",
    8: "SIGFPE",
    9: "SIGKILL",
    10: "SIGUSR1",
    11: "SIGSEGV",
    12: "SIGUSR2",
    13: "SIGPIPE",
    14: "SIGALRM",
    15: "SIGTERM",
    16: "SIGSTKFLT",
    17: "SIGCHLD",
    18: "SIGCONT",
    19: "SIGSTOP",
    20: "SIGTSTP",
    21: "SIGTTIN",
    22: "SIGTTOU",
    23: "SIGURG",
    24: "SIGXCPU",
    25: "SIGXFSZ",
    26: "SIGVTALRM",
    27: "SIGPROF",
    28: "SIGWINCH",
    29: "SIGIO",
    30: "SIGPWR",
    31: "SIGSYS",
    0xFFFFFFFF: "DUMP_REQUESTED",
}
#: ``si_code`` names per signal, and the separator Breakpad puts after the signal name.
LINUX_SI_CODES: dict[int, tuple[str, dict[int, str]]] = {
    4: (
        " / ",
        {
            1: "ILL_ILLOPC",
            2: "ILL_ILLOPN",
            3: "ILL_ILLADR",
            4: "ILL_ILLTRP",
            5: "ILL_PRVOPC",
            6: "ILL_PRVREG",
            7: "ILL_COPROC",
            8: "ILL_BADSTK",
        },
    ),
    7: (" / ", {1: "BUS_ADRALN", 2: "BUS_ADRERR", 3: "BUS_OBJERR", 4: "BUS_MCEERR_AR", 5: "BUS_MCEERR_AO"}),
    8: (
        " / ",
        {
            1: "FPE_INTDIV",
            2: "FPE_INTOVF",
            3: "FPE_FLTDIV",
            4: "FPE_FLTOVF",
            5: "FPE_FLTUND",
            6: "FPE_FLTRES",
            7: "FPE_FLTINV",
            8: "FPE_FLTSUB",
        },
    ),
    11: (
        " /",
        {
            1: "SEGV_MAPERR",
            2: "SEGV_ACCERR",
            3: "SEGV_BNDERR",
            4: "SEGV_PKUERR",
            # Added to Breakpad in July 2023, after the reference build: SPARC ADI and ARM MTE faults.
            5: "SEGV_ACCADI",
            6: "SEGV_ADIDERR",
            7: "SEGV_ADIPERR",
            8: "SEGV_MTEAERR",
            9: "SEGV_MTESERR",
        },
    ),
}

# --- macOS / iOS ------------------------------------------------------------------------------------------

MAC_BAD_ACCESS = 1
MAC_BAD_INSTRUCTION = 2
MAC_ARITHMETIC = 3
MAC_EMULATION = 4
MAC_SOFTWARE = 5
MAC_BREAKPOINT = 6
MAC_SIMULATED = 0x43507378  # Crashpad's simulated exception ("CPsx")
MAC_NS_EXCEPTION_SIMULATED = 0x43506E78  # Crashpad's uncaught-NSException pseudo exception ("CPnx")

MAC_TYPES_FLAGS_ONLY = {
    MAC_EMULATION: "EXC_EMULATION",
    7: "EXC_SYSCALL",
    8: "EXC_MACH_SYSCALL",
    9: "EXC_RPC_ALERT",
    11: "EXC_RESOURCE",
    12: "EXC_GUARD",
}
MAC_KERN_CODES = {
    1: "KERN_INVALID_ADDRESS",
    2: "KERN_PROTECTION_FAILURE",
    8: "KERN_NO_ACCESS",
    9: "KERN_MEMORY_FAILURE",
    10: "KERN_MEMORY_ERROR",
    50: "KERN_CODESIGN_ERROR",
}
_ARM32 = (CpuArchitecture.ARM, CpuArchitecture.ARM64_OLD)
_X86ISH = (CpuArchitecture.X86, CpuArchitecture.AMD64)
_PPC = (CpuArchitecture.PPC,)
#: Code names per (exception type, CPU family); the families are tuples of CPU architectures.
MAC_CPU_CODES: dict[int, list[tuple[tuple[CpuArchitecture, ...], dict[int, str]]]] = {
    MAC_BAD_ACCESS: [
        (_ARM32, {0x0101: "EXC_ARM_DA_ALIGN", 0x0102: "EXC_ARM_DA_DEBUG"}),
        (_PPC, {0x0101: "EXC_PPC_VM_PROT_READ", 0x0102: "EXC_PPC_BADSPACE", 0x0103: "EXC_PPC_UNALIGNED"}),
        (_X86ISH, {13: "EXC_I386_GPFLT"}),
    ],
    MAC_BAD_INSTRUCTION: [
        (_ARM32, {1: "EXC_ARM_UNDEFINED"}),
        (
            _PPC,
            {
                1: "EXC_PPC_INVALID_SYSCALL",
                2: "EXC_PPC_UNIPL_INST",
                3: "EXC_PPC_PRIVINST",
                4: "EXC_PPC_PRIVREG",
                5: "EXC_PPC_TRACE",
                6: "EXC_PPC_PERFMON",
            },
        ),
        (
            _X86ISH,
            {
                1: "EXC_I386_INVOP",
                10: "EXC_I386_INVTSSFLT",
                11: "EXC_I386_SEGNPFLT",
                12: "EXC_I386_STKFLT",
                13: "EXC_I386_GPFLT",
                17: "EXC_I386_ALIGNFLT",
            },
        ),
    ],
    MAC_ARITHMETIC: [
        (
            _PPC,
            {
                1: "EXC_PPC_OVERFLOW",
                2: "EXC_PPC_ZERO_DIVIDE",
                3: "EXC_FLT_INEXACT",
                4: "EXC_PPC_FLT_ZERO_DIVIDE",
                5: "EXC_PPC_FLT_UNDERFLOW",
                6: "EXC_PPC_FLT_OVERFLOW",
                7: "EXC_PPC_FLT_NOT_A_NUMBER",
                8: "EXC_PPC_NOEMULATION",
                9: "EXC_PPC_ALTIVECASSIST",
            },
        ),
        (
            _X86ISH,
            {
                1: "EXC_I386_DIV",
                2: "EXC_I386_INTO",
                3: "EXC_I386_NOEXT",
                4: "EXC_I386_EXTOVR",
                5: "EXC_I386_EXTERR",
                6: "EXC_I386_EMERR",
                7: "EXC_I386_BOUND",
                8: "EXC_I386_SSEEXTERR",
            },
        ),
    ],
    MAC_BREAKPOINT: [
        (_ARM32, {0x0101: "EXC_ARM_DA_ALIGN", 0x0102: "EXC_ARM_DA_DEBUG", 1: "EXC_ARM_BREAKPOINT"}),
        (_PPC, {1: "EXC_PPC_BREAKPOINT"}),
        (_X86ISH, {1: "EXC_I386_SGL", 2: "EXC_I386_BPT"}),
    ],
}
MAC_TYPE_NAMES = {
    MAC_BAD_ACCESS: "EXC_BAD_ACCESS",
    MAC_BAD_INSTRUCTION: "EXC_BAD_INSTRUCTION",
    MAC_ARITHMETIC: "EXC_ARITHMETIC",
    MAC_BREAKPOINT: "EXC_BREAKPOINT",
}
MAC_SOFTWARE_CODES = {
    0x00010002: "SIGABRT",
    0xDEADC0DE: "UNCAUGHT_NS_EXCEPTION",
    0x00000001: "EXC_PPC_TRAP",
    0x00010100: "EXC_PPC_MIGRATE",
}

#: CPUs whose crash addresses Breakpad cuts to 32 bits.
THIRTY_TWO_BIT = {
    CpuArchitecture.X86,
    CpuArchitecture.MIPS,
    CpuArchitecture.PPC,
    CpuArchitecture.SHX,
    CpuArchitecture.ARM,
    CpuArchitecture.X86_WIN64,
}


def _flags_string(flags: int) -> str:
    return f"0x{flags:08x}"


def _windows(exc: ExceptionStream) -> tuple[str | None, int | None]:
    """(reason, replacement address) for a Windows exception; None reason = unknown code."""
    code, params = exc.exception_code, exc.parameters
    if code in (WIN_ACCESS_VIOLATION, WIN_IN_PAGE_ERROR):
        base = "EXCEPTION_ACCESS_VIOLATION" if code == WIN_ACCESS_VIOLATION else "EXCEPTION_IN_PAGE_ERROR"
        kind = WINDOWS_ACCESS_TYPES.get(params[0] & 0xFFFFFFFF) if params else None
        reason = f"{base}_{kind}" if kind else base
        if code == WIN_IN_PAGE_ERROR and len(params) >= 3:
            status = params[2] & 0xFFFFFFFF
            reason += " / " + NTSTATUS_NAMES.get(status, _flags_string(status))
        return reason, params[1] if len(params) >= 2 else None
    if code == WIN_STACK_BUFFER_OVERRUN:
        fast_fail = FAST_FAIL_CODES.get(params[0] & 0xFFFFFFFF) if params else None
        return (f"FAST_FAIL_{fast_fail}" if fast_fail else "EXCEPTION_STACK_BUFFER_OVERRUN"), None
    return WINDOWS_CODES.get(code), None


def _linux(exc: ExceptionStream) -> str | None:
    signal = LINUX_SIGNALS.get(exc.exception_code)
    if signal is None:
        return None
    detail = LINUX_SI_CODES.get(exc.exception_code)
    if detail is None:
        return signal
    separator, codes = detail
    return signal + separator + codes.get(exc.exception_flags, _flags_string(exc.exception_flags))


def _mac(exc: ExceptionStream, arch: int) -> str | None:
    code, flags = exc.exception_code, exc.exception_flags
    if code == MAC_SIMULATED:
        return "Simulated Exception"
    if code == MAC_NS_EXCEPTION_SIMULATED:
        return "Uncaught NSException"
    if code in MAC_TYPES_FLAGS_ONLY:
        return f"{MAC_TYPES_FLAGS_ONLY[code]} / {_flags_string(flags)}"
    if code == MAC_SOFTWARE:
        return f"EXC_SOFTWARE / {MAC_SOFTWARE_CODES.get(flags, _flags_string(flags))}"
    if code not in MAC_TYPE_NAMES:
        return None
    name = None
    if code == MAC_BAD_ACCESS:
        name = MAC_KERN_CODES.get(flags)
    if name is None:
        for arches, names in MAC_CPU_CODES[code]:
            if arch in arches:
                name = names.get(flags)
                break
    return f"{MAC_TYPE_NAMES[code]} / {name or _flags_string(flags)}"


def crash_reason(exception: ExceptionStream, system_info: SystemInfo | None) -> CrashReason:
    """Breakpad's crash reason and address for this exception."""
    code, flags = exception.exception_code, exception.exception_flags
    default = f"0x{code:08x} / {_flags_string(flags)}"
    address = exception.exception_address
    reason: str | None = None
    if system_info is not None:
        platform, arch = system_info.platform_id, system_info.processor_architecture
        if platform in (PlatformId.WIN32_NT, PlatformId.WIN32_WINDOWS):
            reason, replacement = _windows(exception)
            if replacement is not None:
                address = replacement
        elif platform in (PlatformId.LINUX, PlatformId.ANDROID):
            reason = _linux(exception)
        elif platform in (PlatformId.MAC_OS_X, PlatformId.IOS):
            reason = _mac(exception, arch)
        if arch in THIRTY_TWO_BIT:
            address &= 0xFFFFFFFF
    return CrashReason(reason or default, address, exception.thread_id, code, flags)
