"""The public API is what ``crashcart.minidump`` exports; nothing private leaks through it."""

from __future__ import annotations

from crashcart import minidump
from crashcart.minidump import STREAM_CLASSES, Stream


def test_exported_members() -> None:
    exported = set(minidump.__all__)
    assert exported == {name for name in vars(minidump) if not name.startswith("_") and name in exported}
    assert all(not name.startswith("_") for name in exported)
    for name in exported:
        assert getattr(minidump, name) is not None
    assert {"Minidump", "MinidumpError", "CrashReason", "ThreadList", "ModuleList", "CpuContext"} <= exported


def test_every_stream_class_is_registered_and_exported() -> None:
    assert len(STREAM_CLASSES) == 24
    for stream_type, cls in STREAM_CLASSES.items():
        assert issubclass(cls, Stream) and stream_type == cls.STREAM_TYPE
        assert getattr(minidump, cls.__name__) is cls
