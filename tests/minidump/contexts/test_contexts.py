"""Choosing the context layout (``contexts/__init__.py``)."""

from __future__ import annotations

import pytest

from crashcart.minidump import MinidumpError
from crashcart.minidump.contexts import ContextAmd64, ContextArm64, ContextX86, expected_context_cpu, parse_context
from tests.minidump import synth


@pytest.mark.parametrize(
    ("raw", "cls"),
    [
        (synth.x86_context(), ContextX86),
        (synth.amd64_context(), ContextAmd64),
        (synth.arm64_context(), ContextArm64),
        (synth.arm64_old_context(), ContextArm64),
    ],
)
def test_layout_is_recognised_without_system_info(raw: bytes, cls: type) -> None:
    assert isinstance(parse_context(raw), cls)


def test_cpu_bits_of_zero_fall_back_to_the_system_info() -> None:
    raw = synth.x86_context(flags=0x3, eip=9)
    assert parse_context(raw, cpu_architecture=synth.ARCH_X86).instruction_pointer == 9
    with pytest.raises(MinidumpError, match="unknown context CPU flags"):
        parse_context(raw)


def test_x86_context_is_allowed_in_a_64_bit_process() -> None:
    assert isinstance(parse_context(synth.x86_context(), cpu_architecture=synth.ARCH_AMD64), ContextX86)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "needs 4 bytes"),
        (synth.x86_context()[:700], "x86 context needs 716 bytes"),
        (synth.arm_context()[:300], "arm context needs 368 bytes"),
        (synth.arm64_context()[:900], "arm64 context needs 912 bytes"),
        ((0x00040000).to_bytes(4, "little") + bytes(400), "mips contexts are not supported"),
        (synth.x86_context() + bytes(20_000), "implausibly large"),
    ],
)
def test_bad_contexts(raw: bytes, message: str) -> None:
    with pytest.raises(MinidumpError, match=message) as err:
        parse_context(raw)
    assert err.value.code in ("bad_context", "truncated")


def test_expected_cpu() -> None:
    assert expected_context_cpu(None) is None
    assert expected_context_cpu(0x7777) is None
    assert expected_context_cpu(synth.ARCH_AMD64) == 0x00100000
