"""SystemInfoStream (7): OS, OS version, CPU architecture, vendor and count.

The derived strings (``os``, ``os_version``, ``cpu``, ``cpu_info``) are formatted exactly as Breakpad's
``minidump_stackwalk`` prints them (``OS|`` and ``CPU|`` lines), e.g. ``Windows NT`` /
``5.1.2600 Service Pack 2`` / ``x86`` / ``GenuineIntel family 6 model 13 stepping 8``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from crashcart.minidump import errors
from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, ParseContext, unpack
from crashcart.minidump.errors import MinidumpError
from crashcart.minidump.format import CpuArchitecture, PlatformId
from crashcart.minidump.streams._base import Stream

OS_NAMES = {
    PlatformId.WIN32_NT: "Windows NT",
    PlatformId.WIN32_WINDOWS: "Windows",
    PlatformId.MAC_OS_X: "Mac OS X",
    PlatformId.IOS: "iOS",
    PlatformId.LINUX: "Linux",
    PlatformId.SOLARIS: "Solaris",
    PlatformId.ANDROID: "Android",
    PlatformId.PS3: "PS3",
    PlatformId.NACL: "NaCl",
    PlatformId.FUCHSIA: "Fuchsia",
}
CPU_NAMES = {
    CpuArchitecture.X86: "x86",
    CpuArchitecture.AMD64: "amd64",
    CpuArchitecture.PPC: "ppc",
    CpuArchitecture.PPC64: "ppc64",
    CpuArchitecture.SPARC: "sparc",
    CpuArchitecture.ARM: "arm",
    CpuArchitecture.ARM64: "arm64",
    CpuArchitecture.ARM64_OLD: "arm64",
    CpuArchitecture.MIPS: "mips",
    CpuArchitecture.MIPS64: "mips64",
    CpuArchitecture.RISCV: "riscv",
    CpuArchitecture.RISCV64: "riscv64",
}
#: ARM implementer ids (MIDR bits 31..24) and part numbers, as Breakpad names them.
ARM_VENDORS = {0x41: "ARM", 0x51: "Qualcomm", 0x56: "Marvell", 0x69: "Intel/Marvell"}
ARM_PARTS = {
    0x4100C050: "Cortex-A5",
    0x4100C080: "Cortex-A8",
    0x4100C090: "Cortex-A9",
    0x4100C0F0: "Cortex-A15",
    0x4100C140: "Cortex-R4",
    0x4100C150: "Cortex-R5",
    0x4100B360: "ARM1136",
    0x4100B560: "ARM1156",
    0x4100B760: "ARM1176",
    0x4100B020: "ARM11-MPCore",
    0x41009260: "ARM926",
    0x41009460: "ARM946",
    0x41009660: "ARM966",
    0x510006F0: "Krait",
    0x510000F0: "Scorpion",
}
#: Linux ``elf_hwcaps`` bits 0..18, in Breakpad's order and spelling.
ARM_HWCAPS = (
    "swp",
    "half",
    "thumb",
    "26bit",
    "fastmult",
    "fpa",
    "vfpv2",
    "edsp",
    "java",
    "iwmmxt",
    "crunch",
    "thumbee",
    "neon",
    "vfpv3",
    "vfpv3d16",
    "tls",
    "vfpv4",
    "idiva",
    "idivt",
)
_X86_ARCHES = (CpuArchitecture.X86, CpuArchitecture.X86_WIN64)
_POINTER_SIZE_4 = {
    CpuArchitecture.X86,
    CpuArchitecture.X86_WIN64,
    CpuArchitecture.ARM,
    CpuArchitecture.MIPS,
    CpuArchitecture.PPC,
    CpuArchitecture.SHX,
    CpuArchitecture.RISCV,
}


@dataclass(frozen=True)
class SystemInfo(Stream):
    STREAM_TYPE: ClassVar[int] = fmt.StreamType.SYSTEM_INFO

    processor_architecture: int
    processor_level: int
    processor_revision: int
    number_of_processors: int
    product_type: int
    major_version: int
    minor_version: int
    build_number: int
    platform_id: int
    csd_version_rva: int
    #: The CSD version string (Windows service pack, macOS build, Linux ``uname -srvmo``), None if unreadable.
    csd_version: str | None
    suite_mask: int
    #: The raw 24-byte CPU_INFORMATION union.
    cpu_information: bytes
    #: x86 only: the 12-character vendor id from CPUID 0 (``GenuineIntel``).
    cpu_vendor: str | None

    @property
    def os(self) -> str:
        """Breakpad's OS name (``Windows NT``, ``Linux``, ``Mac OS X``, …; ``0x%08x`` if unknown)."""
        try:
            return OS_NAMES[PlatformId(self.platform_id)]
        except (ValueError, KeyError):
            return f"0x{self.platform_id:08x}"

    @property
    def os_version(self) -> str:
        """``major.minor.build``, followed by a space and the CSD version when it could be read."""
        version = f"{self.major_version}.{self.minor_version}.{self.build_number}"
        return version if self.csd_version is None else f"{version} {self.csd_version}"

    @property
    def cpu(self) -> str:
        """Breakpad's CPU name (``x86``, ``amd64``, ``arm``, ``arm64``, …; ``0x%04x`` if unknown)."""
        try:
            return CPU_NAMES[CpuArchitecture(self.processor_architecture)]
        except (ValueError, KeyError):
            return f"0x{self.processor_architecture:04x}"

    @property
    def pointer_size(self) -> int:
        """4 on 32-bit CPUs, else 8."""
        return 4 if self.processor_architecture in _POINTER_SIZE_4 else 8

    @property
    def cpu_info(self) -> str:
        """Breakpad's CPU description (vendor, family, model, stepping; ARM version, part and features)."""
        arch = self.processor_architecture
        if arch in (CpuArchitecture.X86, CpuArchitecture.AMD64):
            prefix = f"{self.cpu_vendor} " if self.cpu_vendor is not None else ""
            family, model, stepping = self.processor_level, self.processor_revision >> 8, self.processor_revision & 0xFF
            return f"{prefix}family {family} model {model} stepping {stepping}"
        if arch == CpuArchitecture.ARM:
            return self._arm_cpu_info()
        return ""

    def _arm_cpu_info(self) -> str:
        cpuid, hwcaps = fmt.CPU_INFO_ARM.unpack_from(self.cpu_information, 0)
        text = f"ARMv{self.processor_level}"
        if cpuid:
            vendor_id = (cpuid >> 24) & 0xFF
            text += " " + ARM_VENDORS.get(vendor_id, f"vendor(0x{vendor_id:x})")
            part_id = cpuid & 0xFF00FFF0
            text += " " + ARM_PARTS.get(part_id, f"part(0x{part_id:x})")
        if hwcaps:
            text += " features: " + ",".join(name for bit, name in enumerate(ARM_HWCAPS) if hwcaps & (1 << bit))
        return text

    @classmethod
    def parse(cls, data: Buffer, ctx: ParseContext) -> SystemInfo:
        if len(data) < fmt.SYSTEM_INFO_SIZE:
            raise MinidumpError(
                errors.TRUNCATED, f"system info needs {fmt.SYSTEM_INFO_SIZE} bytes, stream has {len(data)}"
            )
        v = unpack(fmt.SYSTEM_INFO, data, 0, "system info")
        arch, level, revision, ncpu, product, major, minor, build, platform, csd_rva, suite, _reserved = v
        cpu_information = bytes(data[fmt.SYSTEM_INFO.size : fmt.SYSTEM_INFO_SIZE])
        csd_version: str | None
        try:
            csd_version = ctx.string(csd_rva, "CSD version string")
        except MinidumpError as exc:
            if csd_rva:  # RVA 0 means "none"; anything else unreadable deserves a note
                ctx.recover(exc, cls.STREAM_TYPE)
            csd_version = None
        vendor = None
        if arch in _X86_ARCHES:
            vendor_ids = fmt.CPU_INFO_X86.unpack_from(cpu_information, 0)[:3]
            raw_vendor = b"".join(word.to_bytes(4, "little") for word in vendor_ids)
            vendor = raw_vendor.split(b"\0", 1)[0].decode("latin-1")
        return cls(
            arch,
            level,
            revision,
            ncpu,
            product,
            major,
            minor,
            build,
            platform,
            csd_rva,
            csd_version,
            suite,
            cpu_information,
            vendor,
        )
