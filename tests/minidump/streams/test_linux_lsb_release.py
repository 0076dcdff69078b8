from __future__ import annotations

from crashcart.minidump import LinuxLsbRelease, Minidump
from tests.minidump import synth


def test_lsb_release_and_os_release() -> None:
    s = synth.minimal()
    s.text_stream(
        synth.LINUX_LSB_RELEASE,
        'DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=16.04\nDISTRIB_CODENAME=xenial\nDISTRIB_DESCRIPTION="Ubuntu 16.04.3 LTS"\n',
    )
    found = Minidump.from_bytes(s.build()).get_stream(LinuxLsbRelease)
    assert found is not None
    assert (found.id, found.release, found.codename, found.description) == (
        "Ubuntu",
        "16.04",
        "xenial",
        "Ubuntu 16.04.3 LTS",
    )
    s = synth.minimal()
    s.text_stream(synth.LINUX_LSB_RELEASE, "# comment\nID=fedora\nVERSION_ID=33\nPRETTY_NAME='Fedora 33'\nnonsense\n")
    found = Minidump.from_bytes(s.build()).get_stream(LinuxLsbRelease)
    assert found is not None
    assert (found.id, found.release, found.codename, found.description) == ("fedora", "33", None, "Fedora 33")
