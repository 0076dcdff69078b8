from __future__ import annotations

from crashcart.minidump import LinuxMaps, Minidump
from crashcart.minidump.streams.linux_maps import parse_line
from tests.minidump import synth

MAPS = """00400000-0041a000 r-xp 00000000 00:47 8612374361                         /work/linux/build/crash
7f513fe54000-7f513ff5c000 r-xp 00000000 08:01 1234 /lib/x86_64-linux-gnu/libm-2.23.so
0061a000-0063d000 rw-p 00000000 00:00 0                                  [heap]
garbage line
7fff5aef1000-7fff5aef3000 r-xp 00000000 00:00 0                          [vdso]
"""


def test_maps() -> None:
    s = synth.minimal()
    s.text_stream(synth.LINUX_MAPS, MAPS)
    found = Minidump.from_bytes(s.build()).get_stream(LinuxMaps)
    assert found is not None and len(found) == 4 and found.bad_lines == 1
    heap = found.entry_at(0x61A000)
    assert heap is not None and heap.path == "[heap]" and heap.is_writable and not heap.is_executable
    crash = found.entry_at(0x400000)
    assert crash is not None and crash.is_executable and crash.is_readable and crash.inode == 8612374361
    assert found.entry_at(0x41A000) is None
    assert [e.start for e in found.entries] == sorted(e.start for e in found.entries)


def test_map_line_shapes() -> None:
    anonymous = parse_line("7f0000000000-7f0000001000 ---p 00000000 00:00 0")
    assert anonymous is not None and anonymous.path == "" and anonymous.permissions == "---p"
    spaced = parse_line("1000-2000 r--p 00000000 08:01 5 /path/with two spaces")
    assert spaced is not None and spaced.path == "/path/with two spaces"
    assert parse_line("zz-2000 r--p 0 0 0") is None
    assert parse_line("1000-2000 r--p") is None
