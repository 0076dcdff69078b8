"""A small synthetic minidump builder for parser tests (our own code, in the spirit of rust-minidump's
``minidump-synth`` and Breakpad's ``synth_minidump``).

Layouts are written out here field by field on purpose, independently of ``crashcart.minidump.format``, so a
wrong layout there shows up as a failing test instead of agreeing with itself.

The file is laid out as: header, then every blob in the order it was added (stream data and the data streams
point at: strings, contexts, CodeView records, memory), then the stream directory, whose RVA the header names.
Because the directory comes last, a blob's RVA is known as soon as it is added.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

MDMP = 0x504D444D
VERSION = 0xA793

# Stream types
THREAD_LIST = 3
MODULE_LIST = 4
MEMORY_LIST = 5
EXCEPTION = 6
SYSTEM_INFO = 7
MEMORY64_LIST = 9
HANDLE_DATA = 12
UNLOADED_MODULE_LIST = 14
MISC_INFO = 15
MEMORY_INFO_LIST = 16
THREAD_NAMES = 24
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
MAC_CRASH_INFO = 0x4D7A0001
MAC_BOOTARGS = 0x4D7A0002
ALL_STREAM_TYPES = frozenset(
    {
        THREAD_LIST,
        MODULE_LIST,
        MEMORY_LIST,
        EXCEPTION,
        SYSTEM_INFO,
        MEMORY64_LIST,
        HANDLE_DATA,
        UNLOADED_MODULE_LIST,
        MISC_INFO,
        MEMORY_INFO_LIST,
        THREAD_NAMES,
        BREAKPAD_INFO,
        ASSERTION_INFO,
        LINUX_CPU_INFO,
        LINUX_PROC_STATUS,
        LINUX_LSB_RELEASE,
        LINUX_CMD_LINE,
        LINUX_ENVIRON,
        LINUX_AUXV,
        LINUX_MAPS,
        LINUX_DSO_DEBUG,
        CRASHPAD_INFO,
        MAC_CRASH_INFO,
        MAC_BOOTARGS,
    }
)

# System info values
ARCH_X86, ARCH_ARM, ARCH_AMD64, ARCH_ARM64, ARCH_ARM64_OLD = 0, 5, 9, 12, 0x8003
OS_WINDOWS, OS_MAC, OS_IOS, OS_LINUX, OS_ANDROID = 2, 0x8101, 0x8102, 0x8201, 0x8203


def u32(*values: int) -> bytes:
    return struct.pack(f"<{len(values)}I", *values)


def u64(*values: int) -> bytes:
    return struct.pack(f"<{len(values)}Q", *values)


def utf16_fixed(text: str, units: int) -> bytes:
    """A NUL-padded fixed-size UTF-16LE field of ``units`` code units."""
    raw = text.encode("utf-16-le")[: 2 * (units - 1)]
    return raw.ljust(2 * units, b"\0")


class Synth:
    """Accumulates blobs and streams; :meth:`build` returns the file's bytes."""

    def __init__(self, *, version: int = VERSION, signature: int = MDMP, time_date_stamp: int = 0x5F000000) -> None:
        self.version = version
        self.signature = signature
        self.time_date_stamp = time_date_stamp
        self.buf = bytearray(32)
        self.streams: list[tuple[int, int, int]] = []

    # --- raw placement --------------------------------------------------------------------------------------

    def add(self, data: bytes, *, align: int = 4) -> int:
        """Append ``data`` (aligned) and return its RVA."""
        while len(self.buf) % align:
            self.buf.append(0)
        rva = len(self.buf)
        self.buf += data
        return rva

    def stream(self, stream_type: int, data: bytes) -> int:
        rva = self.add(data)
        self.streams.append((stream_type, len(data), rva))
        return rva

    def raw_entry(self, stream_type: int, size: int, rva: int) -> None:
        """A directory entry pointing anywhere (for out-of-bounds and overlap tests)."""
        self.streams.append((stream_type, size, rva))

    def string(self, text: str) -> int:
        """A MINIDUMP_STRING."""
        raw = text.encode("utf-16-le")
        return self.add(u32(len(raw)) + raw + b"\0\0")

    def utf8(self, text: str) -> int:
        """A Crashpad MinidumpUTF8String."""
        raw = text.encode()
        return self.add(u32(len(raw)) + raw + b"\0")

    def byte_array(self, data: bytes) -> int:
        return self.add(u32(len(data)) + data)

    def build(self) -> bytes:
        directory = b"".join(u32(t, s, r) for t, s, r in self.streams)
        directory_rva = self.add(directory)
        out = bytearray(self.buf)
        struct.pack_into(
            "<IIIIIIQ",
            out,
            0,
            self.signature,
            self.version,
            len(self.streams),
            directory_rva,
            0,
            self.time_date_stamp,
            0,
        )
        return bytes(out)

    # --- streams ------------------------------------------------------------------------------------------

    def system_info(
        self,
        *,
        arch: int = ARCH_AMD64,
        platform: int = OS_LINUX,
        level: int = 6,
        revision: int = 0x4601,
        cpus: int = 4,
        product_type: int = 1,
        version: tuple[int, int, int] = (10, 0, 19041),
        csd: str | None = "",
        vendor: str = "GenuineIntel",
        cpu_info: bytes | None = None,
    ) -> int:
        csd_rva = self.string(csd) if csd is not None else 0
        if cpu_info is None:
            cpu_info = vendor.encode().ljust(12, b"\0")[:12] + u32(0x000906EA, 0xBFEBFBFF, 0)
        data = struct.pack(
            "<HHHBBIIIIIHH", arch, level, revision, cpus, product_type, *version, platform, csd_rva, 0, 0
        )
        return self.stream(SYSTEM_INFO, data + cpu_info.ljust(24, b"\0"))

    def exception(
        self,
        *,
        thread_id: int = 1,
        code: int = 0xC0000005,
        flags: int = 0,
        address: int = 0,
        params: Sequence[int] = (),
        nparams: int | None = None,
        context: bytes | None = None,
        context_location: tuple[int, int] | None = None,
    ) -> int:
        if context_location is None:
            context_location = (len(context), self.add(context)) if context is not None else (0, 0)
        info = list(params)[:15] + [0] * (15 - min(len(params), 15))
        n = len(params) if nparams is None else nparams
        data = u32(thread_id, 0, code, flags) + u64(0, address) + u32(n, 0) + u64(*info) + u32(*context_location)
        return self.stream(EXCEPTION, data)

    def thread(
        self,
        thread_id: int,
        *,
        context: bytes | None = None,
        stack_start: int = 0,
        stack: bytes = b"",
        teb: int = 0,
        stack_rva: int | None = None,
        context_location: tuple[int, int] | None = None,
        stack_size: int | None = None,
    ) -> bytes:
        """A MINIDUMP_THREAD record (its stack and context are added as blobs); ``stack_size`` overrides the
        recorded size (a full-memory dump records the stack's size with RVA 0)."""
        if stack_rva is None:
            stack_rva = self.add(stack) if stack else 0
        if context_location is None:
            context_location = (len(context), self.add(context)) if context is not None else (0, 0)
        size = len(stack) if stack_size is None else stack_size
        return u32(thread_id, 0, 0x20, 0) + u64(teb, stack_start) + u32(size, stack_rva) + u32(*context_location)

    def thread_list(self, threads: Iterable[bytes], *, count: int | None = None, pad: bool = False) -> int:
        records = list(threads)
        header = u32(len(records) if count is None else count) + (b"\0" * 4 if pad else b"")
        return self.stream(THREAD_LIST, header + b"".join(records))

    def thread_names(self, names: Iterable[tuple[int, int]]) -> int:
        """Entries of (thread id, RVA of a MINIDUMP_STRING)."""
        entries = list(names)
        return self.stream(THREAD_NAMES, u32(len(entries)) + b"".join(struct.pack("<IQ", t, r) for t, r in entries))

    def module(
        self,
        name: str,
        base: int,
        size: int,
        *,
        cv: bytes | None = None,
        misc: bytes | None = None,
        timestamp: int = 0,
        checksum: int = 0,
        version: tuple[int, int, int, int] | None = None,
        name_rva: int | None = None,
    ) -> bytes:
        """A MINIDUMP_MODULE record (108 bytes)."""
        if name_rva is None:
            name_rva = self.string(name)
        ffi = [0] * 13
        if version is not None:
            a, b, c, d = version
            ffi[0:4] = [0xFEEF04BD, 0x00010000, (a << 16) | b, (c << 16) | d]
        cv_loc = (len(cv), self.add(cv)) if cv is not None else (0, 0)
        misc_loc = (len(misc), self.add(misc)) if misc is not None else (0, 0)
        record = u64(base) + u32(size, checksum, timestamp, name_rva) + u32(*ffi) + u32(*cv_loc, *misc_loc)
        return record + u64(0, 0)

    def module_list(self, modules: Iterable[bytes], *, count: int | None = None, pad: bool = False) -> int:
        records = list(modules)
        header = u32(len(records) if count is None else count) + (b"\0" * 4 if pad else b"")
        return self.stream(MODULE_LIST, header + b"".join(records))

    def unloaded_modules(self, modules: Iterable[tuple[str, int, int, int]], *, entry_size: int = 24) -> int:
        """Entries of (name, base, size, timestamp)."""
        entries = b""
        items = list(modules)
        for name, base, size, stamp in items:
            entries += (u64(base) + u32(size, 0, stamp, self.string(name))).ljust(entry_size, b"\0")
        return self.stream(UNLOADED_MODULE_LIST, u32(12, entry_size, len(items)) + entries)

    def memory_list(self, regions: Iterable[tuple[int, bytes]], *, extra: Iterable[tuple[int, int, int]] = ()) -> int:
        """Regions of (start address, bytes); ``extra`` adds raw (start, size, rva) descriptors."""
        descriptors = [u64(start) + u32(len(data), self.add(data)) for start, data in regions]
        descriptors += [u64(start) + u32(size, rva) for start, size, rva in extra]
        return self.stream(MEMORY_LIST, u32(len(descriptors)) + b"".join(descriptors))

    def memory64_list(self, regions: Sequence[tuple[int, bytes]]) -> int:
        """Full-memory style: all the bytes back to back from one base RVA."""
        base_rva = self.add(b"".join(data for _, data in regions))
        descriptors = b"".join(u64(start, len(data)) for start, data in regions)
        return self.stream(MEMORY64_LIST, u64(len(regions), base_rva) + descriptors)

    def memory_info_list(self, entries: Iterable[tuple[int, int, int, int, int]]) -> int:
        """Entries of (base, size, state, protection, type)."""
        items = list(entries)
        records = b"".join(
            u64(base, base) + u32(prot, 0) + u64(size) + u32(state, prot, mtype, 0)
            for base, size, state, prot, mtype in items
        )
        return self.stream(MEMORY_INFO_LIST, u32(16, 48) + u64(len(items)) + records)

    def misc_info(
        self,
        *,
        size: int = 24,
        flags: int = 0x3,
        pid: int = 1234,
        create_time: int = 1_600_000_000,
        user_time: int = 5,
        kernel_time: int = 6,
        power: tuple[int, int, int, int, int] = (3000, 2500, 3000, 2, 1),
        tail: bytes = b"",
    ) -> int:
        data = u32(size, flags, pid, create_time, user_time, kernel_time)
        if size >= 44:
            data += u32(*power)
        data += tail
        return self.stream(MISC_INFO, data.ljust(size, b"\0"))

    def breakpad_info(self, *, validity: int = 3, dump_thread: int = 0, requesting_thread: int = 0) -> int:
        return self.stream(BREAKPAD_INFO, u32(validity, dump_thread, requesting_thread))

    def assertion_info(self, expression: str, function: str, file: str, line: int, kind: int) -> int:
        data = utf16_fixed(expression, 128) + utf16_fixed(function, 128) + utf16_fixed(file, 128) + u32(line, kind)
        return self.stream(ASSERTION_INFO, data)

    def text_stream(self, stream_type: int, text: str | bytes) -> int:
        return self.stream(stream_type, text.encode() if isinstance(text, str) else text)

    def dictionary(self, pairs: dict[str, str]) -> tuple[int, int]:
        """A Crashpad MinidumpSimpleStringDictionary; returns its location."""
        entries = b"".join(u32(self.utf8(k), self.utf8(v)) for k, v in pairs.items())
        data = u32(len(pairs)) + entries
        return len(data), self.add(data)

    def crashpad_info(
        self,
        *,
        simple: dict[str, str] | None = None,
        modules: Sequence[ModuleAnnotations] = (),
        report_id: bytes = bytes(range(16)),
        client_id: bytes = bytes(range(16, 32)),
        address_mask: int | None = None,
    ) -> int:
        simple_loc = self.dictionary(simple) if simple is not None else (0, 0)
        links = b""
        for m in modules:
            list_loc: tuple[int, int] = (0, 0)
            if m.list_annotations:
                data = u32(len(m.list_annotations), *(self.utf8(s) for s in m.list_annotations))
                list_loc = (len(data), self.add(data))
            dict_loc = self.dictionary(m.simple) if m.simple else (0, 0)
            obj_loc: tuple[int, int] = (0, 0)
            if m.objects:
                objs = b"".join(
                    u32(self.utf8(name)) + struct.pack("<HH", kind, 0) + u32(self.byte_array(value))
                    for name, kind, value in m.objects
                )
                data = u32(len(m.objects)) + objs
                obj_loc = (len(data), self.add(data))
            info = u32(1, *list_loc, *dict_loc, *obj_loc)
            links += u32(m.index, len(info), self.add(info))
        module_list = u32(len(modules)) + links
        module_loc = (len(module_list), self.add(module_list)) if modules else (0, 0)
        data = u32(1) + report_id + client_id + u32(*simple_loc, *module_loc)
        if address_mask is not None:
            data += u32(0) + u64(address_mask)
        return self.stream(CRASHPAD_INFO, data)

    def mac_crash_info(self, records: Sequence[MacRecord], *, strings_offset: int = 40) -> int:
        locations = []
        for r in records:
            fixed = u64(MAC_CRASH_INFO, r.version, r.thread, r.dialog_mode)
            if r.version >= 5:
                fixed += u64(r.abort_cause)
            body = fixed.ljust(strings_offset, b"\0")
            for text in (r.module_path, r.message, r.signature_string, r.backtrace, r.message2):
                body += text.encode() + b"\0"
            locations.append((len(body), self.add(body)))
        locs = b"".join(u32(*loc) for loc in locations).ljust(160, b"\0")
        return self.stream(MAC_CRASH_INFO, u32(MAC_CRASH_INFO, len(records), strings_offset) + locs)

    def handle_data(self, handles: Iterable[tuple[int, str | None, str | None]], *, v2: bool = True) -> int:
        items = list(handles)
        size = 40 if v2 else 32
        records = b""
        for handle, type_name, object_name in items:
            type_rva = self.string(type_name) if type_name is not None else 0
            name_rva = self.string(object_name) if object_name is not None else 0
            record = u64(handle) + u32(type_rva, name_rva, 0, 0x1F0003, 1, 2)
            if v2:
                record += u32(0, 0)
            records += record
        return self.stream(HANDLE_DATA, u32(16, size, len(items), 0) + records)


@dataclass
class ModuleAnnotations:
    index: int
    list_annotations: list[str] = field(default_factory=list)
    simple: dict[str, str] = field(default_factory=dict)
    objects: list[tuple[str, int, bytes]] = field(default_factory=list)


@dataclass
class MacRecord:
    version: int = 5
    thread: int = 0
    dialog_mode: int = 0
    abort_cause: int = 0
    module_path: str = ""
    message: str = ""
    signature_string: str = ""
    backtrace: str = ""
    message2: str = ""


# --- CPU contexts -------------------------------------------------------------------------------------------

X86_REGS = ("edi", "esi", "ebx", "edx", "ecx", "eax", "ebp", "eip", "cs", "eflags", "esp", "ss")


def x86_context(*, flags: int = 0x0001003F, **regs: int) -> bytes:
    """A 716-byte x86 CONTEXT."""
    out = bytearray(716)
    struct.pack_into("<I", out, 0, flags)
    for i, name in enumerate(("dr0", "dr1", "dr2", "dr3", "dr6", "dr7")):
        struct.pack_into("<I", out, 4 + 4 * i, regs.get(name, 0))
    for i, name in enumerate(("gs", "fs", "es", "ds")):
        struct.pack_into("<I", out, 140 + 4 * i, regs.get(name, 0))
    for i, name in enumerate(X86_REGS):
        struct.pack_into("<I", out, 156 + 4 * i, regs.get(name, 0))
    return bytes(out)


AMD64_GPRS = ("rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", *(f"r{i}" for i in range(8, 16)), "rip")


def amd64_context(*, flags: int = 0x0010001F, xstate: bytes = b"", **regs: int) -> bytes:
    """A 1232-byte amd64 CONTEXT (plus an optional XSAVE area)."""
    out = bytearray(1232)
    struct.pack_into(
        "<IIHHHHHHI",
        out,
        48,
        flags,
        regs.get("mxcsr", 0),
        regs.get("cs", 0x33),
        regs.get("ds", 0),
        regs.get("es", 0),
        regs.get("fs", 0),
        regs.get("gs", 0),
        regs.get("ss", 0x2B),
        regs.get("eflags", 0x246),
    )
    for i, name in enumerate(AMD64_GPRS):
        struct.pack_into("<Q", out, 120 + 8 * i, regs.get(name, 0))
    return bytes(out) + xstate


def arm_context(*, flags: int = 0x40000002, cpsr: int = 0x10, **regs: int) -> bytes:
    """A 368-byte ARM context; registers r0-r12, sp, lr, pc."""
    names = [*(f"r{i}" for i in range(13)), "sp", "lr", "pc"]
    out = bytearray(368)
    struct.pack_into("<I16II", out, 0, flags, *(regs.get(n, 0) for n in names), cpsr)
    return bytes(out)


ARM64_NAMES = (*(f"x{i}" for i in range(29)), "fp", "lr", "sp", "pc")


def arm64_context(*, flags: int = 0x00400003, cpsr: int = 0x60000000, v0: int = 0, **regs: int) -> bytes:
    """A 912-byte ARM64 context (current layout)."""
    out = bytearray(912)
    struct.pack_into("<II33Q", out, 0, flags, cpsr, *(regs.get(n, 0) for n in ARM64_NAMES))
    out[272:288] = v0.to_bytes(16, "little")
    struct.pack_into("<II", out, 784, regs.get("fpcr", 0), regs.get("fpsr", 0))
    return bytes(out)


def arm64_old_context(*, flags: int = 0x80000002, cpsr: int = 0x60000000, **regs: int) -> bytes:
    """A 796-byte ARM64 context in Breakpad's old layout."""
    out = bytearray(796)
    struct.pack_into(
        "<Q33QIII",
        out,
        0,
        flags,
        *(regs.get(n, 0) for n in ARM64_NAMES),
        cpsr,
        regs.get("fpsr", 0),
        regs.get("fpcr", 0),
    )
    return bytes(out)


# --- CodeView records ---------------------------------------------------------------------------------------


def cv_pdb70(guid: tuple[int, int, int, bytes], age: int, pdb: str) -> bytes:
    data1, data2, data3, data4 = guid
    return b"RSDS" + struct.pack("<IHH8sI", data1, data2, data3, data4, age) + pdb.encode() + b"\0"


def cv_pdb20(signature: int, age: int, pdb: str) -> bytes:
    return b"NB10" + u32(0, signature, age) + pdb.encode() + b"\0"


def cv_elf(build_id: bytes) -> bytes:
    return b"LEpB" + build_id


def minimal(**system_info: Any) -> Synth:
    """A builder holding a system info stream (amd64 Linux unless told otherwise)."""
    synth = Synth()
    synth.system_info(**system_info)
    return synth


def everything(arch: int = ARCH_AMD64, platform: int = OS_LINUX) -> bytes:
    """A small dump with every stream kind the reader knows (the seed for mutation tests)."""
    s = Synth()
    s.system_info(arch=arch, platform=platform, csd="Linux 5.4.0")
    context = {
        ARCH_X86: lambda: x86_context(eip=0x401010, esp=0x7000, ebp=0x7010),
        ARCH_AMD64: lambda: amd64_context(rip=0x401010, rsp=0x7000, rbp=0x7010),
        ARCH_ARM: lambda: arm_context(pc=0x401010, sp=0x7000, r11=0x7010),
        ARCH_ARM64: lambda: arm64_context(pc=0x401010, sp=0x7000, fp=0x7010),
        ARCH_ARM64_OLD: lambda: arm64_old_context(pc=0x401010, sp=0x7000, fp=0x7010),
    }[arch]
    stack = bytes(range(256)) * 2
    threads = [s.thread(100, context=context(), stack_start=0x7000, stack=stack), s.thread(101, context=context())]
    s.thread_list(threads)
    s.thread_names([(100, s.string("main")), (101, s.string("worker"))])
    guid = (0x12345678, 0x9ABC, 0xDEF0, bytes(range(8)))
    s.module_list(
        [
            s.module("/usr/bin/app", 0x400000, 0x10000, cv=cv_elf(bytes(range(20))), version=(1, 2, 3, 4)),
            s.module("c:\\x.dll", 0x500000, 0x8000, cv=cv_pdb70(guid, 3, "x.pdb"), timestamp=0x1234),
            s.module("old.dll", 0x600000, 0x1000, cv=cv_pdb20(0xAB, 1, "old.pdb")),
        ]
    )
    s.unloaded_modules([("gone.dll", 0x700000, 0x1000, 5)])
    s.memory_list([(0x8000, b"\x11" * 64)])
    s.memory64_list([(0x9000, b"\x22" * 32)])
    s.memory_info_list([(0x400000, 0x10000, 0x1000, 0x20, 0x1000000)])
    s.exception(thread_id=100, code=11, flags=1, address=0x45, params=[1, 0x45], context=context())
    s.misc_info(size=44, flags=0x7)
    s.breakpad_info(dump_thread=101, requesting_thread=100)
    s.assertion_info("x != 0", "f", "f.c", 3, 1)
    s.crashpad_info(
        simple={"k": "v"},
        modules=[ModuleAnnotations(0, ["line"], {"a": "b"}, [("name", 1, b"value\0")])],
        address_mask=0xFFF,
    )
    s.text_stream(LINUX_CPU_INFO, "processor : 0\nmicrocode : 0x10\n\nprocessor : 1\n")
    s.text_stream(LINUX_PROC_STATUS, "Name:\tapp\nPid:\t42\n")
    s.text_stream(LINUX_LSB_RELEASE, "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=20.04\n")
    s.text_stream(LINUX_CMD_LINE, b"app\0--x\0")
    s.text_stream(LINUX_ENVIRON, b"A=1\0B=2\0")
    s.text_stream(LINUX_MAPS, "00400000-00410000 r-xp 00000000 08:01 1 /usr/bin/app\n")
    if arch in (ARCH_X86, ARCH_ARM):
        s.text_stream(LINUX_AUXV, u32(6, 4096, 0, 0))
        link_map = s.add(u32(0x400000, s.string("/usr/bin/app"), 0x600E10))
        s.stream(LINUX_DSO_DEBUG, u32(1, link_map, 1, 1, 2, 3))
    else:
        s.text_stream(LINUX_AUXV, u64(6, 4096, 0, 0))
        link_map = s.add(u64(0x400000) + u32(s.string("/usr/bin/app"), 0) + u64(0x600E10))
        s.stream(LINUX_DSO_DEBUG, u32(1, link_map, 1, 0) + u64(1, 2, 3))
    s.mac_crash_info([MacRecord(version=5, message="boom")])
    s.stream(MAC_BOOTARGS, struct.pack("<IQ", MAC_BOOTARGS, s.string("-v")))
    s.handle_data([(4, "File", "x")])
    return s.build()
