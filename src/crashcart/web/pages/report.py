"""What the report page shows of one crash: pure functions from the stored documents to plain rows.

The page's template only lays these out; every decision about what is shown lives here, where it is tested
without a server: which fields make the summary, how a frame reads (module, function, file and line, its trust,
inlined calls as frames of their own), which modules lack symbols, and which annotations a reader may see.

The documents come in already reduced to what the reader may see (``crashcart.schemas.public_view`` without
``view_pii``), so nothing here can show a protected value to a reader without the permission: a field the view
dropped is simply absent. Every value is crash data, hence hostile: it is bounded here (lists, text) and left to
the template's escaping when shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crashcart.web.pages.sourcelinks import source_url

#: How many frames of one thread, threads, modules and annotations a page shows at most: a hostile dump may
#: claim millions, and a page of 10 MB helps nobody (the API has the whole document).
MAX_FRAMES = 500
MAX_THREADS = 300
MAX_MODULES = 2_000
MAX_ANNOTATIONS = 1_000
#: Longest text shown for one value; the rest is cut with an ellipsis.
MAX_TEXT = 4_000

#: The summary table: (label, processed-crash key), in the order Crash Stats shows them.
SUMMARY_FIELDS: tuple[tuple[str, str], ...] = (
    ("Signature", "signature"),
    ("Product", "product"),
    ("Version", "version"),
    ("Release channel", "release_channel"),
    ("Build id", "build"),
    ("OS", "os_pretty_version"),
    ("OS version", "os_version"),
    ("CPU", "cpu_arch"),
    ("CPU info", "cpu_info"),
    ("Process type", "process_type"),
    ("Crash reason", "reason"),
    ("Crash address", "address"),
    ("Uptime (s)", "uptime"),
    ("Install age (s)", "install_age"),
    ("Date processed", "date_processed"),
    ("Crash time", "client_crash_date"),
    ("Crashing thread", "crashing_thread"),
    ("MOZ_CRASH reason", "moz_crash_reason"),
    ("Abort message", "abort_message"),
    ("User comments", "user_comments"),
    ("URL", "url"),
    ("Email", "email"),
)


@dataclass(frozen=True)
class Frame:
    number: int
    module: str
    function: str
    file: str
    line: int | None
    source_url: str | None
    offset: str
    trust: str
    inlined: bool  # an inlined call, shown above the frame that holds it
    missing_symbols: bool


@dataclass(frozen=True)
class Thread:
    index: int
    name: str
    frames: list[Frame]
    crashing: bool
    truncated: int  # frames not shown


@dataclass(frozen=True)
class Module:
    filename: str
    version: str
    debug_file: str
    debug_id: str
    code_id: str
    base: str
    missing_symbols: bool
    corrupt_symbols: bool


@dataclass
class Report:
    crash_id: str
    signature: str
    summary: list[tuple[str, str]]
    crashing_thread: Thread | None
    other_threads: list[Thread]
    modules: list[Module]
    modules_truncated: int
    notes: list[str]
    annotations: list[tuple[str, str]]
    annotations_protected: bool  # the reader sees every annotation (view_pii)
    dump_names: list[str] = field(default_factory=list)
    #: The crashing thread's registers at the crash (its first frame's), by name: protected, so only a reader
    #: with ``view_pii`` has them (``public_view`` removes them for everyone else).
    registers: list[tuple[str, str]] = field(default_factory=list)


def text(value: Any) -> str:
    """A crash value as bounded text (``None`` as empty)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    shown = value if isinstance(value, str) else str(value)
    return shown if len(shown) <= MAX_TEXT else shown[:MAX_TEXT] + "…"


def summary(processed: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The summary rows the document has (a field the reader may not see is absent from it, so not shown)."""
    return [(label, text(processed[key])) for label, key in SUMMARY_FIELDS if processed.get(key) not in (None, "")]


def frames(raw_frames: Any, repositories: Mapping[str, str] | None = None) -> tuple[list[Frame], int]:
    """A thread's frames as shown, inlined calls first (as debuggers show them), and how many were left out."""
    if not isinstance(raw_frames, list):
        return [], 0
    shown: list[Frame] = []
    for position, item in enumerate(raw_frames[:MAX_FRAMES]):
        if not isinstance(item, Mapping):
            continue
        given = item.get("frame")
        number = given if isinstance(given, int) and not isinstance(given, bool) else position
        module = text(item.get("module"))
        inlines = item.get("inlines")
        for inline in inlines[:50] if isinstance(inlines, list) else []:
            if isinstance(inline, Mapping):
                shown.append(_frame(number, module, inline, item, repositories, inlined=True))
        shown.append(_frame(number, module, item, item, repositories, inlined=False))
    return shown, max(0, len(raw_frames) - MAX_FRAMES)


def _frame(
    number: int,
    module: str,
    source: Mapping[str, Any],
    outer: Mapping[str, Any],
    repositories: Mapping[str, str] | None,
    *,
    inlined: bool,
) -> Frame:
    line = source.get("line")
    line = line if isinstance(line, int) and not isinstance(line, bool) else None
    file = text(source.get("file"))
    offset = outer.get("module_offset") if module else outer.get("offset")
    return Frame(
        number=number,
        module=module,
        function=text(source.get("function")),
        file=file,
        line=line,
        source_url=source_url(file, line, repositories or {}),
        offset=text(offset),
        trust="inlined" if inlined else text(outer.get("trust")),
        inlined=inlined,
        missing_symbols=bool(outer.get("missing_symbols")),
    )


def threads(
    json_dump: Mapping[str, Any], crashing_index: int | None, repositories: Mapping[str, str] | None = None
) -> tuple[Thread | None, list[Thread]]:
    """The crashing thread and the others, each with its shown frames."""
    raw_threads = json_dump.get("threads")
    if not isinstance(raw_threads, list):
        raw_threads = []
    crashing: Thread | None = None
    others: list[Thread] = []
    for index, item in enumerate(raw_threads[:MAX_THREADS]):
        if not isinstance(item, Mapping):
            continue
        shown, truncated = frames(item.get("frames"), repositories)
        thread = Thread(
            index=index,
            name=text(item.get("thread_name")),
            frames=shown,
            crashing=index == crashing_index,
            truncated=truncated,
        )
        if thread.crashing:
            crashing = thread
        else:
            others.append(thread)
    if crashing is None and isinstance(json_dump.get("crashing_thread"), Mapping):
        # A walker that wrote only the crashing thread (or a thread list that was cut) still shows it.
        item = json_dump["crashing_thread"]
        shown, truncated = frames(item.get("frames"), repositories)
        index = crashing_index if crashing_index is not None else -1
        crashing = Thread(index, text(item.get("thread_name")), shown, True, truncated)
    return crashing, others


def modules(json_dump: Mapping[str, Any]) -> tuple[list[Module], int]:
    raw_modules = json_dump.get("modules")
    if not isinstance(raw_modules, list):
        return [], 0
    shown = [
        Module(
            filename=text(item.get("filename")),
            version=text(item.get("version")),
            debug_file=text(item.get("debug_file")),
            debug_id=text(item.get("debug_id")),
            code_id=text(item.get("code_id")),
            base=text(item.get("base_addr")),
            missing_symbols=bool(item.get("missing_symbols")),
            corrupt_symbols=bool(item.get("corrupt_symbols")),
        )
        for item in raw_modules[:MAX_MODULES]
        if isinstance(item, Mapping)
    ]
    return shown, max(0, len(raw_modules) - MAX_MODULES)


def annotation_rows(raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The raw crash's annotations as (name, value) rows, by name; ``metadata`` (the collector's) apart."""
    rows = [(text(name), text(value)) for name, value in raw.items() if name != "metadata"]
    return sorted(rows)[:MAX_ANNOTATIONS]


def notes(processed: Mapping[str, Any]) -> list[str]:
    value = processed.get("processor_notes")
    if isinstance(value, str):
        return [text(line) for line in value.splitlines() if line.strip()][:200]
    if isinstance(value, list):
        return [text(line) for line in value][:200]
    return []


def registers(json_dump: Mapping[str, Any], crashing_index: int | None) -> list[tuple[str, str]]:
    """The crashing thread's first frame's registers, as the walker wrote them (at most 200)."""
    thread: Any = json_dump.get("crashing_thread")
    raw_threads = json_dump.get("threads")
    if not isinstance(thread, Mapping) and isinstance(raw_threads, list) and crashing_index is not None:
        thread = raw_threads[crashing_index] if 0 <= crashing_index < len(raw_threads) else None
    frames_ = thread.get("frames") if isinstance(thread, Mapping) else None
    first = frames_[0] if isinstance(frames_, list) and frames_ else None
    values = first.get("registers") if isinstance(first, Mapping) else None
    if not isinstance(values, Mapping):
        return []
    return [(text(name), text(value)) for name, value in list(values.items())[:200]]


def build_report(
    crash_id: str,
    processed: Mapping[str, Any],
    raw: Mapping[str, Any],
    *,
    sees_protected: bool,
    dump_names: Sequence[str] = (),
    repositories: Mapping[str, str] | None = None,
) -> Report:
    """The report page of ``crash_id`` from its processed and raw crash, as the reader may see them."""
    json_dump = processed.get("json_dump")
    if not isinstance(json_dump, Mapping):
        json_dump = {}
    crashing_index = processed.get("crashing_thread")
    if not isinstance(crashing_index, int) or isinstance(crashing_index, bool):
        info = json_dump.get("crash_info")
        crashing_index = info.get("crashing_thread") if isinstance(info, Mapping) else None
        if not isinstance(crashing_index, int):
            crashing_index = None
    crashing, others = threads(json_dump, crashing_index, repositories)
    shown_modules, modules_truncated = modules(json_dump)
    return Report(
        crash_id=crash_id,
        signature=text(processed.get("signature")),
        summary=summary(processed),
        crashing_thread=crashing,
        other_threads=others,
        modules=shown_modules,
        modules_truncated=modules_truncated,
        notes=notes(processed),
        annotations=annotation_rows(raw),
        annotations_protected=sees_protected,
        dump_names=list(dump_names),
        registers=registers(json_dump, crashing_index),
    )
