from __future__ import annotations

from crashcart.minidump import LinuxEnviron, Minidump
from tests.minidump import synth


def test_environ() -> None:
    s = synth.minimal()
    s.text_stream(synth.LINUX_ENVIRON, b"HOME=/root\0PATH=/bin:/usr/bin\0EMPTY=\0NOEQUALS\0")
    env = Minidump.from_bytes(s.build()).get_stream(LinuxEnviron)
    assert env is not None and env.get("PATH") == "/bin:/usr/bin" and env.get("EMPTY") == ""
    assert env.get("NOEQUALS") == "" and env.get("MISSING") is None
    assert env.variables[0] == ("HOME", "/root")
