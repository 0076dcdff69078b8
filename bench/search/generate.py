"""Synthetic processed crashes for the search benchmark (issue #10, point 15), deterministic from a seed.

Each crash is a dict with the processor's field names (``uuid``, ``date_processed``, ``os_name``, ``build``, …),
shaped like what ``crashcart processor`` writes, without the stack (``json_dump`` is not a search field, so the
index writer never looks at it). The distributions are meant to look like a browser vendor's crash traffic:

- **time**: 28 days before ``end``, a daily cycle (trough around 04:00 UTC, peak around 16:00), weekends a little
  quieter, slow growth; rows come out in time order, as a collector receives them (stratified quantiles of that
  distribution, so the order and the distribution are both exact);
- **signatures**: tens of thousands of C++/Rust/Java-looking names, Zipf-distributed (exponent ~1.05) inside each
  product's pool; the desktop products share a pool, the Android ones another; each signature has its own leaning
  process type, reason family and modules, so a signature report's facets are not just the global mix;
- **products** with their channels, versions (newest most common) and build ids (nightly: one every 12 hours);
  platforms with versions, cpu archs, process types per platform;
- **heavy tails**: uptime, install_age, last_crash, thread_count (log-normal); ``install_time`` comes from a
  population of installations (about N/4, a few crash very often), so its cardinality is realistic;
- **lists and booleans**: ``addons`` (Zipf over ~600 add-ons), ``modules_in_stack`` (``file/debugid;…``),
  ``crash_report_keys``; startup_crash, safe_mode, accessibility, dom_fission_enabled, is_garbage_collecting;
  a memory report on a third of the crashes; protected ``url`` and ``user_comments`` on some.

The same ``(n, seed, end)`` gives the same crashes in any process, chunk by chunk (each chunk of ``CHUNK`` rows
has its own generator), so the benchmark's backends regenerate the rows instead of shipping them around.

usage: .venv/bin/python bench/search/generate.py [--n N] [--seed S] [--show K]   (prints K crashes as JSON)
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import hashlib
import itertools
import json
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

CHUNK = 10_000
DAYS = 28
DEFAULT_N = 1_000_000
DEFAULT_SEED = 10
#: The end of the 28 days (exclusive): fixed, so that a seed means the same crashes on any day.
DEFAULT_END = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
ZIPF_EXPONENT = 1.05


def _cum(weights: Sequence[float]) -> list[float]:
    return list(itertools.accumulate(weights))


def _zipf_cum(size: int, exponent: float = ZIPF_EXPONENT) -> list[float]:
    return _cum([1.0 / (rank**exponent) for rank in range(1, size + 1)])


@cache
def _zipf(size: int) -> list[float]:
    return _zipf_cum(size)


# --- products, channels, versions, platforms -------------------------------------------------------------------


@dataclass(frozen=True)
class Channel:
    name: str
    weight: float
    versions: tuple[str, ...]  # newest first; chosen Zipf-like (newest most common)
    nightly: bool = False


@dataclass(frozen=True)
class Product:
    name: str
    weight: float
    pool: str  # "desktop" or "mobile": which signature pool
    pool_size: int
    shuffle_top: int  # how many of the pool's top ranks are reshuffled for this product (0: the pool's order)
    platforms: tuple[tuple[str, float], ...]
    channels: tuple[Channel, ...]
    has_addons: bool


DESKTOP = (("Windows NT", 0.82), ("Mac OS X", 0.10), ("Linux", 0.08))
PRODUCTS: tuple[Product, ...] = (
    Product(
        "Firefox", 0.70, "desktop", 30_000, 0, DESKTOP,
        (
            Channel("release", 0.80, ("145.0.2", "145.0.1", "145.0", "144.0.2", "144.0", "143.0.4", "142.0.1")),
            Channel("beta", 0.10, tuple(f"146.0b{b}" for b in range(9, 0, -1))),
            Channel("nightly", 0.06, ("147.0a1",), nightly=True),
            Channel("esr", 0.04, ("140.5.0esr", "140.4.0esr", "128.17.0esr", "115.29.0esr")),
        ),
        True,
    ),
    Product(
        "Fenix", 0.17, "mobile", 10_000, 0, (("Android", 1.0),),
        (
            Channel("release", 0.85, ("145.0.2", "145.0.1", "145.0", "144.0.2", "143.0.3")),
            Channel("beta", 0.10, tuple(f"146.0b{b}" for b in range(9, 0, -1))),
            Channel("nightly", 0.05, ("147.0a1",), nightly=True),
        ),
        False,
    ),
    Product(
        "Thunderbird", 0.08, "desktop", 8_000, 300, DESKTOP,
        (
            Channel("release", 0.70, ("145.0", "144.0.1", "144.0")),
            Channel("esr", 0.25, ("140.5.0esr", "140.4.1esr", "128.17.0esr")),
            Channel("beta", 0.05, tuple(f"146.0b{b}" for b in range(5, 0, -1))),
        ),
        True,
    ),
    Product(
        "Focus", 0.03, "mobile", 3_000, 200, (("Android", 1.0),),
        (Channel("release", 0.9, ("145.0.2", "145.0", "144.0")), Channel("beta", 0.1, ("146.0b7", "146.0b3"))),
        False,
    ),
    Product(
        "MozillaVPN", 0.02, "desktop", 1_500, 1_500, (("Windows NT", 0.7), ("Mac OS X", 0.3)),
        (Channel("release", 0.95, ("2.31.0", "2.30.1", "2.30.0")), Channel("beta", 0.05, ("2.32.0",))),
        False,
    ),
)  # fmt: skip

#: os_name → (os_version, os_pretty_version, weight), cpu archs, process types.
OS_VERSIONS: dict[str, tuple[tuple[str, str, float], ...]] = {
    "Windows NT": (
        ("10.0.19045", "Windows 10", 0.45),
        ("10.0.22631", "Windows 11", 0.30),
        ("10.0.26100", "Windows 11", 0.15),
        ("6.1.7601 Service Pack 1", "Windows 7", 0.07),
        ("6.3.9600", "Windows 8.1", 0.03),
    ),
    "Mac OS X": (
        ("15.1.1 24B91", "macOS 15.1.1", 0.35),
        ("14.7.1 23H222", "macOS 14.7.1", 0.30),
        ("13.7.1 22H221", "macOS 13.7.1", 0.20),
        ("12.7.6 21H1320", "macOS 12.7.6", 0.10),
        ("10.15.7 19H2026", "macOS 10.15.7", 0.05),
    ),
    "Linux": (
        ("6.8.0-49-generic #49-Ubuntu SMP", "Linux 6.8.0", 0.40),
        ("6.11.9-arch1-1 #1 SMP PREEMPT_DYNAMIC", "Linux 6.11.9", 0.25),
        ("6.1.0-27-amd64 #1 SMP Debian 6.1.115-1", "Linux 6.1.0", 0.20),
        ("5.15.0-126-generic #136-Ubuntu SMP", "Linux 5.15.0", 0.15),
    ),
    "Android": (
        ("34 (REL)", "Android 14", 0.35),
        ("33 (REL)", "Android 13", 0.25),
        ("35 (REL)", "Android 15", 0.15),
        ("31 (REL)", "Android 12", 0.13),
        ("30 (REL)", "Android 11", 0.08),
        ("29 (REL)", "Android 10", 0.04),
    ),
}
CPU_ARCHS: dict[str, tuple[tuple[str, float], ...]] = {
    "Windows NT": (("amd64", 0.88), ("x86", 0.09), ("arm64", 0.03)),
    "Mac OS X": (("arm64", 0.70), ("amd64", 0.30)),
    "Linux": (("amd64", 0.97), ("arm64", 0.03)),
    "Android": (("arm64", 0.85), ("arm", 0.13), ("x86_64", 0.02)),
}
PROCESS_TYPES = ("parent", "content", "gpu", "rdd", "utility", "socket")
PROCESS_WEIGHTS = _cum((0.35, 0.45, 0.12, 0.03, 0.03, 0.02))
REASONS: dict[str, tuple[str, ...]] = {  # by reason family: 0 read, 1 write, 2 abort, 3 illegal instruction
    "Windows NT": (
        "EXCEPTION_ACCESS_VIOLATION_READ",
        "EXCEPTION_ACCESS_VIOLATION_WRITE",
        "EXCEPTION_BREAKPOINT",
        "EXCEPTION_ILLEGAL_INSTRUCTION",
    ),
    "Mac OS X": (
        "EXC_BAD_ACCESS / KERN_INVALID_ADDRESS",
        "EXC_BAD_ACCESS / KERN_PROTECTION_FAILURE",
        "EXC_BREAKPOINT / EXC_I386_BPT",
        "EXC_BAD_INSTRUCTION / EXC_I386_INVOP",
    ),
    "Linux": ("SIGSEGV / SEGV_MAPERR", "SIGSEGV / SEGV_ACCERR", "SIGABRT", "SIGILL / ILL_ILLOPN"),
    "Android": ("SIGSEGV / SEGV_MAPERR", "SIGSEGV / SEGV_ACCERR", "SIGABRT", "SIGTRAP"),
}
OS_MODULES: dict[str, tuple[str, ...]] = {
    "Windows NT": ("ntdll.dll", "kernel32.dll", "KERNELBASE.dll", "ucrtbase.dll", "user32.dll", "combase.dll"),
    "Mac OS X": ("libsystem_kernel.dylib", "libsystem_pthread.dylib", "CoreFoundation", "AppKit", "libdyld.dylib"),
    "Linux": ("libc.so.6", "libpthread.so.0", "libglib-2.0.so.0", "libgtk-3.so.0", "ld-linux-x86-64.so.2"),
    "Android": ("libc.so", "libart.so", "libandroid_runtime.so", "libGLESv2_adreno.so", "linker64"),
}
APP_MODULES: dict[str, tuple[str, ...]] = {
    "Windows NT": ("xul.dll", "mozglue.dll", "nss3.dll", "firefox.exe", "nvwgf2umx.dll", "igd10iumd64.dll"),
    "Mac OS X": ("XUL", "libmozglue.dylib", "libnss3.dylib", "firefox"),
    "Linux": ("libxul.so", "libmozgtk.so", "libnss3.so", "firefox-bin", "libmozsandbox.so"),
    "Android": ("libxul.so", "libmozglue.so", "libnss3.so", "libmozavcodec.so"),
}
LOCALES = _cum((0.45, 0.10, 0.08, 0.06, 0.05, 0.05, 0.04, 0.04, 0.03, 0.10))
LOCALE_NAMES = ("en-US", "de", "fr", "es-ES", "ru", "pl", "ja", "it", "pt-BR", "zh-CN")
ADAPTERS = (("0x10de", "NVIDIA"), ("0x8086", "Intel"), ("0x1002", "AMD"), ("0x1414", "Microsoft"))
ADAPTER_WEIGHTS = _cum((0.35, 0.40, 0.22, 0.03))
MEMORY_KEYS = (
    "explicit", "gfx_textures", "ghost_windows", "heap_allocated", "heap_overhead", "heap_unclassified",
    "host_object_urls", "images", "js_main_runtime", "private", "resident", "resident_unique",
    "system_heap_allocated", "top_none_detached", "vsize", "vsize_max_contiguous",
)  # fmt: skip
BASE_KEYS = (
    "AdapterDeviceID", "AdapterVendorID", "BuildID", "CrashTime", "InstallTime", "ProductID", "ProductName",
    "ReleaseChannel", "SecondsSinceLastCrash", "StartupTime", "TelemetryEnvironment", "Version", "Vendor",
    "upload_file_minidump", "useragent_locale", "UptimeTS", "Throttleable", "SubmittedFrom", "ContentSandboxLevel",
)  # fmt: skip
OPTIONAL_KEYS = (
    "AsyncShutdownTimeout", "MozCrashReason", "IPCChannelError", "OOMAllocationSize", "StartupCrash",
    "SafeMode", "Accessibility", "DOMFissionEnabled", "GraphicsCriticalError", "IsGarbageCollecting",
    "Comments", "URL", "Add-ons", "ModuleSignatureInfo", "Notes", "TotalPhysicalMemory", "AvailablePageFile",
)  # fmt: skip


# --- signatures ------------------------------------------------------------------------------------------------

_CPP_NAMESPACES = (
    "mozilla", "mozilla::dom", "mozilla::layers", "mozilla::gfx", "mozilla::ipc", "mozilla::net", "js",
    "js::jit", "js::gc", "js::frontend", "mozilla::a11y", "mozilla::widget", "mozilla::image", "mozilla::wr",
    "mozilla::media", "mozilla::detail", "mozilla::dom::quota", "mozilla::gl", "mozilla::places", "nsXPCOM",
)  # fmt: skip
_CPP_CLASSES = (
    "ContentParent", "BrowserChild", "BrowserParent", "CompositorBridgeParent", "WebRenderBridgeParent", "nsThread",
    "GCRuntime", "Arena", "HttpChannelChild", "HttpChannelParent", "MessageChannel", "PresShell", "nsDocShell",
    "Document", "Element", "ScriptLoader", "WorkerPrivate", "MediaDecoder", "AudioStream", "TextureClient",
    "DeviceManagerDx", "GLContext", "CanvasRenderingContext2D", "IDBTransaction", "QuotaManager", "Promise",
    "EventListenerManager", "nsRefreshDriver", "TaskController", "IOUtils", "CacheFileIOManager", "Accessible",
    "ServiceWorkerManager", "nsFrameLoader", "RemoteDecoderManagerChild", "BaselineCompiler", "MacroAssembler",
    "JSScript", "Zone", "Nursery", "AsyncPanZoomController", "APZCTreeManager", "nsWindow", "GeckoChildProcessHost",
)  # fmt: skip
_CPP_METHODS = (
    "RecvPBrowserConstructor", "ActorDestroy", "Shutdown", "ProcessNextEvent", "collect", "Run", "OnStopRequest",
    "OnDataAvailable", "Init", "Destroy", "Paint", "Flush", "NotifyObservers", "DispatchEvent", "HandleEvent",
    "Close", "Open", "Send", "Receive", "Decode", "Allocate", "Release", "AddRef", "Resolve", "Reject",
    "Evaluate", "Compile", "Trace", "Sweep", "Finalize", "Update", "Render", "Composite", "BeginTransaction",
    "EndTransaction", "Notify", "WillRefresh", "MaybeShutdown", "KillHard", "OnChannelError",
)  # fmt: skip
_RUST_PATHS = (
    "webrender::renderer::Renderer", "wgpu_core::device::Device", "neqo_transport::connection::Connection",
    "glean_core::Glean", "style::properties::ComputedValues", "audioipc2_client::stream", "cubeb_coreaudio::backend",
    "mp4parse::read_mp4", "l10nregistry::source", "fog::private", "gkrust_shared::panic_hook",
    "wr_glyph_rasterizer::rasterizer", "qcms::transform", "webext_storage::store", "xpcom::interfaces",
)  # fmt: skip
_RUST_METHODS = (
    "render", "update", "process_input", "submit", "new", "drop", "flush", "read", "write", "handle_message",
    "dispatch", "poll", "lock", "unwrap", "try_from", "finish", "apply", "resolve", "load", "compute",
)  # fmt: skip
_JAVA_EXCEPTIONS = (
    "java.lang.IllegalStateException", "java.lang.NullPointerException", "java.lang.OutOfMemoryError",
    "java.lang.IllegalArgumentException", "android.os.DeadObjectException", "java.util.ConcurrentModificationException",
    "android.database.sqlite.SQLiteFullException", "java.lang.RuntimeException",
    "kotlin.UninitializedPropertyAccessException",
)  # fmt: skip
_JAVA_CLASSES = (
    "mozilla.components.browser.engine.gecko.GeckoEngineSession", "org.mozilla.fenix.HomeActivity",
    "org.mozilla.fenix.browser.BrowserFragment", "mozilla.components.feature.downloads.DownloadService",
    "org.mozilla.geckoview.GeckoSession", "mozilla.components.concept.engine.EngineView",
    "org.mozilla.fenix.components.Core", "mozilla.components.service.glean.GleanWorker",
    "org.mozilla.geckoview.GeckoRuntime", "mozilla.components.browser.state.store.BrowserStore",
)  # fmt: skip
_JAVA_METHODS = ("onLocationChange", "onCreate", "onResume", "onStartCommand", "invoke", "run", "handleMessage")
_PREFIXES = (
    "OOM | small", "OOM | large | mozalloc_abort | mozalloc_handle_oom", "shutdownhang | ", "IPCError-browser | ",
    "@0x0 | ", "EMPTY: no crashing thread identified; ", "core::panicking::panic_fmt | ",
    "MOZ_CRASH | ", "AsyncShutdownTimeout | ",
)  # fmt: skip


def _cpp_frame(rng: random.Random) -> str:
    return f"{rng.choice(_CPP_NAMESPACES)}::{rng.choice(_CPP_CLASSES)}::{rng.choice(_CPP_METHODS)}"


def _rust_frame(rng: random.Random) -> str:
    return f"{rng.choice(_RUST_PATHS)}::{rng.choice(_RUST_METHODS)}"


def _desktop_signature(rng: random.Random) -> str:
    kind = rng.random()
    frames = [_cpp_frame(rng) if rng.random() < 0.8 else _rust_frame(rng) for _ in range(rng.choice((1, 1, 2, 3)))]
    body = " | ".join(frames)
    if kind < 0.70:
        return body
    prefix = _PREFIXES[int((kind - 0.70) / 0.30 * len(_PREFIXES))]
    if prefix.startswith("OOM | small"):
        return f"{prefix} | {body}" if rng.random() < 0.5 else prefix
    if prefix.startswith("IPCError"):
        return f"{prefix}{rng.choice(('ShutDownKill', 'Deletion', 'ProcessingError'))} | {body}"
    return f"{prefix}{body}" if prefix.endswith(" ") else f"{prefix} | {body}"


def _mobile_signature(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.55:
        exc = rng.choice(_JAVA_EXCEPTIONS)
        cls = rng.choice(_JAVA_CLASSES)
        method = rng.choice(_JAVA_METHODS)
        line = rng.randrange(20, 2500)
        return f"{exc}: at {cls}.{method}({cls.rsplit('.', 1)[1]}.kt:{line})"
    return _desktop_signature(rng)


@dataclass(frozen=True)
class Signature:
    name: str
    process: int  # index in PROCESS_TYPES this signature leans to
    reason: int  # reason family (index in REASONS[os])
    module: int  # the app module it usually crashes in
    null_address: bool
    moz_crash: bool


@cache
def signature_pool(seed: int, pool: str, size: int) -> tuple[Signature, ...]:
    """``size`` distinct signatures for ``pool``, in popularity order (rank 1 first)."""
    rng = random.Random(f"signatures:{seed}:{pool}")
    make = _desktop_signature if pool == "desktop" else _mobile_signature
    names: dict[str, None] = {}
    while len(names) < size:
        name = make(rng)
        if name in names:  # a collision among few combinations: make it a distinct but realistic one
            name = f"{name} | {_cpp_frame(rng)}"
        names.setdefault(name, None)
    out = []
    for name in names:
        out.append(
            Signature(
                name=name,
                process=bisect.bisect(PROCESS_WEIGHTS, rng.random() * PROCESS_WEIGHTS[-1]),
                reason=rng.choice((0, 0, 0, 1, 2, 3)) if not name.startswith(("OOM", "MOZ_CRASH")) else 2,
                module=rng.randrange(8),
                null_address=rng.random() < 0.3,
                moz_crash=name.startswith("MOZ_CRASH") or rng.random() < 0.1,
            )
        )
    return tuple(out)


@cache
def product_signatures(seed: int, product: Product) -> tuple[Signature, ...]:
    """The product's signatures by rank: its pool's prefix, its top ``shuffle_top`` ranks reshuffled."""
    pool = signature_pool(seed, product.pool, 30_000 if product.pool == "desktop" else 10_000)
    mine = list(pool[: product.pool_size])
    if product.shuffle_top:
        head = mine[: product.shuffle_top]
        random.Random(f"shuffle:{seed}:{product.name}").shuffle(head)
        mine[: product.shuffle_top] = head
    return tuple(mine)


# --- time ------------------------------------------------------------------------------------------------------


def _hour_weights() -> list[float]:
    """Relative crash volume of each hour of the 28 days: daily cycle, weekends quieter, slow growth."""
    weights = []
    for day in range(DAYS):
        weekend = 0.85 if (day % 7) in (5, 6) else 1.0
        growth = 1.0 + 0.1 * day / DAYS
        for hour in range(24):
            cycle = 1.0 + 0.6 * math.cos((hour - 16) / 24 * 2 * math.pi)
            weights.append(weekend * growth * cycle)
    return weights


_HOUR_CUM = _cum(_hour_weights())


def _time_at(quantile: float, start: dt.datetime) -> dt.datetime:
    """The inverse of the 28 days' distribution (piecewise uniform by hour)."""
    target = quantile * _HOUR_CUM[-1]
    slot = min(bisect.bisect(_HOUR_CUM, target), len(_HOUR_CUM) - 1)
    low = _HOUR_CUM[slot - 1] if slot else 0.0
    within = (target - low) / (_HOUR_CUM[slot] - low)
    return start + dt.timedelta(hours=slot + min(within, 0.999999999))


# --- installations ---------------------------------------------------------------------------------------------


@cache
def installations(seed: int, count: int, end: dt.datetime) -> tuple[tuple[int, ...], list[float]]:
    """Install times (epoch seconds) of ``count`` installations, and their Zipf-like crash propensity."""
    rng = random.Random(f"installs:{seed}")
    end_epoch = int(end.timestamp())
    times = tuple(end_epoch - int(rng.lognormvariate(math.log(60 * 86400), 1.3)) for _ in range(count))
    return times, _zipf_cum(count, 0.6)


# --- crashes ---------------------------------------------------------------------------------------------------


def _crash_id(rng: random.Random, when: dt.datetime) -> str:
    bits = rng.getrandbits(128)
    hexes = f"{bits:032x}"
    return f"{hexes[:8]}-{hexes[8:12]}-4{hexes[13:16]}-{'89ab'[bits & 3]}{hexes[17:20]}-{hexes[20:25]}0{when:%y%m%d}"


@cache
def _debug_id(name: str, salt: str) -> str:
    return hashlib.md5(f"{name}:{salt}".encode(), usedforsecurity=False).hexdigest().upper() + "0"


@dataclass(frozen=True)
class _Tables:
    product_cum: list[float]
    channel_cum: dict[str, list[float]]
    platform_cum: dict[str, list[float]]
    os_cum: dict[str, list[float]]
    arch_cum: dict[str, list[float]]
    version_cum: dict[tuple[str, str], list[float]]
    addons: tuple[str, ...]
    addon_cum: list[float]


@cache
def _tables(seed: int) -> _Tables:
    rng = random.Random(f"addons:{seed}")
    known = ("uBlock0@raymondhill.net:1.61.2", "{446900e4-71c2-419f-a6a7-df9c091e268b}:2024.11.0",
             "jid1-MnnxcxisBPnSXQ@jetpack:2024.10.15", "{d7742d87-e61d-4b78-b8a1-b469842139fa}:1.5.6",
             "addon@darkreader.org:4.9.96")  # fmt: skip
    addons = list(known)
    while len(addons) < 600:
        if rng.random() < 0.5:
            addon_id = "{" + str(random.Random(rng.getrandbits(64)).getrandbits(128).to_bytes(16, "big").hex()) + "}"
        else:
            addon_id = f"{rng.choice(('tab', 'dark', 'video', 'privacy', 'translate', 'mail', 'grammar'))}-" + (
                f"{rng.choice(('helper', 'tools', 'plus', 'pro', 'lite'))}{rng.randrange(1000)}@example.org"
            )
        addons.append(f"{addon_id}:{rng.randrange(1, 12)}.{rng.randrange(30)}.{rng.randrange(10)}")
    return _Tables(
        product_cum=_cum([p.weight for p in PRODUCTS]),
        channel_cum={p.name: _cum([c.weight for c in p.channels]) for p in PRODUCTS},
        platform_cum={p.name: _cum([w for _, w in p.platforms]) for p in PRODUCTS},
        os_cum={os: _cum([w for _, _, w in rows]) for os, rows in OS_VERSIONS.items()},
        arch_cum={os: _cum([w for _, w in rows]) for os, rows in CPU_ARCHS.items()},
        version_cum={
            (p.name, c.name): _cum([1.0 / (i + 1) ** 1.3 for i in range(len(c.versions))])
            for p in PRODUCTS
            for c in p.channels
        },
        addons=tuple(addons),
        addon_cum=_zipf_cum(len(addons), 1.1),
    )


def _pick(rng: random.Random, cum: list[float]) -> int:
    return bisect.bisect(cum, rng.random() * cum[-1])


def _build_id(rng: random.Random, product: Product, channel: Channel, version: str, when: dt.datetime) -> str:
    """Nightly: two builds a day (09:00, 21:00), a crash mostly on one of the last few; else one per version."""
    if channel.nightly:
        latest = when.replace(minute=0, second=0, microsecond=0)
        if when.hour >= 21:
            latest = latest.replace(hour=21)
        elif when.hour >= 9:
            latest = latest.replace(hour=9)
        else:
            latest = latest.replace(hour=21) - dt.timedelta(days=1)
        lag = min(int(rng.expovariate(0.5)), 40)
        return f"{latest - dt.timedelta(hours=12 * lag):%Y%m%d%H%M%S}"
    digest = int.from_bytes(hashlib.md5(f"{product.name}{version}".encode(), usedforsecurity=False).digest()[:4])
    built = DEFAULT_END - dt.timedelta(days=10 + digest % 60, seconds=digest % 86400)
    return f"{built:%Y%m%d%H%M%S}"


def crashes(
    n: int = DEFAULT_N, seed: int = DEFAULT_SEED, end: dt.datetime = DEFAULT_END, start_row: int = 0
) -> Iterator[dict[str, Any]]:
    """Yield crashes ``start_row``..``n``-1 in time order (``start_row`` a multiple of ``CHUNK``)."""
    if start_row % CHUNK:
        raise ValueError(f"start_row must be a multiple of {CHUNK}")
    for chunk in range(start_row // CHUNK, math.ceil(n / CHUNK)):
        yield from _chunk(n, seed, end, chunk)


def _chunk(n: int, seed: int, end: dt.datetime, chunk: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(f"chunk:{seed}:{n}:{chunk}")
    tables = _tables(seed)
    start = end - dt.timedelta(days=DAYS)
    install_times, install_cum = installations(seed, max(1000, n // 4), end)
    for row in range(chunk * CHUNK, min(n, (chunk + 1) * CHUNK)):
        when = _time_at((row + rng.random()) / n, start)
        yield _crash(rng, tables, seed, when, install_times, install_cum)


def _crash(
    rng: random.Random,
    tables: _Tables,
    seed: int,
    when: dt.datetime,
    install_times: tuple[int, ...],
    install_cum: list[float],
) -> dict[str, Any]:
    product = PRODUCTS[_pick(rng, tables.product_cum)]
    channel = product.channels[_pick(rng, tables.channel_cum[product.name])]
    version = channel.versions[_pick(rng, tables.version_cum[(product.name, channel.name)])]
    os_name = product.platforms[_pick(rng, tables.platform_cum[product.name])][0]
    os_version, os_pretty, _ = OS_VERSIONS[os_name][_pick(rng, tables.os_cum[os_name])]
    cpu_arch = CPU_ARCHS[os_name][_pick(rng, tables.arch_cum[os_name])][0]
    signatures = product_signatures(seed, product)
    sig = signatures[_pick(rng, _zipf(len(signatures)))]
    process_type = PROCESS_TYPES[sig.process] if rng.random() < 0.7 else PROCESS_TYPES[_pick(rng, PROCESS_WEIGHTS)]
    if os_name == "Android" and process_type in ("rdd", "socket"):
        process_type = "content"
    reason = REASONS[os_name][sig.reason if rng.random() < 0.85 else rng.randrange(4)]
    if sig.null_address and rng.random() < 0.8:
        address = rng.choice(("0x0", "0x0", "0x8", "0x10", "0x18", "0x28", "0x40"))
    else:
        address = f"0x{rng.getrandbits(44) | (0x7FF000000000 if cpu_arch != 'x86' else 0):x}"
    crash_time = int(when.timestamp()) - rng.randrange(0, 90)
    uptime = min(int(rng.lognormvariate(math.log(900), 2.0)), 40 * 86400)
    client = _pick(rng, install_cum)
    install_time = install_times[client]
    if install_time >= crash_time - uptime:  # installed (on this machine) after the crash could have started
        install_time = crash_time - uptime - rng.randrange(60, 86400)
    startup_time = crash_time - uptime
    app_modules = APP_MODULES[os_name]
    modules = [app_modules[sig.module % len(app_modules)]]
    modules += rng.sample(OS_MODULES[os_name], rng.randrange(1, 4))
    if rng.random() < 0.3:
        modules.append(rng.choice(app_modules))
    submitted = when.isoformat()
    crash: dict[str, Any] = {
        "uuid": _crash_id(rng, when),
        "date_processed": submitted,
        "submitted_timestamp": submitted,
        "crash_time": crash_time,
        "client_crash_date": dt.datetime.fromtimestamp(crash_time, dt.UTC).isoformat(),
        "product": product.name,
        "version": version,
        "major_version": int(version.split(".", 1)[0]),
        "release_channel": channel.name,
        "build": _build_id(rng, product, channel, version, when),
        "os_name": os_name,
        "os_version": os_version,
        "os_pretty_version": os_pretty,
        "cpu_arch": cpu_arch,
        "cpu_count": rng.choice((2, 4, 4, 8, 8, 8, 12, 16, 16, 24, 32)),
        "process_type": process_type,
        "report_type": "hang" if sig.name.startswith("shutdownhang") and rng.random() < 0.2 else "crash",
        "signature": sig.name,
        "proto_signature": f"{sig.name} | {_cpp_frame(rng)} | {_cpp_frame(rng)} | RtlUserThreadStart",
        "reason": reason,
        "address": address,
        "crashing_thread": 0 if rng.random() < 0.8 else rng.randrange(1, 60),
        "thread_count": max(1, int(rng.lognormvariate(math.log(70), 0.6))),
        "uptime": uptime,
        "startup_time": startup_time,
        "install_time": install_time,
        "install_age": crash_time - install_time,
        "last_crash": int(rng.lognormvariate(math.log(5 * 86400), 1.8)) if rng.random() < 0.7 else None,
        "startup_crash": uptime < 60 if rng.random() < 0.95 else None,
        "safe_mode": rng.random() < 0.01,
        "accessibility": rng.random() < 0.05,
        "is_garbage_collecting": (rng.random() < 0.08) if rng.random() < 0.5 else None,
        "useragent_locale": LOCALE_NAMES[_pick(rng, LOCALES)],
        "modules_in_stack": ";".join(
            f"{m}/{_debug_id(m, version if m in app_modules else os_version)}" for m in modules
        ),
        "topmost_filenames": f"hg:hg.mozilla.org/mozilla-central:{sig.name.split('::')[0].split(' ')[-1]}.cpp:1a2b3c",
        "crash_report_keys": sorted(BASE_KEYS + tuple(rng.sample(OPTIONAL_KEYS, rng.randrange(0, 9)))),
        "processor_notes": "dates_and_times: client_crash_date is unknown" if rng.random() < 0.02 else "",
        "stackwalk_version": "crashcart-walker 0.10.0",
    }
    if sig.moz_crash:
        crash["moz_crash_reason"] = f"MOZ_RELEASE_ASSERT(mIsAlive) ({sig.name.rsplit('::', 1)[-1]})"
    if os_name != "Android":
        vendor, _ = ADAPTERS[_pick(rng, ADAPTER_WEIGHTS)]
        crash["adapter_vendor_id"] = vendor
        crash["adapter_device_id"] = f"0x{rng.randrange(0x100, 0x3000):04x}"
        crash["dom_fission_enabled"] = rng.random() < 0.96
    else:
        crash["android_model"] = rng.choice(("SM-S918B", "Pixel 8", "Pixel 7a", "SM-A546B", "moto g 5G", "2201117TY"))
        crash["android_cpu_abi"] = "arm64-v8a" if cpu_arch == "arm64" else "armeabi-v7a"
    if product.has_addons:
        count = min(int(rng.expovariate(0.35)), 25)
        chosen = {tables.addons[_pick(rng, tables.addon_cum)] for _ in range(count)}
        crash["addons"] = sorted(chosen)
        crash["addons_checked"] = True
    if rng.random() < 0.33:
        crash["memory_measures"] = {key: int(rng.lognormvariate(math.log(2**26), 1.5)) for key in MEMORY_KEYS}
    if rng.random() < 0.2:
        crash["url"] = f"https://www.example{rng.randrange(5000)}.com/path/{rng.getrandbits(32):x}"
    if rng.random() < 0.02:
        crash["user_comments"] = rng.choice(("it crashed again", "watching a video", "Firefox closed while typing"))
    return crash


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--n", type=int, default=DEFAULT_N)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--show", type=int, default=3, help="print this many crashes (the first ones)")
    args = parser.parse_args()
    for crash in itertools.islice(crashes(args.n, args.seed), args.show):
        print(json.dumps(crash, indent=1))


if __name__ == "__main__":
    main()
