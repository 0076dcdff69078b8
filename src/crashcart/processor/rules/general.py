"""General rules: clean the raw crash, list its keys, copy collector facts, identify the crash, classify it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from crashcart.processor.context import CrashContext
from crashcart.processor.rules._values import INVALID, json_copy
from crashcart.processor.rules.base import Rule

_MAX_DEPTH = 32


def _de_null(value: Any, depth: int = 0) -> tuple[Any, bool]:
    """``value`` with NUL characters removed from every str/bytes inside it, and whether any were found."""
    if isinstance(value, str):
        return (value.replace("\0", ""), True) if "\0" in value else (value, False)
    if isinstance(value, bytes):
        return (value.replace(b"\0", b""), True) if b"\0" in value else (value, False)
    if depth >= _MAX_DEPTH:
        return value, False
    if isinstance(value, Mapping):
        changed = False
        out: dict[Any, Any] = {}
        for key, item in value.items():
            new_key, key_changed = _de_null(key, depth + 1)
            new_item, item_changed = _de_null(item, depth + 1)
            changed = changed or key_changed or item_changed
            out.setdefault(new_key, new_item)
        return out, changed
    if isinstance(value, list):
        pairs = [_de_null(item, depth + 1) for item in value]
        return [item for item, _ in pairs], any(changed for _, changed in pairs)
    return value, False


class DeNullRule(Rule):
    """Remove NUL characters from annotation names and values (they break storage, indexes and logs).

    The raw crash is not edited in place: ``ctx.raw_crash`` is replaced by a cleaned copy. When two names
    differ only by NULs the first one wins.
    """

    name: ClassVar[str] = "de_null"

    def action(self, ctx: CrashContext) -> None:
        cleaned, changed = _de_null(ctx.raw_crash)
        if changed:
            ctx.raw_crash = cleaned
            ctx.note("de_null: removed NUL characters from the raw crash")


class DeNoneRule(Rule):
    """Drop annotations whose value is None (a reporter bug; every later rule can then assume a value)."""

    name: ClassVar[str] = "de_none"

    def action(self, ctx: CrashContext) -> None:
        if any(value is None for value in ctx.raw_crash.values()):
            ctx.raw_crash = {key: value for key, value in ctx.raw_crash.items() if value is not None}


class CrashReportKeysRule(Rule):
    """``crash_report_keys``: sorted names of every annotation and dump, valid names only, at most 1000."""

    name: ClassVar[str] = "crash_report_keys"
    VALID_KEY: ClassVar[re.Pattern[str]] = re.compile(r"[a-zA-Z0-9_-]+")
    MAX_KEY_LENGTH: ClassVar[int] = 100
    MAX_KEYS: ClassVar[int] = 1000

    def action(self, ctx: CrashContext) -> None:
        names = [*ctx.raw_crash.keys(), *ctx.dumps.keys()]
        valid = {
            name
            for name in names
            if isinstance(name, str) and len(name) <= self.MAX_KEY_LENGTH and self.VALID_KEY.fullmatch(name)
        }
        keys = sorted(valid)
        if len(keys) > self.MAX_KEYS:
            keys = keys[: self.MAX_KEYS]
            ctx.note(f"crash_report_keys: more than {self.MAX_KEYS} keys; list truncated")
        ctx.processed["crash_report_keys"] = keys
        if len(valid) != len(set(names)):
            ctx.note("invalidkeys: Crash report contains invalid keys")


class CollectorMetadataRule(Rule):
    """``collector_metadata`` (protected): the collector's ``metadata`` facts, copied.

    As in Socorro, the collector's notes stay inside this protected object and are not merged into the
    public processor notes.
    """

    name: ClassVar[str] = "collector_metadata"

    def action(self, ctx: CrashContext) -> None:
        metadata = ctx.raw_crash.get("metadata", {})
        if not isinstance(metadata, Mapping):
            ctx.note("collector_metadata: metadata is not an object")
            metadata = {}
        copied = json_copy(dict(metadata))
        if copied is INVALID:
            ctx.note("collector_metadata: metadata is nested too deeply")
            copied = {}
        ctx.processed["collector_metadata"] = copied


class IdentifierRule(Rule):
    """``crash_id`` and ``uuid``: the id the crash is stored under."""

    name: ClassVar[str] = "identifier"

    def action(self, ctx: CrashContext) -> None:
        ctx.processed["crash_id"] = ctx.crash_id
        ctx.processed["uuid"] = ctx.crash_id
        raw_uuid = ctx.raw_crash.get("uuid")
        if raw_uuid is not None and raw_uuid != ctx.crash_id:
            ctx.note("identifier: uuid annotation does not match the crash id")


class MinidumpSha256HashRule(Rule):
    """``minidump_sha256_hash``: the collector's SHA-256 of ``upload_file_minidump`` (None when absent)."""

    name: ClassVar[str] = "minidump_sha256_hash"
    _SHA256: ClassVar[re.Pattern[str]] = re.compile(r"[0-9a-fA-F]{64}")

    def action(self, ctx: CrashContext) -> None:
        metadata = ctx.raw_crash.get("metadata")
        checksums = metadata.get("dump_checksums") if isinstance(metadata, Mapping) else None
        value = checksums.get("upload_file_minidump") if isinstance(checksums, Mapping) else None
        if value is None:
            ctx.processed["minidump_sha256_hash"] = None
        elif isinstance(value, str) and self._SHA256.fullmatch(value):
            ctx.processed["minidump_sha256_hash"] = value.lower()
        else:
            ctx.processed["minidump_sha256_hash"] = None
            ctx.note("minidump_sha256_hash: checksum is not a SHA-256 hex digest")


class ReportTypeRule(Rule):
    """``report_type``: ``hang`` or ``crash``.

    A hang when the ``Hang`` annotation is set (a generic reporter's way to say so), when an IPC channel
    error or async shutdown timeout was recorded (Socorro), or when ``RunWatchdog`` is on the crashing
    thread's stack (Socorro's shutdown-hang watchdog); otherwise a crash. Runs after the stack walk.
    """

    name: ClassVar[str] = "report_type"
    MAX_FRAMES: ClassVar[int] = 500

    def action(self, ctx: CrashContext) -> None:
        ctx.processed["report_type"] = "hang" if self._is_hang(ctx) else "crash"

    def _is_hang(self, ctx: CrashContext) -> bool:
        hang = ctx.processed.get("hang", ctx.raw_crash.get("Hang"))
        if hang not in (None, "", "0", 0, False, "false"):
            return True
        if "ipc_channel_error" in ctx.processed or "async_shutdown_timeout" in ctx.processed:
            return True
        return self._watchdog_on_stack(ctx.processed.get("json_dump"))

    def _watchdog_on_stack(self, json_dump: Any) -> bool:
        if not isinstance(json_dump, Mapping):
            return False
        crash_info = json_dump.get("crash_info")
        index = crash_info.get("crashing_thread") if isinstance(crash_info, Mapping) else None
        if not isinstance(index, int) or isinstance(index, bool):
            index = 0
        threads = json_dump.get("threads")
        if not isinstance(threads, list) or not 0 <= index < len(threads) or not isinstance(threads[index], Mapping):
            return False
        frames = threads[index].get("frames")
        if not isinstance(frames, list):
            return False
        for frame in frames[: self.MAX_FRAMES]:
            function = frame.get("function") if isinstance(frame, Mapping) else None
            if isinstance(function, str) and "RunWatchdog" in function:
                return True
        return False
