"""CPU info, OS info and the pretty OS version."""

from __future__ import annotations

from typing import Any

import pytest

from crashcart.processor.context import CrashContext
from crashcart.processor.rules.system import CPUInfoRule, OSInfoRule, OSPrettyVersionRule


def ctx_with(system_info: dict[str, Any] | None, raw: dict[str, Any] | None = None, **json_dump: Any) -> CrashContext:
    return CrashContext("c", raw or {}, processed={"json_dump": {"system_info": system_info, **json_dump}})


def test_cpu_info() -> None:
    ctx = ctx_with(
        {
            "cpu_arch": "amd64",
            "cpu_info": "family 6 model 70 stepping 1",
            "cpu_count": 4,
            "cpu_microcode_version": "0xf0",
        }
    )
    CPUInfoRule().action(ctx)
    assert (ctx.processed["cpu_arch"], ctx.processed["cpu_info"], ctx.processed["cpu_count"]) == (
        "amd64",
        "family 6 model 70 stepping 1",
        4,
    )
    assert ctx.processed["cpu_microcode_version"] == "0xf0"


def test_cpu_info_defaults() -> None:
    ctx = ctx_with(None)
    CPUInfoRule().action(ctx)
    assert (ctx.processed["cpu_arch"], ctx.processed["cpu_info"], ctx.processed["cpu_count"]) == (
        "unknown",
        "unknown",
        0,
    )
    assert "cpu_microcode_version" not in ctx.processed


def test_os_info() -> None:
    ctx = ctx_with({"os": "Windows NT", "os_ver": "10.0.19042 "})
    OSInfoRule().action(ctx)
    assert (ctx.processed["os_name"], ctx.processed["os_version"]) == ("Windows NT", "10.0.19042")
    ctx = ctx_with({})
    OSInfoRule().action(ctx)
    assert (ctx.processed["os_name"], ctx.processed["os_version"]) == ("Unknown", "")


def pretty(
    os_name: str | None, os_version: str | None, raw: dict[str, Any] | None = None, **json_dump: Any
) -> str | None:
    ctx = CrashContext("c", raw or {}, processed={"json_dump": json_dump, "os_name": os_name, "os_version": os_version})
    OSPrettyVersionRule().action(ctx)
    value: str | None = ctx.processed["os_pretty_version"]
    return value


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("5.1.2600 Service Pack 2", "Windows XP"),
        ("6.1.7601 Service Pack 1", "Windows 7"),
        ("6.3.9600", "Windows 8.1"),
        ("10.0.19045", "Windows 10"),
        ("10.0.21996", "Windows 11"),
        ("10.0.22631", "Windows 11"),
        ("10.0.100000", "Windows 11"),  # a string comparison would say Windows 10
        ("10.0", "Windows 10"),
        ("7.2.1", "Windows Unknown"),
        ("garbage", "Windows NT"),
        ("", "Windows NT"),
    ],
)
def test_windows(version: str, expected: str) -> None:
    assert pretty("Windows NT", version) == expected


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("10.15.7 19H2", "OS X 10.15"),
        ("11.2.3", "macOS 11"),
        ("14.4.1 23E224", "macOS 14"),
        ("9.1", "OS X Unknown"),
        ("", "Mac OS X"),
    ],
)
def test_macos(version: str, expected: str) -> None:
    assert pretty("Mac OS X", version) == expected


def test_linux() -> None:
    assert pretty("Linux", "0.0.0 Linux 6.1", lsb_release={"description": "Ubuntu 22.04.4 LTS"}) == "Ubuntu 22.04.4 LTS"
    assert pretty("Linux", "0.0.0", lsb_release={"description": '"Fedora Linux 40"'}) == "Fedora Linux 40"
    assert pretty("Linux", "0.0.0", {"LinuxLSBDescription": "Debian GNU/Linux 12"}) == "Debian GNU/Linux 12"
    assert pretty("Linux", "0.0.0", lsb_release=None) == "Linux"


def test_others() -> None:
    assert pretty("Android", "34") == "Android 34"
    assert pretty("Android", "") == "Android"
    assert pretty("Solaris", "11") == "Solaris"
    assert pretty(None, None) is None
