"""``decode``: capstone's view of one instruction, shaped as rust-minidump's op analysis needs it.

The byte strings are the encodings of rust-minidump's own op_analysis tests (``op_analysis.rs``), so the
operand shapes here are the ones its address arithmetic was checked against.
"""

from __future__ import annotations

import pytest

from crashcart.stackwalk.instruction import MAX_INSTRUCTION_BYTES, Access, IpUpdate, MemoryOperand, decode


def only_operand(code: str, cpu: str = "amd64") -> MemoryOperand:
    insn = decode(bytes.fromhex(code), 0x1000, cpu)
    assert insn is not None
    (operand,) = insn.memory
    return operand


@pytest.mark.parametrize(
    ("code", "size"),
    [("8a03", 1), ("668b03", 2), ("8b03", 4), ("488b03", 8)],  # mov al/ax/eax/rax, [rbx]
)
def test_register_dereference_sizes(code: str, size: int) -> None:
    operand = only_operand(code)
    assert (operand.base, operand.index, operand.disp, operand.size) == ("rbx", None, 0, size)
    assert operand.access == Access.READ


def test_field_offset_and_negative_displacement() -> None:
    field = only_operand("8b4010")  # mov eax, [rax + 0x10]
    assert (field.base, field.disp, field.size) == ("rax", 0x10, 4)
    below = only_operand("488b8500f8ffff")  # mov rax, [rbp - 0x800]
    assert (below.base, below.disp) == ("rbp", -0x800)


def test_base_index_scale_displacement() -> None:
    operand = only_operand("498b84d9ffffff7f")  # mov rax, [r9 + rbx*8 + 0x7fffffff]
    assert (operand.base, operand.index, operand.scale, operand.disp) == ("r9", "rbx", 8, 0x7FFFFFFF)
    scaled = only_operand("428a04ed00001000")  # mov al, [r13*8 + 0x100000]
    assert (scaled.base, scaled.index, scaled.scale, scaled.disp) == (None, "r13", 8, 0x100000)


def test_store_is_a_write_and_add_to_memory_reads_and_writes() -> None:
    store = decode(bytes.fromhex("c704254500000005000000"), 0, "amd64")  # mov dword [0x45], 5
    assert store is not None and store.text == "mov dword ptr [0x45], 5"
    assert store.memory[0].access == Access.WRITE and store.memory[0].disp == 0x45
    add = decode(bytes.fromhex("0118"), 0, "x86")  # add [eax], ebx
    assert add is not None and add.memory[0].access == Access.READ_WRITE
    assert add.memory[0].base == "eax" and add.memory[0].size == 4


def test_string_copy_lists_both_operands_without_a_direction() -> None:
    insn = decode(bytes.fromhex("f3a4"), 0, "amd64")  # rep movsb
    assert insn is not None and not insn.access_derivable
    assert [(m.base, m.size, m.access) for m in insn.memory] == [("rdi", 1, Access.UNKNOWN), ("rsi", 1, Access.UNKNOWN)]


def test_lea_touches_no_memory_but_its_registers_count() -> None:
    insn = decode(bytes.fromhex("488d0c0b"), 0, "amd64")  # lea rcx, [rbx + rcx]
    assert insn is not None and insn.memory == () and insn.access_derivable
    assert insn.address_registers == {"rbx", "rcx"}


def test_stack_instructions() -> None:
    push = decode(bytes.fromhex("50"), 0, "amd64")  # push rax
    assert push is not None and (push.stack, push.stack_size, push.memory) == ("push", 8, ())
    pop = decode(bytes.fromhex("58"), 0, "x86")  # pop eax
    assert pop is not None and (pop.stack, pop.stack_size) == ("pop", 4)
    ret = decode(bytes.fromhex("c3"), 0, "amd64")
    assert ret is not None and (ret.stack, ret.ip_update) == ("pop", IpUpdate.STACK)


def test_instruction_pointer_updates() -> None:
    cases = {
        "ffd0": IpUpdate.REGISTER,  # call rax
        "ff5008": IpUpdate.MEMORY,  # call [rax + 8]
        "e800000000": IpUpdate.UNDETERMINED,  # call rel32
        "7400": IpUpdate.UNDETERMINED,  # je
        "e2fe": IpUpdate.UNDETERMINED,  # loop
        "8b4010": IpUpdate.NONE,
    }
    for code, kind in cases.items():
        insn = decode(bytes.fromhex(code), 0x1000, "amd64")
        assert insn is not None and insn.ip_update == kind, code
    call = decode(bytes.fromhex("ff5008"), 0, "amd64")
    assert call is not None and call.target_memory is not None and call.target_memory.disp == 8
    assert call.stack == "push" and call.memory[0].access == Access.READ


def test_properties_for_the_inconsistency_checks() -> None:
    idiv = decode(bytes.fromhex("f77dfc"), 0, "amd64")  # idiv dword [rbp - 4]
    assert idiv is not None and idiv.is_division and not idiv.access_derivable
    hlt = decode(bytes.fromhex("f4"), 0, "amd64")
    assert hlt is not None and hlt.is_privileged
    movaps = decode(bytes.fromhex("0f2800"), 0, "amd64")  # movaps xmm0, [rax]
    assert movaps is not None and movaps.access_derivable and not movaps.only_gpf_when_non_canonical


def test_segment_based_operands_are_left_out() -> None:
    insn = decode(bytes.fromhex("64488b042528000000"), 0, "amd64")  # mov rax, fs:[0x28]
    assert insn is not None and insn.memory == ()


def test_rip_relative_operand_keeps_the_instruction_length() -> None:
    operand = only_operand("488b0510000000")  # mov rax, [rip + 0x10]
    assert (operand.base, operand.disp, operand.instruction_size) == ("rip", 0x10, 7)


@pytest.mark.parametrize(
    ("code", "cpu"),
    [
        (b"", "amd64"),
        (b"\x0f", "amd64"),  # truncated
        (b"\x8b", "x86"),  # truncated (needs its ModRM byte)
        (b"\x06", "amd64"),  # push es: invalid in 64-bit mode
        (b"\x8b\x40\x10", "arm64"),  # not an x86 CPU
        (b"\x8b\x40\x10", ""),
    ],
)
def test_undecodable_bytes_give_none(code: bytes, cpu: str) -> None:
    assert decode(code, 0x1000, cpu) is None


def test_reads_at_most_one_instruction_of_fifteen_bytes() -> None:
    insn = decode(b"\x90" * 100, 0, "amd64")
    assert insn is not None and insn.text == "nop"
    prefixed = b"\x66" * 14 + b"\x90"  # 15 bytes: the longest legal instruction
    assert decode(prefixed + b"\x90", 0, "amd64") is not None
    assert decode(b"\x66" * MAX_INSTRUCTION_BYTES + b"\x90", 0, "amd64") is None  # 16 bytes: not an instruction
