from __future__ import annotations

from crashcart.minidump import LinuxProcStatus, Minidump
from tests.minidump import synth


def test_proc_status() -> None:
    s = synth.minimal()
    s.text_stream(synth.LINUX_PROC_STATUS, "Name:\tcrash\nState:\tR (running)\nPid:\t1304\nPPid:\t1\nThreads:\t3\n")
    found = Minidump.from_bytes(s.build()).get_stream(LinuxProcStatus)
    assert found is not None
    assert (found.name, found.pid, found.ppid, found.threads) == ("crash", 1304, 1, 3)
    assert found.fields["State"] == "R (running)"


def test_non_ascii_digits_are_not_numbers() -> None:
    """``str.isdigit`` accepts ``²``, which ``int`` refuses: a hostile status line must read as no value."""
    s = synth.minimal()
    s.text_stream(synth.LINUX_PROC_STATUS, "Name:\tcrash\nPid:\t\u00b2\nPPid:\t\u0663\n")
    found = Minidump.from_bytes(s.build()).get_stream(LinuxProcStatus)
    assert found is not None
    assert (found.pid, found.ppid) == (None, None)
