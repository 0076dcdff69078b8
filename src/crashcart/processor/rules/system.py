"""CPU and OS fields from ``json_dump.system_info`` (Socorro's ``CPUInfoRule``, ``OSInfoRule``,
``OSPrettyVersionRule``)."""

from __future__ import annotations

import re
from typing import Any

from crashcart.processor.context import CrashContext
from crashcart.processor.rules.base import Rule


def _system_info(ctx: CrashContext) -> dict[str, Any]:
    doc = ctx.processed.get("json_dump")
    info = doc.get("system_info") if isinstance(doc, dict) else None
    return info if isinstance(info, dict) else {}


def _text(value: Any, default: str) -> str:
    return value.strip() if isinstance(value, str) and value.strip() else default


class CPUInfoRule(Rule):
    """``cpu_arch`` (``unknown``), ``cpu_info`` (``unknown``), ``cpu_count`` (0), ``cpu_microcode_version``."""

    name = "cpu_info"

    def action(self, ctx: CrashContext) -> None:
        info = _system_info(ctx)
        ctx.processed["cpu_arch"] = _text(info.get("cpu_arch"), "unknown")
        ctx.processed["cpu_info"] = _text(info.get("cpu_info"), "unknown")
        count = info.get("cpu_count")
        ctx.processed["cpu_count"] = count if isinstance(count, int) and not isinstance(count, bool) else 0
        microcode = info.get("cpu_microcode_version")
        if isinstance(microcode, str) and microcode:
            ctx.processed["cpu_microcode_version"] = microcode


class OSInfoRule(Rule):
    """``os_name`` (``Unknown``) and ``os_version`` (``""``) as the stackwalker names them."""

    name = "os_info"

    def action(self, ctx: CrashContext) -> None:
        info = _system_info(ctx)
        ctx.processed["os_name"] = _text(info.get("os"), "Unknown")
        ctx.processed["os_version"] = _text(info.get("os_ver"), "")


_MAJOR_MINOR = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")

#: Windows ``major.minor`` → marketing name; 10.0 builds from 22000 are Windows 11 (see ``windows_name``).
WINDOWS_VERSIONS = {
    (3, 5): "Windows NT",
    (4, 0): "Windows NT",
    (4, 1): "Windows 98",
    (4, 9): "Windows Me",
    (5, 0): "Windows 2000",
    (5, 1): "Windows XP",
    (5, 2): "Windows Server 2003",
    (6, 0): "Windows Vista",
    (6, 1): "Windows 7",
    (6, 2): "Windows 8",
    (6, 3): "Windows 8.1",
    (10, 0): "Windows 10",
}
#: First Windows 11 build (insider 21996; released as 22000). Socorro compares the version string with
#: ``"10.0.21996"``, which sorts ``10.0.3xxxx`` and ``10.0.100000`` wrongly; the build is compared as a number.
WINDOWS_11_FIRST_BUILD = 21996


def windows_name(os_version: str) -> str | None:
    match = _MAJOR_MINOR.match(os_version)
    if match is None:
        return None
    major, minor = int(match[1]), int(match[2])
    build = int(match[3]) if match[3] else 0
    if (major, minor) == (10, 0) and build >= WINDOWS_11_FIRST_BUILD:
        return "Windows 11"
    return WINDOWS_VERSIONS.get((major, minor), "Windows Unknown")


def macos_name(os_version: str) -> str | None:
    """``macOS 14`` from 11 on (Apple numbers by major only), ``OS X 10.15`` before (Socorro's strings)."""
    match = _MAJOR_MINOR.match(os_version)
    if match is None:
        return None
    major, minor = int(match[1]), int(match[2])
    if major >= 11:
        return f"macOS {major}"
    if major == 10:
        return f"OS X {major}.{minor}"
    return "OS X Unknown"


class OSPrettyVersionRule(Rule):
    """``os_pretty_version``: ``Windows 11``, ``macOS 14``, the Linux distribution's LSB description, ``Android 13``.

    Runs after :class:`OSInfoRule`. Linux uses ``json_dump.lsb_release.description`` (from the dump's
    ``/etc/lsb-release`` or ``os-release`` stream), else the ``LinuxLSBDescription`` annotation, else ``Linux``.
    """

    name = "os_pretty_version"

    def action(self, ctx: CrashContext) -> None:
        os_name = ctx.processed.get("os_name")
        os_version = ctx.processed.get("os_version")
        os_version = os_version if isinstance(os_version, str) else ""
        pretty: str | None
        if not isinstance(os_name, str) or not os_name:
            pretty = None
        elif os_name.startswith("Windows"):
            pretty = windows_name(os_version) or os_name
        elif os_name == "Mac OS X":
            pretty = macos_name(os_version) or os_name
        elif os_name == "Linux":
            pretty = self._linux(ctx)
        elif os_name == "Android":
            pretty = f"Android {os_version}" if os_version else os_name
        else:
            pretty = os_name
        ctx.processed["os_pretty_version"] = pretty

    def _linux(self, ctx: CrashContext) -> str:
        doc = ctx.processed.get("json_dump")
        lsb = doc.get("lsb_release") if isinstance(doc, dict) else None
        description = lsb.get("description") if isinstance(lsb, dict) else None
        if isinstance(description, str) and description.strip():
            return description.strip().strip('"')
        annotation = ctx.raw_crash.get("LinuxLSBDescription")
        if isinstance(annotation, str) and annotation.strip():
            return annotation.strip()
        return "Linux"
