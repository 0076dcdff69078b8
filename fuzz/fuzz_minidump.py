"""Coverage-guided fuzzing of the minidump reader with atheris (libFuzzer for Python).

    pip install atheris
    python fuzz/fuzz_minidump.py -max_total_time=600 -rss_limit_mb=2048 [corpus_dir]

Seed the corpus directory with real dumps (``tests/fixtures/minidump/*.dmp``, ``../shared/corpus/*/dumps``).
Each input is read as a whole minidump; then every stream, every thread's context and stack, the crash
reason, module lookups and memory reads are exercised, as a stack walker would. Anything but a ``Minidump`` or
a ``MinidumpError`` is a crash, and so is a note saying a parser hit an unexpected internal failure (the
reader's safety net caught a bug) or an input that takes over two seconds.
"""

from __future__ import annotations

import sys
import time

import atheris  # type: ignore[import-not-found,import-untyped,unused-ignore]

with atheris.instrument_imports():
    from crashcart.minidump import (
        STREAM_CLASSES,
        ExceptionStream,
        Minidump,
        MinidumpError,
        ModuleList,
        ThreadList,
    )


def exercise(dump: Minidump) -> None:
    for stream_class in STREAM_CLASSES.values():
        dump.get_stream(stream_class)
    dump.crash_reason()
    dump.requesting_thread_index()
    addresses = [0, 0x1000, 0xFFFFFFFFFFFFFFF0]
    threads = dump.get_stream(ThreadList)
    for thread in threads.threads[:64] if threads else ():
        context = thread.context
        if context is not None:
            addresses += [context.instruction_pointer, context.stack_pointer, context.frame_pointer]
        stack = dump.thread_stack(thread)
        if stack is not None:
            stack.read_u64(stack.base)
    exception = dump.get_stream(ExceptionStream)
    if exception is not None and exception.context is not None:
        addresses.append(exception.context.instruction_pointer)
    modules = dump.get_stream(ModuleList)
    for module in modules.modules[:64] if modules else ():
        addresses.append(module.base_address)
        _ = (module.debug_id, module.code_id, module.version, module.debug_filename)
    for address in addresses:
        dump.module_at(address)
        dump.read_memory(address, 16)
    dump.memory_ranges()


def test_one_input(data: bytes) -> None:
    started = time.monotonic()
    try:
        dump = Minidump.from_bytes(data)
    except MinidumpError:
        return
    exercise(dump)
    bugs = [str(note) for note in dump.notes if "unexpected parser failure" in note.message]
    if bugs:
        raise AssertionError(f"reader bug behind a MinidumpError: {bugs}")
    dump.close()
    elapsed = time.monotonic() - started
    if elapsed > 2.0:
        raise AssertionError(f"input took {elapsed:.1f} s")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
