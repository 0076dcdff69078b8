from __future__ import annotations

import pytest

from crashcart.minidump import Minidump
from crashcart.minidump.reason import CrashReason
from tests.minidump import synth


def reason_of(
    *,
    platform: int | None,
    arch: int = synth.ARCH_AMD64,
    code: int,
    flags: int = 0,
    address: int = 0x1234,
    params: tuple[int, ...] = (),
) -> CrashReason:
    s = synth.Synth()
    if platform is not None:
        s.system_info(arch=arch, platform=platform)
    s.exception(thread_id=7, code=code, flags=flags, address=address, params=params)
    found = Minidump.from_bytes(s.build()).crash_reason()
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("code", "params", "reason", "address"),
    [
        (0xC0000005, (0, 0x45), "EXCEPTION_ACCESS_VIOLATION_READ", 0x45),
        (0xC0000005, (1, 0x45), "EXCEPTION_ACCESS_VIOLATION_WRITE", 0x45),
        (0xC0000005, (8, 0x3DF944), "EXCEPTION_ACCESS_VIOLATION_EXEC", 0x3DF944),
        (0xC0000005, (3, 0x45), "EXCEPTION_ACCESS_VIOLATION", 0x45),
        (0xC0000005, (), "EXCEPTION_ACCESS_VIOLATION", 0x1234),
        (0xC0000005, (1,), "EXCEPTION_ACCESS_VIOLATION_WRITE", 0x1234),
        (0xC0000006, (0, 0x10, 0xC000009C), "EXCEPTION_IN_PAGE_ERROR_READ / STATUS_DEVICE_DATA_ERROR", 0x10),
        (0xC0000006, (8, 0x10, 0xC0001234), "EXCEPTION_IN_PAGE_ERROR_EXEC / 0xc0001234", 0x10),
        (0xC0000006, (), "EXCEPTION_IN_PAGE_ERROR", 0x1234),
        (0xC0000409, (7,), "FAST_FAIL_FATAL_APP_EXIT", 0x1234),
        (0xC0000409, (54,), "FAST_FAIL_UNHANDLED_LSS_EXCEPTON", 0x1234),
        (0xC0000409, (0,), "EXCEPTION_STACK_BUFFER_OVERRUN", 0x1234),
        (0xC0000409, (15,), "EXCEPTION_STACK_BUFFER_OVERRUN", 0x1234),
        (0xC0000409, (), "EXCEPTION_STACK_BUFFER_OVERRUN", 0x1234),
        (0x80000003, (), "EXCEPTION_BREAKPOINT", 0x1234),
        (0xC00000FD, (), "EXCEPTION_STACK_OVERFLOW", 0x1234),
        (0xC0000374, (), "EXCEPTION_HEAP_CORRUPTION", 0x1234),
        (0xE06D7363, (), "Unhandled C++ Exception", 0x1234),
        (0x40010005, (), "DBG_CONTROL_C", 0x1234),
        (0xC000000D, (), "0xc000000d / 0x00000000", 0x1234),
    ],
)
def test_windows(code: int, params: tuple[int, ...], reason: str, address: int) -> None:
    found = reason_of(platform=synth.OS_WINDOWS, code=code, params=params)
    assert (found.reason, found.address, found.thread_id, found.exception_code) == (reason, address, 7, code)


def test_32_bit_addresses_are_cut() -> None:
    found = reason_of(platform=synth.OS_WINDOWS, arch=synth.ARCH_X86, code=0xC0000005, params=(1, 0xFFFFFFFF00000045))
    assert found.address == 0x45
    found = reason_of(platform=synth.OS_LINUX, arch=synth.ARCH_ARM, code=11, flags=1, address=0x1_0000_0010)
    assert found.address == 0x10
    found = reason_of(platform=synth.OS_LINUX, arch=synth.ARCH_AMD64, code=11, flags=1, address=0x1_0000_0010)
    assert found.address == 0x1_0000_0010


@pytest.mark.parametrize(
    ("code", "flags", "reason"),
    [
        (11, 1, "SIGSEGV /SEGV_MAPERR"),
        (11, 2, "SIGSEGV /SEGV_ACCERR"),
        (11, 0, "SIGSEGV /0x00000000"),
        (11, 0x80, "SIGSEGV /0x00000080"),
        (11, 9, "SIGSEGV /SEGV_MTESERR"),
        (4, 2, "SIGILL / ILL_ILLOPN"),
        (4, 0, "SIGILL / 0x00000000"),
        (7, 1, "SIGBUS / BUS_ADRALN"),
        (8, 1, "SIGFPE / FPE_INTDIV"),
        (8, 0, "SIGFPE / 0x00000000"),
        (6, 0xFFFFFFFA, "SIGABRT"),
        (5, 0, "SIGTRAP"),
        (31, 0, "SIGSYS"),
        (0xFFFFFFFF, 0, "DUMP_REQUESTED"),
        (64, 3, "0x00000040 / 0x00000003"),
    ],
)
def test_linux_and_android(code: int, flags: int, reason: str) -> None:
    for platform in (synth.OS_LINUX, synth.OS_ANDROID):
        found = reason_of(platform=platform, code=code, flags=flags)
        assert (found.reason, found.address) == (reason, 0x1234)


@pytest.mark.parametrize(
    ("arch", "code", "flags", "reason"),
    [
        (synth.ARCH_AMD64, 1, 1, "EXC_BAD_ACCESS / KERN_INVALID_ADDRESS"),
        (synth.ARCH_ARM64, 1, 2, "EXC_BAD_ACCESS / KERN_PROTECTION_FAILURE"),
        (synth.ARCH_AMD64, 1, 50, "EXC_BAD_ACCESS / KERN_CODESIGN_ERROR"),
        (synth.ARCH_AMD64, 1, 13, "EXC_BAD_ACCESS / EXC_I386_GPFLT"),
        (synth.ARCH_ARM64_OLD, 1, 0x101, "EXC_BAD_ACCESS / EXC_ARM_DA_ALIGN"),
        (synth.ARCH_ARM64, 1, 0x101, "EXC_BAD_ACCESS / 0x00000101"),
        (synth.ARCH_AMD64, 2, 1, "EXC_BAD_INSTRUCTION / EXC_I386_INVOP"),
        (synth.ARCH_ARM, 2, 1, "EXC_BAD_INSTRUCTION / EXC_ARM_UNDEFINED"),
        (synth.ARCH_ARM64, 2, 1, "EXC_BAD_INSTRUCTION / 0x00000001"),
        (synth.ARCH_X86, 3, 1, "EXC_ARITHMETIC / EXC_I386_DIV"),
        (synth.ARCH_ARM, 3, 1, "EXC_ARITHMETIC / 0x00000001"),
        (synth.ARCH_AMD64, 4, 7, "EXC_EMULATION / 0x00000007"),
        (synth.ARCH_AMD64, 5, 0x10002, "EXC_SOFTWARE / SIGABRT"),
        (synth.ARCH_AMD64, 5, 0xDEADC0DE, "EXC_SOFTWARE / UNCAUGHT_NS_EXCEPTION"),
        (synth.ARCH_AMD64, 5, 3, "EXC_SOFTWARE / 0x00000003"),
        (synth.ARCH_AMD64, 6, 2, "EXC_BREAKPOINT / EXC_I386_BPT"),
        (synth.ARCH_ARM, 6, 1, "EXC_BREAKPOINT / EXC_ARM_BREAKPOINT"),
        (synth.ARCH_ARM64, 6, 1, "EXC_BREAKPOINT / 0x00000001"),
        (synth.ARCH_AMD64, 12, 5, "EXC_GUARD / 0x00000005"),
        (synth.ARCH_AMD64, 11, 0, "EXC_RESOURCE / 0x00000000"),
        (synth.ARCH_AMD64, 0x43507378, 0, "Simulated Exception"),
        (synth.ARCH_AMD64, 0x43506E78, 0, "Uncaught NSException"),
        (synth.ARCH_AMD64, 0, 0, "0x00000000 / 0x00000000"),
    ],
)
def test_macos_and_ios(arch: int, code: int, flags: int, reason: str) -> None:
    for platform in (synth.OS_MAC, synth.OS_IOS):
        assert reason_of(platform=platform, arch=arch, code=code, flags=flags).reason == reason


def test_without_system_info_or_with_an_unknown_os() -> None:
    found = reason_of(platform=None, code=0xC0000005, params=(1, 0x45), address=0xFFFFFFFF_00000001)
    assert (found.reason, found.address) == ("0xc0000005 / 0x00000000", 0xFFFFFFFF_00000001)
    assert reason_of(platform=0x8202, code=11, flags=1).reason == "0x0000000b / 0x00000001"
