"""Helpers for the text streams Breakpad copies from Linux ``/proc`` and ``/etc``."""

from __future__ import annotations

from crashcart.minidump._parse import Buffer


def decode(data: Buffer) -> str:
    """Bytes as text: UTF-8 with replacement characters, NULs at the end dropped."""
    return bytes(data).rstrip(b"\0").decode("utf-8", errors="replace")


def colon_fields(block: str) -> dict[str, str]:
    """``key: value`` lines (``/proc/cpuinfo``, ``/proc/self/status``); the first occurrence of a key wins."""
    fields: dict[str, str] = {}
    for line in block.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())
    return fields


def equals_fields(text: str) -> dict[str, str]:
    """``KEY=value`` lines (``/etc/lsb-release``, ``/etc/os-release``), quotes around values removed."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or key.startswith("#"):
            continue
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        fields.setdefault(key, value)
    return fields
