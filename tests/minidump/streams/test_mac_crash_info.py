from __future__ import annotations

import pytest

from crashcart.minidump import MacCrashInfo, Minidump, MinidumpError
from tests.minidump import synth


def test_version_5_records() -> None:
    s = synth.Synth()
    records = [
        synth.MacRecord(
            version=5,
            thread=3,
            dialog_mode=1,
            abort_cause=0x10,
            module_path="/usr/lib/libobjc.A.dylib",
            message="objc: attempt to release",
            message2="second",
        ),
        synth.MacRecord(version=5, module_path="/usr/lib/dyld", signature_string="sig", backtrace="bt"),
    ]
    s.mac_crash_info(records)
    found = Minidump.from_bytes(s.build()).get_stream(MacCrashInfo)
    assert found is not None and len(found.records) == 2
    first, second = found.records
    assert (first.version, first.thread, first.dialog_mode, first.abort_cause) == (5, 3, 1, 0x10)
    assert (first.module_path, first.message, first.message2) == (
        "/usr/lib/libobjc.A.dylib",
        "objc: attempt to release",
        "second",
    )
    assert (second.signature_string, second.backtrace, second.message) == ("sig", "bt", "")


def test_version_4_has_no_abort_cause() -> None:
    s = synth.Synth()
    s.mac_crash_info([synth.MacRecord(version=4, thread=1, message="hi")], strings_offset=32)
    found = Minidump.from_bytes(s.build()).get_stream(MacCrashInfo)
    assert found is not None
    assert found.records[0].abort_cause is None and found.records[0].message == "hi"


def test_mixed_versions_are_corrupt() -> None:
    s = synth.Synth()
    s.mac_crash_info([synth.MacRecord(version=5), synth.MacRecord(version=4)])
    with pytest.raises(MinidumpError, match="versions"):
        Minidump.from_bytes(s.build()).get_stream(MacCrashInfo, strict=True)


def test_strings_offset_inside_the_fixed_part() -> None:
    s = synth.Synth()
    s.mac_crash_info([synth.MacRecord(version=5)], strings_offset=8)
    with pytest.raises(MinidumpError, match="inside the fixed fields"):
        Minidump.from_bytes(s.build()).get_stream(MacCrashInfo, strict=True)
