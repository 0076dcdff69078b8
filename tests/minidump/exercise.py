"""Touch every part of a parsed dump, so property and corpus tests reach every code path a caller could."""

from __future__ import annotations

import dataclasses
from functools import cached_property

from crashcart.minidump import (
    STREAM_CLASSES,
    ExceptionStream,
    Minidump,
    ModuleList,
    ThreadList,
)


def touch(value: object, depth: int = 0) -> None:
    """Read every field and property of a parsed object, recursively."""
    if depth > 6:
        return
    if isinstance(value, tuple | list):
        for item in value[:50]:
            touch(item, depth + 1)
        return
    if isinstance(value, dict):
        for item in list(value.values())[:50]:
            touch(item, depth + 1)
        return
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        return
    for f in dataclasses.fields(value):
        if not f.name.startswith("_"):
            touch(getattr(value, f.name), depth + 1)
    for name in dir(type(value)):
        attribute = getattr(type(value), name, None)
        if not name.startswith("_") and isinstance(attribute, property | cached_property):
            touch(getattr(value, name), depth + 1)


def read_everything(dump: Minidump) -> None:
    """Parse every stream and context, walk memory and modules the way a stack walker would."""
    for stream_class in STREAM_CLASSES.values():
        touch(dump.get_stream(stream_class))
    dump.crash_reason()
    dump.requesting_thread_index()
    addresses = [0, 0x1000, 0xFFFFFFFFFFFFFFF0]
    threads = dump.get_stream(ThreadList)
    for thread in threads.threads[:64] if threads else ():
        context = thread.context
        if context is not None:
            touch(context)
            addresses += [context.instruction_pointer, context.stack_pointer, context.frame_pointer]
        stack = dump.thread_stack(thread)
        if stack is not None:
            stack.read_u64(stack.base)
            addresses.append(stack.base)
    exception = dump.get_stream(ExceptionStream)
    if exception is not None and exception.context is not None:
        addresses.append(exception.context.instruction_pointer)
    modules = dump.get_stream(ModuleList)
    for module in modules.modules[:64] if modules else ():
        addresses += [module.base_address, module.end_address - 1]
    for address in addresses:
        dump.module_at(address)
        dump.read_memory(address, 16)
        dump.memory_range_at(address)
    dump.memory_ranges()
    for entry in dump.directory:
        dump.raw_stream(entry.stream_type)


def assert_no_parser_bugs(dump: Minidump) -> None:
    bugs = [str(note) for note in dump.notes if "unexpected parser failure" in note.message]
    assert not bugs, bugs
