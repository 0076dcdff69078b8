"""Rules over the walked stacks: truncation, derived search fields, and crash-info flags.

Socorro's ``TruncateStacksRule``, ``PossibleBitFlipsRule``, ``CrashInconsistenciesRule``,
``HasGuardPageAccessRule``, ``ThreadCountRule`` (``rules/breakpad.py``) and ``TopMostFilesRule``,
``ModulesInStackRule``, ``MissingSymbolsRule`` (``rules/mozilla.py``), over Crashcart's ``json_dump``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from crashcart.processor.context import CrashContext
from crashcart.processor.rules.base import Rule


def json_dump(ctx: CrashContext) -> dict[str, Any]:
    """The main dump's stackwalker document, or ``{}``."""
    value = ctx.processed.get("json_dump")
    return value if isinstance(value, dict) else {}


def crash_info(ctx: CrashContext) -> dict[str, Any]:
    value = json_dump(ctx).get("crash_info")
    return value if isinstance(value, dict) else {}


def crashing_frames(ctx: CrashContext) -> list[dict[str, Any]] | None:
    """Frames of ``json_dump.threads[crashing_thread]``; None when there is no crashing thread or stack."""
    index = ctx.processed.get("crashing_thread")
    threads = json_dump(ctx).get("threads")
    if not isinstance(index, int) or isinstance(index, bool) or not isinstance(threads, list):
        return None
    if not 0 <= index < len(threads) or not isinstance(threads[index], dict):
        return None
    frames = threads[index].get("frames")
    return [f for f in frames if isinstance(f, dict)] if isinstance(frames, list) else None


class TruncateStacksRule(Rule):
    """Stacks over ``max_frames`` keep their first half and last half with one marker frame between.

    Applies to every thread of ``json_dump`` and of each additional minidump's ``json_dump``; the marker is
    ``{"truncated": {"msg": "N frames truncated"}}`` and the thread gets ``truncated: true`` (Socorro's shape).
    """

    name = "truncate_stacks"

    def __init__(self, max_frames: int = 500) -> None:
        self.max_frames = max_frames
        self.half = max_frames // 2

    def action(self, ctx: CrashContext) -> None:
        for key, value in list(ctx.processed.items()):
            if key == "json_dump" and isinstance(value, dict):
                self._truncate_document(ctx, value, "json_dump")
            elif isinstance(value, dict) and isinstance(value.get("json_dump"), dict):
                self._truncate_document(ctx, value["json_dump"], f"{key}.json_dump")

    def _truncate_document(self, ctx: CrashContext, doc: dict[str, Any], path: str) -> None:
        threads: list[tuple[str, Any]] = [("crashing_thread", doc.get("crashing_thread"))]
        threads += [(f"threads[{i}]", t) for i, t in enumerate(doc.get("threads") or [])]
        for where, thread in threads:
            if not isinstance(thread, dict):
                continue
            frames = thread.get("frames")
            if not isinstance(frames, list) or len(frames) <= self.max_frames:
                continue
            kept = self.truncate(frames)
            thread["frames"] = kept
            thread["truncated"] = True
            ctx.note(f"truncate_stacks: truncated {path}.{where}.frames: {len(frames)} -> {len(kept)}")

    def truncate(self, frames: list[Any]) -> list[Any]:
        head = frames[: self.half]
        tail = frames[len(frames) - (self.half - 1) :] if self.half > 1 else []
        dropped = len(frames) - len(head) - len(tail)
        return [*head, {"truncated": {"msg": f"{dropped:,} frames truncated"}}, *tail]


class PossibleBitFlipsRule(Rule):
    """``possible_bit_flips_max_confidence``: the highest ``crash_info.possible_bit_flips[].confidence``, 0–100."""

    name = "possible_bit_flips"

    def action(self, ctx: CrashContext) -> None:
        flips = crash_info(ctx).get("possible_bit_flips")
        if not isinstance(flips, list):
            return
        confidences = [
            float(item.get("confidence") or 0.0)
            for item in flips
            if isinstance(item, dict) and isinstance(item.get("confidence", 0.0), (int, float))
        ]
        if confidences:
            ctx.processed["possible_bit_flips_max_confidence"] = int(max(confidences) * 100)


class CrashInconsistenciesRule(Rule):
    """``crash_inconsistencies``: rust-minidump's list of things in the dump that contradict each other."""

    name = "crash_inconsistencies"

    def action(self, ctx: CrashContext) -> None:
        value = crash_info(ctx).get("crash_inconsistencies")
        if isinstance(value, list) and value:
            ctx.processed["crash_inconsistencies"] = value


class HasGuardPageAccessRule(Rule):
    """``has_guard_page_access`` (protected): set, to True, only when some memory access hit a guard page."""

    name = "has_guard_page_access"

    def action(self, ctx: CrashContext) -> None:
        accesses = crash_info(ctx).get("memory_accesses")
        if isinstance(accesses, list) and any(
            isinstance(a, dict) and a.get("is_likely_guard_page") is True for a in accesses
        ):
            ctx.processed["has_guard_page_access"] = True


class TopMostFilesRule(Rule):
    """``topmost_filenames``: the first source file on the crashing stack, inline frames first (singular,
    despite the plural name Socorro kept)."""

    name = "topmost_filenames"

    def action(self, ctx: CrashContext) -> None:
        for filename in _files(crashing_frames(ctx) or []):
            ctx.processed["topmost_filenames"] = filename
            return


def _files(frames: list[dict[str, Any]]) -> Iterator[str]:
    for frame in frames:
        for inline in frame.get("inlines") or []:
            if isinstance(inline, dict) and isinstance(inline.get("file"), str) and inline["file"]:
                yield inline["file"]
        if isinstance(frame.get("file"), str) and frame["file"]:
            yield frame["file"]


_BAD_FILENAME = re.compile(r"[^a-zA-Z0-9_.-]")
_BAD_HEX = re.compile(r"[^a-fA-F0-9]")


class ModulesInStackRule(Rule):
    """``modules_in_stack``: sorted ``filename/debugid`` of the modules on the crashing stack, ``;``-joined."""

    name = "modules_in_stack"

    def action(self, ctx: CrashContext) -> None:
        frames = crashing_frames(ctx)
        if not frames:
            return
        info = {
            m["filename"]: f"{_BAD_FILENAME.sub('', m['filename'])}/{_BAD_HEX.sub('', m.get('debug_id') or '')}"
            for m in json_dump(ctx).get("modules") or []
            if isinstance(m, dict) and isinstance(m.get("filename"), str)
        }
        found = sorted({info[f["module"]] for f in frames if isinstance(f.get("module"), str) and f["module"] in info})
        if found:
            ctx.processed["modules_in_stack"] = ";".join(found)


class MissingSymbolsRule(Rule):
    """``missing_symbols``: sorted ``module/version/debugid[/codeid]`` of modules without symbols, ``;``-joined.

    Only modules the walk touched have ``missing_symbols`` true (the JSON sets the flags for those only).
    """

    name = "missing_symbols"

    NULL_DEBUG_ID = "0" * 33

    def action(self, ctx: CrashContext) -> None:
        found = sorted(
            self.format_module(m)
            for m in json_dump(ctx).get("modules") or []
            if isinstance(m, dict) and isinstance(m.get("filename"), str) and m.get("missing_symbols") is True
        )
        if found:
            ctx.processed["missing_symbols"] = ";".join(found)

    def format_module(self, module: dict[str, Any]) -> str:
        filename = _BAD_FILENAME.sub("", module["filename"])
        version = str(module.get("version") or "None").replace("/", "\\/")
        debug_id = _BAD_HEX.sub("", module.get("debug_id") or self.NULL_DEBUG_ID)
        code_id = _BAD_HEX.sub("", module.get("code_id") or "")
        return f"{filename}/{version}/{debug_id}/{code_id}" if code_id else f"{filename}/{version}/{debug_id}"


class ThreadCountRule(Rule):
    """``thread_count``: the number of threads in the main dump."""

    name = "thread_count"

    def predicate(self, ctx: CrashContext) -> bool:
        return bool(json_dump(ctx))

    def action(self, ctx: CrashContext) -> None:
        doc = json_dump(ctx)
        count = doc.get("thread_count")
        if not isinstance(count, int) or isinstance(count, bool):
            threads = doc.get("threads")
            count = len(threads) if isinstance(threads, list) else None
        ctx.processed["thread_count"] = count
