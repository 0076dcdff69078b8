"""Synthetic dumps whose faulting instruction has the shapes no corpus dump has.

The corpus has null dereferences only at offset 0 (``mov dword ptr [rax], 5`` with rax = 0) or through an index
register (Breakpad's ``write_av_non_canonical``), no amd64 general-protection fault with the code bytes at the
instruction pointer, and no access into a guard page; these dumps supply them, built with the tests' minidump
builder (``tests/minidump/synth.py``) so every stream goes through the real reader.
"""

from __future__ import annotations

from tests.minidump.synth import (
    ARCH_AMD64,
    LINUX_MAPS,
    OS_LINUX,
    OS_WINDOWS,
    Synth,
    amd64_context,
)

CODE_BASE = 0x401000
STACK_BASE = 0x7FFE_0000
MEM_COMMIT, MEM_FREE, MEM_PRIVATE, MEM_IMAGE = 0x1000, 0x10000, 0x20000, 0x1000000
PAGE_NOACCESS, PAGE_READWRITE, PAGE_EXECUTE_READ, PAGE_GUARD = 0x01, 0x04, 0x20, 0x100


def crash_dump(
    code: bytes,
    *,
    platform: int = OS_LINUX,
    exception_code: int = 11,
    exception_flags: int = 1,
    address: int = 0,
    params: tuple[int, ...] = (),
    maps: str | None = None,
    memory_info: list[tuple[int, int, int, int, int]] | None = None,
    **registers: int,
) -> bytes:
    """An amd64 dump whose crashing thread faults on ``code`` at :data:`CODE_BASE`."""
    s = Synth()
    s.system_info(arch=ARCH_AMD64, platform=platform, csd="")
    regs = {"rip": CODE_BASE, "rsp": STACK_BASE + 0x100, "rbp": STACK_BASE + 0x200, **registers}
    stack = bytes(0x400)
    s.thread_list([s.thread(1, context=amd64_context(**regs), stack_start=STACK_BASE, stack=stack)])
    s.exception(
        thread_id=1,
        code=exception_code,
        flags=exception_flags,
        address=address,
        params=params,
        context=amd64_context(**regs),
    )
    s.memory_list([(CODE_BASE, code.ljust(64, b"\x90"))])
    if maps is not None:
        s.text_stream(LINUX_MAPS, maps)
    if memory_info is not None:
        s.memory_info_list(memory_info)
    return s.build()


def null_field_dump() -> bytes:
    """Linux SIGSEGV/SEGV_MAPERR at 0x10: ``mov eax, dword ptr [rax + 0x10]`` with rax = 0."""
    maps = f"{CODE_BASE:x}-{CODE_BASE + 0x1000:x} r-xp 00000000 08:01 1 /usr/bin/app\n"
    return crash_dump(bytes.fromhex("8b4010"), address=0x10, maps=maps, rax=0)


def non_canonical_dump() -> bytes:
    """Linux SIGSEGV/SI_KERNEL (a general-protection fault, address 0): ``mov rax, [rbx]`` with rbx one bit
    (bit 48) away from a mapped heap address."""
    heap = 0x5555_5555_0000
    maps = (
        f"{CODE_BASE:x}-{CODE_BASE + 0x1000:x} r-xp 00000000 08:01 1 /usr/bin/app\n"
        f"{heap:x}-{heap + 0x10000:x} rw-p 00000000 00:00 0 [heap]\n"
    )
    return crash_dump(bytes.fromhex("488b03"), exception_flags=0x80, maps=maps, rbx=(heap + 0x18) | (1 << 48))


def guard_page_dump() -> bytes:
    """Windows access violation (read) one page below a thread stack: ``mov eax, [rax]`` into the no-access
    page that borders the committed stack (Windows' memory info list)."""
    guard = STACK_BASE - 0x1000
    memory_info = [
        (CODE_BASE, 0x1000, MEM_COMMIT, PAGE_EXECUTE_READ, MEM_IMAGE),
        (guard - 0x10000, 0x10000, MEM_FREE, PAGE_NOACCESS, 0),
        (guard, 0x1000, MEM_COMMIT, PAGE_NOACCESS, MEM_PRIVATE),
        (STACK_BASE, 0x10000, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE),
    ]
    return crash_dump(
        bytes.fromhex("8b00"),
        platform=OS_WINDOWS,
        exception_code=0xC0000005,
        exception_flags=0,
        params=(0, guard + 0x10),
        memory_info=memory_info,
        rax=guard + 0x10,
    )


#: Where :func:`shared_chain_dump`'s one stack region lives.
CHAIN_BASE = 0x1000_0000


def shared_chain_dump(threads: int = 1000, chain_bytes: int = 64 * 1024, crashing: int = 0, modules: int = 0) -> bytes:
    """Issue #9 point 5's hostile dump: ``threads`` threads whose stacks are all one stored region holding a
    frame-pointer chain ``chain_bytes`` long, so every thread walks as many frames as the walker allows.

    Each 16-byte link is (next rbp, return address): the region and one context are stored once and shared by
    every thread record, so the dump stays near ``chain_bytes`` while the walk multiplies threads by frames.
    The thread at index ``crashing`` has the exception. ``modules`` > 0 adds a module list: ``app`` holding
    every return address, then ``modules - 1`` modules no frame is in.
    """
    s = Synth()
    s.system_info(arch=ARCH_AMD64, platform=OS_LINUX, csd="")
    links = chain_bytes // 16
    words: list[int] = []
    for k in range(links):
        words += [CHAIN_BASE + 16 * (k + 1), 0x40_0000 + 0x10 * k]
    region = b"".join(w.to_bytes(8, "little") for w in words)
    region_rva = s.add(region)
    context = amd64_context(rip=0x40_0000, rsp=CHAIN_BASE, rbp=CHAIN_BASE)
    context_location = (len(context), s.add(context))
    records = [
        s.thread(
            100 + i,
            stack_start=CHAIN_BASE,
            stack_rva=region_rva,
            stack_size=len(region),
            context_location=context_location,
        )
        for i in range(threads)
    ]
    s.thread_list(records)
    s.exception(thread_id=100 + crashing, code=11, address=0x45, context_location=context_location)
    if modules:
        records = [s.module("/usr/bin/app", 0x40_0000, 0x10_0000)]
        records += [s.module(f"/usr/lib/lib{i:05d}.so", 0x7000_0000 + i * 0x1000, 0x1000) for i in range(1, modules)]
        s.module_list(records)
    return s.build()
