"""Crashing-thread facts lifted out of ``json_dump`` (Socorro's ``CrashingThreadInfoRule``)."""

from __future__ import annotations

from typing import Any

from crashcart.processor.context import CrashContext
from crashcart.processor.rules.base import Rule

#: Width of an address string ``0x`` + 16 digits: a 64-bit dump.
_ADDRESS_64_LEN = 18


def crashing_address(crash_info: dict[str, Any]) -> str | None:
    """``crash_info.address`` with rust-minidump's adjustments applied, as Socorro does.

    ``adjusted_address.kind`` ``null-pointer`` (a small offset from NULL) gives NULL at the dump's width;
    ``non-canonical`` (an amd64 address the CPU reports as 0 or garbage) gives the adjusted address.
    """
    address = crash_info.get("address")
    adjusted = crash_info.get("adjusted_address")
    if isinstance(adjusted, dict):
        kind = adjusted.get("kind")
        if kind == "null-pointer":
            wide = isinstance(address, str) and len(address) == _ADDRESS_64_LEN
            return "0x0000000000000000" if wide else "0x00000000"
        if kind == "non-canonical" and adjusted.get("address"):
            return str(adjusted["address"])
    return address if isinstance(address, str) else None


class CrashingThreadInfoRule(Rule):
    """Fills ``crashing_thread``, ``crashing_thread_name``, ``reason``, ``address``, ``last_error_value``."""

    name = "crashing_thread_info"

    def predicate(self, ctx: CrashContext) -> bool:
        return isinstance(ctx.processed.get("json_dump"), dict)

    def action(self, ctx: CrashContext) -> None:
        json_dump: dict[str, Any] = ctx.processed["json_dump"]
        crash_info = json_dump.get("crash_info")
        crash_info = crash_info if isinstance(crash_info, dict) else {}
        thread = json_dump.get("crashing_thread")
        thread = thread if isinstance(thread, dict) else {}

        crashing_thread = crash_info.get("crashing_thread")
        if not isinstance(crashing_thread, int) or isinstance(crashing_thread, bool):
            crashing_thread = None
            ctx.note("stackwalker did not identify the crashing thread")
        ctx.processed["crashing_thread"] = crashing_thread
        ctx.processed["crashing_thread_name"] = thread.get("thread_name")
        ctx.processed["reason"] = crash_info.get("type") or ""
        ctx.processed["address"] = crashing_address(crash_info)
        ctx.processed["last_error_value"] = thread.get("last_error_value")
