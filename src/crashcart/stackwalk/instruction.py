"""The faulting instruction, decoded: its text, its memory operands and how it moves the instruction pointer.

rust-minidump disassembles the crashing thread's instruction (``minidump-processor/src/op_analysis.rs``, amd64
only, with yaxpeax) so the processor can tell a null pointer plus a field offset from a wild address, find the
real address of a non-canonical access, and check the crash reason against what the instruction could do.
This module is that decoder for amd64 and x86, on capstone; it only describes the instruction. Putting register
values and memory into it is :mod:`crashcart.stackwalk.crash_analysis`'s job.

Bounded and quiet by construction: at most :data:`MAX_INSTRUCTION_BYTES` are decoded, and bytes capstone cannot
decode give ``None``, never an exception. capstone is imported on first use, so commands that never decode
(the CLI's start-up, the collector) do not pay for loading it.

Which instructions get exact access directions follows rust-minidump's ``AccessDerivableOpcode`` list (the
opcodes common in crashes); other instructions' memory operands are listed with an unknown direction, as
rust-minidump lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any

#: The longest x86 instruction; rust-minidump and the CPU never look further.
MAX_INSTRUCTION_BYTES = 15


class Access(Enum):
    """The direction of a memory access (rust-minidump's ``MemoryAccessType``)."""

    READ = "read"
    WRITE = "write"
    READ_WRITE = "readwrite"
    #: A memory operand of an instruction whose direction is not worked out.
    UNKNOWN = "unknown"


class IpUpdate(Enum):
    """How the instruction sets the instruction pointer."""

    #: It does not (it falls through to the next instruction).
    NONE = "none"
    #: It may (a conditional branch), or it does, to a place not known from the instruction alone.
    UNDETERMINED = "undetermined"
    #: To the value of :attr:`Instruction.target_register`.
    REGISTER = "register"
    #: To the pointer stored at :attr:`Instruction.target_memory` (``call [rax+8]``).
    MEMORY = "memory"
    #: To the pointer on top of the stack (``ret``).
    STACK = "stack"


@dataclass(frozen=True)
class MemoryOperand:
    """``[base + index * scale + disp]``; register names are capstone's (``rax``, ``eax``, ``rip``)."""

    base: str | None
    index: str | None
    scale: int
    disp: int
    #: Bytes accessed; None when capstone does not say (``fxsave``-like instructions).
    size: int | None
    access: Access
    #: Length of the instruction, for ``rip``-relative operands (relative to the next instruction).
    instruction_size: int


@dataclass(frozen=True)
class Instruction:
    text: str
    size: int
    #: In rust-minidump's ``AccessDerivableOpcode`` list: every memory access, implicit ones too, is known.
    access_derivable: bool
    is_division: bool
    is_privileged: bool
    #: A general-protection fault by this instruction can only come from a non-canonical address.
    only_gpf_when_non_canonical: bool
    #: Explicit memory operands (``lea``'s address computation is not one).
    memory: tuple[MemoryOperand, ...]
    #: Implicit stack access: ``"push"`` (one slot below the stack pointer) or ``"pop"`` (at it), else None.
    stack: str | None
    #: Size of the implicit stack access.
    stack_size: int
    ip_update: IpUpdate
    target_register: str | None
    target_memory: MemoryOperand | None
    #: Registers used to address memory (base and index, ``lea`` included), for the bit-flip checks.
    address_registers: frozenset[str]


# Opcode groups, as capstone ``X86_INS_*`` suffixes. The access-derivable set and the privileged set are
# rust-minidump's (op_analysis.rs), renamed to capstone's spelling (JNB → JAE, JZ → JE, JNA → JBE, JMPF → LJMP).
_CONDITIONAL_JUMPS = (
    "JO JNO JB JAE JE JNE JA JBE JS JNS JP JNP JL JGE JG JLE"
    # Not in rust-minidump's list (it reports no update for these); they are conditional branches too.
    " JCXZ JECXZ JRCXZ LOOP LOOPE LOOPNE"
)
_DERIVABLE = (
    "ADD CALL CMP DEC INC JMP LJMP JO JNO JB JAE JE JNE JA JBE JS JNS JP JNP JL JGE JG JLE LEA MOV MOVAPS "
    "MOVUPS POP PUSH RETF RETFQ RET SUB UCOMISS"
)
_PRIVILEGED = (
    "CLI CLTS HLT IN INSB INSW INSD INT INTO INVD INVEPT INVLPG INVVPID IRET IRETD IRETQ LGDT LIDT LLDT LMSW "
    "LTR MONITOR MOV MWAIT OUT OUTSB OUTSW OUTSD RDMSR RDPMC RDTSC RDTSCP RETF RETFQ STI SWAPGS SYSEXIT SYSRET "
    "VMCALL VMCLEAR VMLAUNCH VMPTRLD VMPTRST VMREAD VMRESUME VMWRITE VMXOFF VMXON WBINVD WRMSR XSETBV"
)
#: Direction of each memory operand by position, for the derivable opcodes that take one.
_OPERAND_ACCESS: dict[str, tuple[Access, ...]] = {
    "ADD": (Access.READ_WRITE, Access.READ),
    "SUB": (Access.READ_WRITE, Access.READ),
    "CALL": (Access.READ,),
    "JMP": (Access.READ,),
    "LJMP": (Access.READ,),
    "PUSH": (Access.READ,),
    "CMP": (Access.READ, Access.READ),
    "UCOMISS": (Access.READ, Access.READ),
    "DEC": (Access.READ_WRITE,),
    "INC": (Access.READ_WRITE,),
    "POP": (Access.WRITE,),
    "MOV": (Access.WRITE, Access.READ),
    "MOVAPS": (Access.WRITE, Access.READ),
    "MOVUPS": (Access.WRITE, Access.READ),
}


@dataclass(frozen=True)
class _Tables:
    """capstone's instruction ids for the groups above, and its operand constants."""

    cs: Any
    names: dict[int, str]
    derivable: frozenset[int]
    privileged: frozenset[int]
    conditional: frozenset[int]
    op_reg: int
    op_mem: int
    segment_bases: frozenset[int]


def _ids(const: Any, names: str) -> frozenset[int]:
    return frozenset(getattr(const, f"X86_INS_{n}") for n in names.split() if hasattr(const, f"X86_INS_{n}"))


@cache
def _tables() -> _Tables:
    import capstone  # noqa: PLC0415 - lazy: loading capstone costs start-up time nobody else should pay
    from capstone import x86_const  # noqa: PLC0415

    names = {value: name[len("X86_INS_") :] for name, value in vars(x86_const).items() if name.startswith("X86_INS_")}
    return _Tables(
        cs=capstone,
        names=names,
        derivable=_ids(x86_const, _DERIVABLE),
        privileged=_ids(x86_const, _PRIVILEGED),
        conditional=_ids(x86_const, _CONDITIONAL_JUMPS),
        op_reg=x86_const.X86_OP_REG,
        op_mem=x86_const.X86_OP_MEM,
        segment_bases=frozenset((x86_const.X86_REG_FS, x86_const.X86_REG_GS)),
    )


@cache
def _disassembler(cpu: str) -> Any:
    tables = _tables()
    mode = tables.cs.CS_MODE_64 if cpu == "amd64" else tables.cs.CS_MODE_32
    engine = tables.cs.Cs(tables.cs.CS_ARCH_X86, mode)
    engine.detail = True
    return engine


def decode(code: bytes, address: int, cpu: str) -> Instruction | None:
    """The first instruction of ``code`` (read at ``address``), None if it is not one or ``cpu`` is not x86.

    ``cpu`` is the JSON's ``cpu_arch``: ``amd64`` or ``x86``.
    """
    if cpu not in ("amd64", "x86") or not code:
        return None
    tables = _tables()
    try:
        found = next(_disassembler(cpu).disasm(bytes(code[:MAX_INSTRUCTION_BYTES]), address, 1), None)
        return None if found is None else _describe(found, cpu, tables)
    except tables.cs.CsError:
        return None


def _describe(insn: Any, cpu: str, tables: _Tables) -> Instruction:
    name = tables.names.get(insn.id, "")
    derivable = insn.id in tables.derivable
    slot = 8 if cpu == "amd64" else 4
    memory: list[MemoryOperand] = []
    registers: set[str] = set()
    target_register: str | None = None
    operand_size: int | None = None
    directions = _OPERAND_ACCESS.get(name, ())
    for position, op in enumerate(insn.operands):
        if op.type == tables.op_reg:
            target_register = target_register or insn.reg_name(op.reg)
            operand_size = operand_size or op.size
            continue
        if op.type != tables.op_mem:
            continue
        mem = op.mem
        base = insn.reg_name(mem.base) if mem.base else None
        index = insn.reg_name(mem.index) if mem.index else None
        registers.update(r for r in (base, index) if r)
        operand_size = operand_size or op.size
        if mem.segment in tables.segment_bases:
            continue  # fs:/gs: addresses need the segment base, which the dump does not record
        if name == "LEA":
            continue  # computes an address, touches no memory
        if derivable:
            access = directions[position] if position < len(directions) else Access.UNKNOWN
        else:
            access = Access.UNKNOWN
        memory.append(MemoryOperand(base, index, mem.scale, mem.disp, op.size or None, access, insn.size))

    stack = None
    if derivable and name in ("CALL", "PUSH"):
        stack = "push"
    elif derivable and name in ("POP", "RET", "RETF", "RETFQ"):
        stack = "pop"
    stack_size = operand_size if name in ("PUSH", "POP") and operand_size else slot

    ip_update, ip_register, ip_memory = IpUpdate.NONE, None, None
    if name in ("CALL", "LCALL", "JMP", "LJMP"):
        ip_update = IpUpdate.UNDETERMINED  # an immediate target: rust-minidump leaves it undetermined
        if insn.operands and insn.operands[0].type == tables.op_reg:
            ip_update, ip_register = IpUpdate.REGISTER, target_register
        elif memory:
            ip_update, ip_memory = IpUpdate.MEMORY, memory[0]
    elif name in ("RET", "RETF", "RETFQ", "IRET", "IRETD", "IRETQ"):
        ip_update = IpUpdate.STACK
    elif insn.id in tables.conditional:
        ip_update = IpUpdate.UNDETERMINED

    return Instruction(
        text=f"{insn.mnemonic} {insn.op_str}".strip(),
        size=insn.size,
        access_derivable=derivable,
        is_division=name in ("DIV", "IDIV"),
        is_privileged=insn.id in tables.privileged,
        only_gpf_when_non_canonical=derivable and name != "MOVAPS",
        memory=tuple(memory),
        stack=stack,
        stack_size=stack_size,
        ip_update=ip_update,
        target_register=ip_register,
        target_memory=ip_memory,
        address_registers=frozenset(registers),
    )
