from __future__ import annotations

from crashcart.minidump import ExceptionStream, Minidump
from tests.minidump import synth


def test_exception_record_and_context() -> None:
    s = synth.minimal(arch=synth.ARCH_X86, platform=synth.OS_WINDOWS)
    s.exception(
        thread_id=42,
        code=0xC0000005,
        flags=1,
        address=0x401000,
        params=[1, 0x45],
        context=synth.x86_context(eip=0x401000),
    )
    dump = Minidump.from_bytes(s.build())
    exc = dump.get_stream(ExceptionStream)
    assert exc is not None
    assert (exc.thread_id, exc.exception_code, exc.exception_flags, exc.exception_address) == (
        42,
        0xC0000005,
        1,
        0x401000,
    )
    assert exc.parameters == (1, 0x45) and exc.number_parameters == 2
    assert exc.context is not None and exc.context.instruction_pointer == 0x401000


def test_parameter_count_is_capped_at_fifteen() -> None:
    s = synth.minimal()
    s.exception(params=list(range(15)), nparams=1000)
    exc = Minidump.from_bytes(s.build()).get_stream(ExceptionStream)
    assert exc is not None and exc.parameters == tuple(range(15)) and exc.number_parameters == 1000


def test_missing_context_is_none_with_a_note() -> None:
    s = synth.minimal()
    s.exception()
    dump = Minidump.from_bytes(s.build())
    exc = dump.get_stream(ExceptionStream)
    assert exc is not None and exc.context is None
    assert [n.code for n in dump.notes] == ["bad_context"]
