from __future__ import annotations

from crashcart.minidump import CrashpadInfo, Minidump
from tests.minidump import synth


def test_process_and_module_annotations() -> None:
    s = synth.Synth()
    modules = [
        synth.ModuleAnnotations(16, list_annotations=["abort() called"]),
        synth.ModuleAnnotations(
            1,
            simple={"channel": "beta"},
            objects=[("exceptionName", 1, b"NSRangeException"), ("blob", 0x8001, b"\x00\x01\x02")],
        ),
    ]
    report_id = bytes.fromhex("a6585072897280f48a41517bd0ba216b")
    s.crashpad_info(simple={"hello": "world", "plat": "iOS"}, modules=modules, report_id=report_id, address_mask=0xFF)
    dump = Minidump.from_bytes(s.build())
    info = dump.get_stream(CrashpadInfo)
    assert info is not None
    assert info.version == 1 and info.report_id == "725058a6-7289-f480-8a41-517bd0ba216b"
    assert info.simple_annotations == {"hello": "world", "plat": "iOS"}
    assert info.address_mask == 0xFF
    first, second = info.module_infos
    assert first.module_index == 16 and first.list_annotations == ("abort() called",)
    assert second.simple_annotations == {"channel": "beta"}
    name, blob = second.annotation_objects
    assert (name.name, name.type, name.text) == ("exceptionName", 1, "NSRangeException")
    assert (blob.name, blob.value, blob.text) == ("blob", b"\x00\x01\x02", None)
    assert dump.notes == []


def test_bad_parts_are_skipped_with_notes() -> None:
    s = synth.Synth()
    bad_dict = synth.u32(1) + synth.u32(0xFFFFFF00, 0xFFFFFF00)
    loc = (len(bad_dict), s.add(bad_dict))
    s.stream(synth.CRASHPAD_INFO, synth.u32(1) + bytes(32) + synth.u32(*loc) + synth.u32(20, 0xFFFFFF00))
    dump = Minidump.from_bytes(s.build())
    info = dump.get_stream(CrashpadInfo)
    assert info is not None and info.simple_annotations == {} and info.module_infos == ()
    assert [n.code for n in dump.notes] == ["out_of_bounds", "out_of_bounds"]
