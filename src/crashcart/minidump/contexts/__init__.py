"""CPU contexts: pick the layout of a context record and parse it.

The layout is chosen the way Breakpad chooses it: a record of exactly the amd64 size (or larger, when the
system info says amd64: XSAVE contexts) is amd64, one of exactly the old arm64 size is old-layout arm64,
anything else is identified by the CPU bits of its leading ``context_flags`` (falling back to the CPU the
system info names when those bits are 0). The result must agree with the system info's CPU when there is one.
"""

from __future__ import annotations

from crashcart.minidump import errors
from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, unpack
from crashcart.minidump.contexts._base import CpuContext
from crashcart.minidump.contexts.amd64 import ContextAmd64
from crashcart.minidump.contexts.arm import ContextArm
from crashcart.minidump.contexts.arm64 import ContextArm64
from crashcart.minidump.contexts.x86 import ContextX86
from crashcart.minidump.errors import MinidumpError
from crashcart.minidump.format import CpuArchitecture

__all__ = ["ContextAmd64", "ContextArm", "ContextArm64", "ContextX86", "CpuContext", "parse_context"]

#: The context CPU flag each system-info architecture implies.
_EXPECTED_CPU = {
    CpuArchitecture.X86: fmt.CONTEXT_X86,
    CpuArchitecture.AMD64: fmt.CONTEXT_AMD64,
    CpuArchitecture.ARM: fmt.CONTEXT_ARM,
    CpuArchitecture.ARM64: fmt.CONTEXT_ARM64,
    CpuArchitecture.ARM64_OLD: fmt.CONTEXT_ARM64_OLD,
    CpuArchitecture.PPC: fmt.CONTEXT_PPC,
    CpuArchitecture.PPC64: fmt.CONTEXT_PPC64,
    CpuArchitecture.SPARC: fmt.CONTEXT_SPARC,
    CpuArchitecture.MIPS: fmt.CONTEXT_MIPS,
    CpuArchitecture.MIPS64: fmt.CONTEXT_MIPS64,
    CpuArchitecture.RISCV: fmt.CONTEXT_RISCV,
    CpuArchitecture.RISCV64: fmt.CONTEXT_RISCV64,
}
#: Which system-info architectures each context CPU may come with.
_COMPATIBLE = {
    fmt.CONTEXT_X86: {CpuArchitecture.X86, CpuArchitecture.X86_WIN64, CpuArchitecture.AMD64},
    fmt.CONTEXT_AMD64: {CpuArchitecture.AMD64},
    fmt.CONTEXT_ARM: {CpuArchitecture.ARM},
    # Breakpad accepts each arm64 layout only with "its" architecture value; writers mix them in practice
    # (old-layout contexts with architecture 12), so either arm64 value is accepted for either layout.
    fmt.CONTEXT_ARM64: {CpuArchitecture.ARM64, CpuArchitecture.ARM64_OLD},
    fmt.CONTEXT_ARM64_OLD: {CpuArchitecture.ARM64, CpuArchitecture.ARM64_OLD},
}
_NAMES = {
    fmt.CONTEXT_X86: "x86",
    fmt.CONTEXT_AMD64: "amd64",
    fmt.CONTEXT_ARM: "arm",
    fmt.CONTEXT_ARM64: "arm64",
    fmt.CONTEXT_ARM64_OLD: "arm64 (old layout)",
    fmt.CONTEXT_PPC: "ppc",
    fmt.CONTEXT_PPC64: "ppc64",
    fmt.CONTEXT_SPARC: "sparc",
    fmt.CONTEXT_MIPS: "mips",
    fmt.CONTEXT_MIPS64: "mips64",
    fmt.CONTEXT_RISCV: "riscv",
    fmt.CONTEXT_RISCV64: "riscv64",
}


def expected_context_cpu(cpu_architecture: int | None) -> int | None:
    """The context CPU flag implied by a system-info architecture (None if unknown)."""
    if cpu_architecture is None:
        return None
    try:
        return _EXPECTED_CPU.get(CpuArchitecture(cpu_architecture))
    except ValueError:
        return None


def _check_size(size: int, needed: int, what: str) -> None:
    if size < needed:
        raise MinidumpError(errors.BAD_CONTEXT, f"{what} context needs {needed} bytes, record has {size}")
    if size > needed + fmt.CONTEXT_MAX_XSTATE_SIZE:
        raise MinidumpError(errors.BAD_CONTEXT, f"{what} context record of {size} bytes is implausibly large")


def _check_system_info(cpu: int, cpu_architecture: int | None) -> None:
    if cpu_architecture is None:
        return
    if cpu_architecture not in _COMPATIBLE.get(cpu, set()):
        raise MinidumpError(
            errors.BAD_CONTEXT,
            f"{_NAMES.get(cpu, hex(cpu))} context does not match the system info CPU architecture "
            f"0x{cpu_architecture:x}",
        )


def parse_context(data: Buffer, *, cpu_architecture: int | None = None, platform_id: int | None = None) -> CpuContext:
    """Parse one context record (``data`` is exactly the record its location descriptor names)."""
    size = len(data)
    hint = expected_context_cpu(cpu_architecture)
    if size == fmt.CONTEXT_AMD64_SIZE or (hint == fmt.CONTEXT_AMD64 and size >= fmt.CONTEXT_AMD64_SIZE):
        _check_size(size, fmt.CONTEXT_AMD64_SIZE, "amd64")
        (flags,) = unpack(fmt.U32, data, 48, "amd64 context flags")
        cpu = flags & fmt.CONTEXT_CPU_MASK
        if cpu not in (0, fmt.CONTEXT_AMD64):
            raise MinidumpError(errors.BAD_CONTEXT, f"amd64-sized context has CPU flags 0x{cpu:08x}")
        _check_system_info(fmt.CONTEXT_AMD64, cpu_architecture)
        return ContextAmd64.parse(data)
    if size == fmt.CONTEXT_ARM64_OLD_SIZE:
        (flags64,) = unpack(fmt.U64, data, 0, "arm64 context flags")
        cpu = flags64 & fmt.CONTEXT_CPU_MASK
        if cpu not in (0, fmt.CONTEXT_ARM64_OLD):
            raise MinidumpError(errors.BAD_CONTEXT, f"old-arm64-sized context has CPU flags 0x{cpu:08x}")
        _check_system_info(fmt.CONTEXT_ARM64_OLD, cpu_architecture)
        return ContextArm64.parse_old(data)

    (flags,) = unpack(fmt.U32, data, 0, "context flags")
    cpu = flags & fmt.CONTEXT_CPU_MASK
    if cpu == 0:
        # Windows CE's ARM flag collides with x86's XSTATE bit: it only means ARM when no CPU bit is set.
        cpu = fmt.CONTEXT_ARM if flags & fmt.CONTEXT_ARM_OLD else (hint or 0)
    if cpu == fmt.CONTEXT_X86:
        _check_size(size, fmt.CONTEXT_X86_SIZE, "x86")
        _check_system_info(cpu, cpu_architecture)
        return ContextX86.parse(data)
    if cpu == fmt.CONTEXT_ARM:
        _check_size(size, fmt.CONTEXT_ARM_SIZE, "arm")
        _check_system_info(cpu, cpu_architecture)
        return ContextArm.parse(data, ios=platform_id == fmt.PlatformId.IOS)
    if cpu == fmt.CONTEXT_ARM64:
        _check_size(size, fmt.CONTEXT_ARM64_SIZE, "arm64")
        _check_system_info(cpu, cpu_architecture)
        return ContextArm64.parse(data)
    if cpu in _NAMES:
        raise MinidumpError(errors.BAD_CONTEXT, f"{_NAMES[cpu]} contexts are not supported")
    raise MinidumpError(errors.BAD_CONTEXT, f"unknown context CPU flags 0x{flags:08x} ({size} bytes)")
