"""A processed crash summarised for a person at a terminal (``crashcart crash show``).

It lives with the processor because the processed crash is the processor's document: this module reads the
fields the processor writes (Socorro's names) and the stack walker's ``json_dump`` (rust-minidump's
``--json`` schema), and nothing else. ``render`` is a pure function of the document, so it is tested on
real processed crashes and on hostile ones alike; ``load`` is the only I/O, through the read-only
``CrashReader`` role.

Every value comes from a crash report, so every value is treated as hostile: any field may be missing or of
the wrong type (rust-minidump's schema says every field is optional), and any text may carry terminal
control sequences, which ``crashcart.terminal.printable`` neutralises.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeGuard

from crashcart.errors import CrashcartError, CrashNotFound
from crashcart.storage.interfaces import CrashReader
from crashcart.terminal import printable

DEFAULT_FRAMES = 40
"""Frames of the crashing thread shown by default: the top of the stack is what people read."""

VALUE_LIMIT = 1000
"""Characters shown of any one value: a hostile megabyte annotation must not flood the terminal."""

#: The summary, in order: label, then the processed-crash fields tried for it (first present wins).
SUMMARY: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("product", ("product",)),
    ("version", ("version",)),
    ("channel", ("release_channel",)),
    ("build", ("build",)),
    ("signature", ("signature",)),
    ("reason", ("reason",)),
    ("address", ("address",)),
    ("os", ("os_pretty_version", "os_name")),
    ("cpu", ("cpu_arch",)),
    ("process", ("process_type",)),
    ("submitted", ("submitted_timestamp",)),
    ("processed", ("completed_datetime", "date_processed")),
)
_LABEL_WIDTH = max(len(label) for label, _ in SUMMARY) + 2


class CrashNotProcessed(CrashcartError):
    """The raw crash is stored but has no processed crash (yet, or its processing failed)."""

    code = "crash_not_processed"


def load(storage: CrashReader, crash_id: str) -> dict[str, Any]:
    """The processed crash of ``crash_id``; ``CrashNotProcessed`` when only the raw crash is stored,
    ``CrashNotFound`` when neither is."""
    try:
        return storage.get_processed_crash(crash_id)
    except CrashNotFound as exc:
        if storage.has_raw_crash(crash_id):
            raise CrashNotProcessed(
                f"crash {crash_id} is stored but not processed yet; queue it with: crashcart reprocess {crash_id}"
            ) from exc
        raise CrashNotFound(f"no crash {crash_id} in storage") from exc


def render(crash_id: str, processed: Mapping[str, Any], max_frames: int | None = DEFAULT_FRAMES, hint: str = "") -> str:
    """The summary, the crashing thread's frames (at most ``max_frames`` real frames, None for all, each
    with its inline frames) and the processor notes, as lines of text ending with a newline.

    ``hint`` follows the "… N more frames" line (how to see them, in the caller's words).
    """
    lines = [f"{'crash id':<{_LABEL_WIDTH}}{crash_id}"]
    for label, fields in SUMMARY:
        value = next((processed[field] for field in fields if _present(processed.get(field))), None)
        lines.append(f"{label:<{_LABEL_WIDTH}}{_text(value) if value is not None else '-'}")
    lines.append("")
    lines.extend(_thread_lines(processed, max_frames, hint))
    lines.append("")
    notes = _notes(processed.get("processor_notes"))
    lines.append("processor notes:" if notes else "processor notes: none")
    lines.extend(f"  {_text(note)}" for note in notes)
    return "\n".join(lines) + "\n"


def crashing_thread(processed: Mapping[str, Any]) -> tuple[int | None, Mapping[str, Any]] | None:
    """The crashing thread's index (when known) and its ``json_dump`` thread object, or None.

    rust-minidump puts the crashing thread under ``json_dump.crashing_thread`` (with ``threads_index``);
    older documents only name its index (``crashing_thread`` or ``json_dump.crash_info.crashing_thread``)
    into ``json_dump.threads``.
    """
    json_dump = processed.get("json_dump")
    if not isinstance(json_dump, Mapping):
        return None
    thread = json_dump.get("crashing_thread")
    if isinstance(thread, Mapping) and isinstance(thread.get("frames"), list):
        index = thread.get("threads_index")
        return (index if _is_int(index) else None), thread
    crash_info = json_dump.get("crash_info")
    candidates = [processed.get("crashing_thread")]
    if isinstance(crash_info, Mapping):
        candidates.append(crash_info.get("crashing_thread"))
    threads = json_dump.get("threads")
    for index in candidates:
        if _is_int(index) and isinstance(threads, list) and 0 <= index < len(threads):
            found = threads[index]
            if isinstance(found, Mapping) and isinstance(found.get("frames"), list):
                return index, found
    return None


def _thread_lines(processed: Mapping[str, Any], max_frames: int | None, hint: str) -> list[str]:
    found = crashing_thread(processed)
    if found is None:
        return ["crashing thread: unknown (the stack walk found none)"]
    index, thread = found
    frames = [frame for frame in thread["frames"] if isinstance(frame, Mapping)]
    name = thread.get("thread_name")
    title = "crashing thread" + (f" {index}" if index is not None else "")
    title += f" ({_text(name)})" if _present(name) else ""
    lines = [f"{title}: {len(frames)} frame{'s' if len(frames) != 1 else ''}"]
    shown = frames if max_frames is None else frames[:max_frames]
    width = min(max((len(_text(frame.get("module") or "")) for frame in shown), default=0), 40)
    for position, frame in enumerate(shown):
        number = frame.get("frame")
        lines.extend(_frame_lines(number if _is_int(number) else position, frame, width))
    if len(frames) > len(shown):
        more = len(frames) - len(shown)
        lines.append(f"  … {more} more frame{'s' if more != 1 else ''}" + (f" ({hint})" if hint else ""))
    return lines


def _frame_lines(number: int, frame: Mapping[str, Any], width: int) -> list[str]:
    """A frame's inline frames (innermost first, as the walker lists them) and then the frame itself: the
    frame's file and line are where it called the outermost inlined function."""
    module = _text(frame.get("module") or "")
    inlines = frame.get("inlines")
    rows: list[tuple[str, str]] = []
    if isinstance(inlines, list):
        for inline in inlines:
            if isinstance(inline, Mapping):
                rows.append((_where(inline.get("function"), None, inline), "inlined"))
    rows.append((_where(frame.get("function"), frame, frame), _text(frame.get("trust") or "?")))
    lines = []
    for i, (where, how) in enumerate(rows):
        prefix = f"{number:>4}" if i == 0 else "    "
        lines.append(f"{prefix}  {module:<{width}}  {where}  [{how}]")
    return lines


def _where(function: Any, frame: Mapping[str, Any] | None, source: Mapping[str, Any]) -> str:
    """``function file:line``; without a function, the offset in the module (or the address)."""
    if _present(function):
        text = _text(function)
    elif frame is not None and _present(frame.get("module_offset")):
        text = f"+{_text(frame['module_offset'])}"
    elif frame is not None and _present(frame.get("offset")):
        text = _text(frame["offset"])
    else:
        text = "?"
    file = source.get("file")
    if _present(file):
        line = source.get("line")
        text += f"  {_text(file)}" + (f":{line}" if _is_int(line) else "")
    return text


def _notes(value: Any) -> list[Any]:
    """The processor's notes: one string joined with ``; `` (Socorro's form), or a list."""
    if isinstance(value, str):
        return [note for note in value.split("; ") if note.strip()]
    if isinstance(value, Sequence):
        return [note for note in value if _present(note)]
    return [value] if _present(value) else []


def _text(value: Any) -> str:
    return printable(value, VALUE_LIMIT)


def _present(value: Any) -> bool:
    return value is not None and value not in ("", [], {})


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
