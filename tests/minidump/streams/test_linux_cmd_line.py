from __future__ import annotations

from crashcart.minidump import LinuxCmdLine, Minidump
from tests.minidump import synth


def test_cmd_line() -> None:
    s = synth.minimal()
    s.text_stream(synth.LINUX_CMD_LINE, b"/usr/bin/app\0--flag\0\0\0")
    cmd = Minidump.from_bytes(s.build()).get_stream(LinuxCmdLine)
    assert cmd is not None and cmd.args == ("/usr/bin/app", "--flag")
