"""Optional Mozilla rules (off unless named in ``CRASHCART_PROCESSOR_OPTIONAL_RULES``).

Each rule reads Firefox-specific annotations (or the ``memory_report`` dump) and writes the processed fields
Socorro's rule of the same purpose writes. Every input is hostile: a value of the wrong type or size is
dropped with a public note that names the annotation, never its value, and nothing here raises for bad
input. Sizes, counts and nesting are bounded before anything is kept.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import re
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol
from urllib.parse import unquote_plus

import yaml

from crashcart.processor.context import CrashContext
from crashcart.processor.rules._values import INVALID, json_copy, parse_bool, parse_int, parse_json
from crashcart.processor.rules.base import Rule

LOGGER = logging.getLogger(__name__)

#: Longest single-value annotation kept by these rules (longer values are dropped with a note).
MAX_TEXT_CHARS = 64 * 1024


def _text(ctx: CrashContext, annotation: str, max_chars: int = MAX_TEXT_CHARS) -> str | None:
    """The annotation as a string, or None (absent, or dropped with a note when not a bounded string)."""
    if annotation not in ctx.raw_crash:
        return None
    value = ctx.raw_crash[annotation]
    if not isinstance(value, str) or len(value) > max_chars:
        ctx.note(f"{annotation} has a malformed value; dropped")
        return None
    return value


# --- submitted_from ---------------------------------------------------------------------------------------


class SubmittedFromRule(Rule):
    """``submitted_from`` (how the report was sent, ``Unknown`` by default) and the deprecated protected
    ``submitted_from_infobar``, from ``SubmittedFromInfobar`` (older clients) or ``SubmittedFrom``."""

    name: ClassVar[str] = "submitted_from"
    MAX_LENGTH: ClassVar[int] = 100

    def action(self, ctx: CrashContext) -> None:
        if "SubmittedFromInfobar" in ctx.raw_crash:
            infobar = parse_bool(ctx.raw_crash["SubmittedFromInfobar"])
            if infobar is None:
                ctx.note("SubmittedFromInfobar has a malformed value; treated as false")
            submitted_from = "Infobar" if infobar else "Unknown"
        else:
            value = _text(ctx, "SubmittedFrom", self.MAX_LENGTH)
            submitted_from = value.strip() if value is not None and value.strip() else "Unknown"
        ctx.processed["submitted_from"] = submitted_from
        ctx.processed["submitted_from_infobar"] = submitted_from == "Infobar"


# --- accessibility ----------------------------------------------------------------------------------------


class AccessibilityRule(Rule):
    """``accessibility``: whether the ``Accessibility`` annotation says ``Active``."""

    name: ClassVar[str] = "accessibility"

    def action(self, ctx: CrashContext) -> None:
        value = ctx.raw_crash.get("Accessibility", "")
        ctx.processed["accessibility"] = isinstance(value, str) and value.strip() == "Active"


# --- addons -----------------------------------------------------------------------------------------------


class AddonsRule(Rule):
    """``addons_checked`` (``EMCheckCompatibility``, None when absent) and ``addons``: the ``Add-ons``
    comma list as ``id:version`` strings (URL-unquoted; ``:NO_VERSION`` when the version is missing)."""

    name: ClassVar[str] = "addons"
    MAX_ADDONS: ClassVar[int] = 1000
    MAX_ADDON_CHARS: ClassVar[int] = 1024
    MAX_TOTAL_CHARS: ClassVar[int] = 1024 * 1024

    def action(self, ctx: CrashContext) -> None:
        checked: bool | None = None
        if "EMCheckCompatibility" in ctx.raw_crash:
            checked = parse_bool(ctx.raw_crash["EMCheckCompatibility"]) is True
        ctx.processed["addons_checked"] = checked

        addons: list[str] = []
        text = _text(ctx, "Add-ons", self.MAX_TOTAL_CHARS)
        if text:
            items = [item for item in (part.strip() for part in text.split(",")) if item]
            if len(items) > self.MAX_ADDONS:
                ctx.note(f"Add-ons has more than {self.MAX_ADDONS} items; the rest dropped")
                items = items[: self.MAX_ADDONS]
            dropped = 0
            for item in items:
                addon = unquote_plus(item if ":" in item else item + ":NO_VERSION")
                if len(addon) > self.MAX_ADDON_CHARS:
                    dropped += 1
                    continue
                addons.append(addon)
            if dropped:
                ctx.note(f"Add-ons has {dropped} item(s) longer than {self.MAX_ADDON_CHARS} characters; dropped")
        ctx.processed["addons"] = addons


class ThemePrettyNameRule(Rule):
    """Rename the default theme's id in ``addons`` to a readable ``… (default theme)`` (after ``addons``)."""

    name: ClassVar[str] = "theme_pretty_name"
    CONVERSIONS: ClassVar[Mapping[str, str]] = {
        "{972ce4c6-7e08-4474-a285-3208198ce6fd}": "{972ce4c6-7e08-4474-a285-3208198ce6fd} (default theme)",
    }

    def predicate(self, ctx: CrashContext) -> bool:
        addons = ctx.processed.get("addons")
        return isinstance(addons, list) and any(
            isinstance(addon, str) and addon.split(":", 1)[0] in self.CONVERSIONS for addon in addons
        )

    def action(self, ctx: CrashContext) -> None:
        addons = ctx.processed["addons"]
        for index, addon in enumerate(addons):
            if not isinstance(addon, str):
                continue
            extension, sep, version = addon.partition(":")
            if extension in self.CONVERSIONS:
                addons[index] = self.CONVERSIONS[extension] + sep + version


# --- out_of_memory_binary (the memory_report dump) --------------------------------------------------------


class OutOfMemoryBinaryRule(Rule):
    """``memory_report`` (protected): the gzipped JSON ``memory_report`` dump, decompressed in bounded
    chunks; ``memory_report_error`` (protected) and a note instead when it is not gzip, not a JSON object,
    or more than ``MAX_SIZE_UNCOMPRESSED`` bytes once decompressed (a gzip bomb stops at the limit)."""

    name: ClassVar[str] = "out_of_memory_binary"
    DUMP_NAME: ClassVar[str] = "memory_report"
    MAX_SIZE_UNCOMPRESSED: ClassVar[int] = 20 * 1024 * 1024
    CHUNK: ClassVar[int] = 1024 * 1024
    MAX_DEPTH: ClassVar[int] = 64

    def __init__(self, max_size_uncompressed: int | None = None) -> None:
        self._max = max_size_uncompressed or self.MAX_SIZE_UNCOMPRESSED

    def predicate(self, ctx: CrashContext) -> bool:
        return self.DUMP_NAME in ctx.dumps

    def action(self, ctx: CrashContext) -> None:
        ctx.processed.pop("memory_report", None)
        ctx.processed.pop("memory_report_error", None)
        report, error = self.read(Path(ctx.dumps[self.DUMP_NAME]))
        if error is not None:
            ctx.processed["memory_report_error"] = error
            ctx.note(error)
        else:
            ctx.processed["memory_report"] = report

    def read(self, path: Path) -> tuple[dict[str, Any] | None, str | None]:
        """The decoded report, or None and an error text (public: it never quotes the dump's content)."""
        try:
            data = self._decompress(path)
        except _TooLarge:
            return None, f"memory_report: uncompressed size exceeds {self._max} bytes"
        except (OSError, EOFError, zlib.error):
            return None, "memory_report: not a valid gzip file"
        try:
            decoded = json.loads(data)
        except (ValueError, RecursionError):
            return None, "memory_report: not valid JSON"
        if not isinstance(decoded, dict):
            return None, "memory_report: not a JSON object"
        copied = json_copy(decoded, self.MAX_DEPTH)
        if copied is INVALID:
            return None, f"memory_report: nested deeper than {self.MAX_DEPTH} levels"
        return copied, None

    def _decompress(self, path: Path) -> bytes:
        buffer = bytearray()
        with gzip.open(path, "rb") as stream:
            while True:
                chunk = stream.read(min(self.CHUNK, self._max + 1 - len(buffer)))
                if not chunk:
                    return bytes(buffer)
                buffer += chunk
                if len(buffer) > self._max:
                    raise _TooLarge


class _TooLarge(Exception):
    pass


# --- phc --------------------------------------------------------------------------------------------------


class PHCRule(Rule):
    """Probabilistic heap checker annotations (all protected): ``phc_kind``, ``phc_base_address`` (the
    decimal address as hex), ``phc_usable_size``, ``phc_alloc_stack`` and ``phc_free_stack`` (comma lists of
    addresses, kept as sent)."""

    name: ClassVar[str] = "phc"
    MAX_KIND_CHARS: ClassVar[int] = 100
    _DECIMAL = re.compile(r"\d{1,20}")

    def predicate(self, ctx: CrashContext) -> bool:
        return "PHCKind" in ctx.raw_crash

    def action(self, ctx: CrashContext) -> None:
        kind = _text(ctx, "PHCKind", self.MAX_KIND_CHARS)
        if kind is not None:
            ctx.processed["phc_kind"] = kind.strip()
        if "PHCBaseAddress" in ctx.raw_crash:
            address = self._address(ctx.raw_crash["PHCBaseAddress"])
            if address is None:
                ctx.note("PHCBaseAddress has a malformed value; dropped")
            else:
                ctx.processed["phc_base_address"] = hex(address)
        if "PHCUsableSize" in ctx.raw_crash:
            size = parse_int(ctx.raw_crash["PHCUsableSize"])
            if size is None or size < 0:
                ctx.note("PHCUsableSize has a malformed value; dropped")
            else:
                ctx.processed["phc_usable_size"] = size
        for annotation, field in (("PHCAllocStack", "phc_alloc_stack"), ("PHCFreeStack", "phc_free_stack")):
            stack = _text(ctx, annotation)
            if stack is not None:
                ctx.processed[field] = stack.strip()

    def _address(self, value: Any) -> int | None:
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            number = value
        elif isinstance(value, str) and self._DECIMAL.fullmatch(value.strip()):
            number = int(value.strip())
        else:
            return None
        return number if 0 <= number < 2**64 else None


# --- breadcrumbs ------------------------------------------------------------------------------------------


class BreadcrumbsRule(Rule):
    """``breadcrumbs`` (protected): the ``Breadcrumbs`` JSON list (Sentry style, optionally wrapped in
    ``{"values": [...]}``) after validation; otherwise the note ``Breadcrumbs: malformed: <reason>``.

    Each item must be an object with a ``timestamp`` (string or number); ``category``, ``level``,
    ``message`` and ``type`` must be strings and ``data`` an object when present; other keys are dropped.
    At most ``MAX_ITEMS`` (the newest, last in the list) are kept; nesting is bounded by ``MAX_DEPTH``.
    """

    name: ClassVar[str] = "breadcrumbs"
    MAX_ITEMS: ClassVar[int] = 1000
    MAX_DEPTH: ClassVar[int] = 16
    STRING_KEYS: ClassVar[tuple[str, ...]] = ("category", "level", "message", "type")

    def predicate(self, ctx: CrashContext) -> bool:
        return bool(ctx.raw_crash.get("Breadcrumbs"))

    def action(self, ctx: CrashContext) -> None:
        ctx.processed.pop("breadcrumbs", None)
        decoded = parse_json(ctx.raw_crash["Breadcrumbs"])
        if decoded is INVALID:
            ctx.note("Breadcrumbs: malformed: not valid json")
            return
        if isinstance(decoded, dict) and "values" in decoded:
            decoded = decoded["values"]
        copied = json_copy(decoded, self.MAX_DEPTH)
        if copied is INVALID:
            ctx.note(f"Breadcrumbs: malformed: nested deeper than {self.MAX_DEPTH} levels")
            return
        if not isinstance(copied, list):
            ctx.note("Breadcrumbs: malformed: not a list")
            return
        if len(copied) > self.MAX_ITEMS:
            ctx.note(f"Breadcrumbs: more than {self.MAX_ITEMS} items; only the last {self.MAX_ITEMS} kept")
            copied = copied[-self.MAX_ITEMS :]
        crumbs: list[dict[str, Any]] = []
        for index, item in enumerate(copied):
            crumb, problem = self._validate(item)
            if problem is not None:
                ctx.note(f"Breadcrumbs: malformed: item {index} {problem}")
                return
            assert crumb is not None
            crumbs.append(crumb)
        ctx.processed["breadcrumbs"] = crumbs

    def _validate(self, item: Any) -> tuple[dict[str, Any] | None, str | None]:
        if not isinstance(item, dict):
            return None, "not a dict"
        if "timestamp" not in item:
            return None, "missing keys: timestamp"
        timestamp = item["timestamp"]
        if isinstance(timestamp, bool) or not isinstance(timestamp, str | int | float):
            return None, "timestamp is not a string or number"
        crumb: dict[str, Any] = {"timestamp": timestamp}
        for key in self.STRING_KEYS:
            if key in item and item[key] is not None:
                if not isinstance(item[key], str):
                    return None, f"{key} is not a string"
                crumb[key] = item[key]
        if item.get("data") is not None:
            if not isinstance(item["data"], dict):
                return None, "data is not an object"
            crumb["data"] = item["data"]
        return crumb, None


# --- moz_crash_reason -------------------------------------------------------------------------------------


class MozCrashReasonRule(Rule):
    """``moz_crash_reason_raw`` (protected, as sent) and ``moz_crash_reason`` (public): the same text, or
    ``sanitized--see moz_crash_reason_raw`` when it starts with a prefix known to carry dynamic data."""

    name: ClassVar[str] = "moz_crash_reason"
    SANITIZED: ClassVar[str] = "sanitized--see moz_crash_reason_raw"
    DISALLOWED_PREFIXES: ClassVar[tuple[str, ...]] = (
        "Failed to load module",
        "byte index",
        "do not use eval with system privileges",
    )

    def predicate(self, ctx: CrashContext) -> bool:
        return bool(ctx.raw_crash.get("MozCrashReason"))

    def action(self, ctx: CrashContext) -> None:
        ctx.processed.pop("moz_crash_reason", None)
        ctx.processed.pop("moz_crash_reason_raw", None)
        reason = _text(ctx, "MozCrashReason")
        if reason is None:
            return
        ctx.processed["moz_crash_reason_raw"] = reason
        ctx.processed["moz_crash_reason"] = self.SANITIZED if reason.startswith(self.DISALLOWED_PREFIXES) else reason


# --- utility_actors_name ----------------------------------------------------------------------------------


class UtilityActorsNameRule(Rule):
    """``utility_actors_name``: the ``UtilityActorsName`` comma list as a list of non-empty names."""

    name: ClassVar[str] = "utility_actors_name"
    MAX_NAMES: ClassVar[int] = 100
    MAX_NAME_CHARS: ClassVar[int] = 200

    def action(self, ctx: CrashContext) -> None:
        text = _text(ctx, "UtilityActorsName", self.MAX_NAMES * (self.MAX_NAME_CHARS + 1))
        if text is None:
            return
        names = [name for name in (part.strip() for part in text.split(",")) if name]
        if len(names) > self.MAX_NAMES or any(len(name) > self.MAX_NAME_CHARS for name in names):
            ctx.note("UtilityActorsName has a malformed value; dropped")
            return
        ctx.processed["utility_actors_name"] = names


# --- distribution_id --------------------------------------------------------------------------------------


class DistributionIdRule(Rule):
    """``distribution_id``: ``DistributionID``, else ``TelemetryEnvironment``'s ``partner.distributionId``;
    ``unknown`` when neither says, ``mozilla`` when the value is null or empty."""

    name: ClassVar[str] = "distribution_id"
    MAX_LENGTH: ClassVar[int] = 200

    def action(self, ctx: CrashContext) -> None:
        value = _text(ctx, "DistributionID", self.MAX_LENGTH)
        if not value:
            value = self._from_telemetry(ctx)
        ctx.processed["distribution_id"] = value.strip() if value and value.strip() else "mozilla"

    def _from_telemetry(self, ctx: CrashContext) -> str | None:
        """``partner.distributionId`` (None when null), or ``unknown`` when not there or malformed."""
        if "TelemetryEnvironment" not in ctx.raw_crash:
            return "unknown"
        telemetry = parse_json(ctx.raw_crash["TelemetryEnvironment"])
        partner = telemetry.get("partner") if isinstance(telemetry, dict) else None
        if not isinstance(partner, dict) or "distributionId" not in partner:
            return "unknown"
        value = partner["distributionId"]
        if value is None or (isinstance(value, str) and len(value) <= self.MAX_LENGTH):
            return value
        ctx.note("TelemetryEnvironment has a malformed partner.distributionId; dropped")
        return "unknown"


# --- beta_version -----------------------------------------------------------------------------------------


class VersionLookup(Protocol):
    """The real version string of a beta/aurora build, or None when unknown."""

    def __call__(self, product: str, channel: str, build_id: str) -> str | None: ...


@dataclass(frozen=True)
class _Entry:
    product: str
    channel: str
    build_id: str
    version: str


class BetaVersionsFileError(ValueError):
    """The beta versions file cannot be used; the message names the file (and the row)."""


class FileVersionLookup:
    """A ``VersionLookup`` over a file the deployment keeps: CSV with a header row
    ``product,channel,build_id,version``, or YAML (``.yaml``/``.yml``) holding a list of mappings with those
    keys. Product and channel match case-insensitively; a later row for the same build wins.

    The file is read when built (a malformed file raises ``BetaVersionsFileError`` naming the file and row) and again
    when its modification time or size changes, checked at most every ``recheck_seconds``; a malformed
    rewrite is logged and the previous contents are kept.
    """

    MAX_FILE_BYTES: ClassVar[int] = 16 * 1024 * 1024
    MAX_FIELD_CHARS: ClassVar[int] = 100
    COLUMNS: ClassVar[tuple[str, ...]] = ("product", "channel", "build_id", "version")

    def __init__(
        self, path: Path, *, recheck_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._path = path
        self._recheck = recheck_seconds
        self._clock = clock
        self._stamp = self._stat()
        self._table = self._load()
        self._checked = clock()

    def __call__(self, product: str, channel: str, build_id: str) -> str | None:
        self._maybe_reload()
        return self._table.get((product.lower(), channel.lower(), build_id))

    def _stat(self) -> tuple[int, int]:
        try:
            info = self._path.stat()
        except OSError as exc:
            raise BetaVersionsFileError(f"{self._path}: cannot read: {exc}") from exc
        return info.st_mtime_ns, info.st_size

    def _maybe_reload(self) -> None:
        now = self._clock()
        if now - self._checked < self._recheck:
            return
        self._checked = now
        try:
            stamp = self._stat()
            if stamp != self._stamp:
                self._table = self._load()
                self._stamp = stamp
        except BetaVersionsFileError as exc:
            LOGGER.warning("beta versions file not reloaded: %s", exc)

    def _load(self) -> dict[tuple[str, str, str], str]:
        source = str(self._path)
        try:
            with self._path.open("rb") as stream:
                data = stream.read(self.MAX_FILE_BYTES + 1)
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise BetaVersionsFileError(f"{source}: cannot read: {exc}") from exc
        if len(data) > self.MAX_FILE_BYTES:
            raise BetaVersionsFileError(f"{source}: larger than {self.MAX_FILE_BYTES} bytes")
        rows = self._yaml_rows(text, source) if self._path.suffix.lower() in {".yaml", ".yml"} else self._csv_rows(text)
        table: dict[tuple[str, str, str], str] = {}
        for number, row in enumerate(rows, start=1):
            entry = self._entry(row, f"{source}: row {number}")
            table[(entry.product.lower(), entry.channel.lower(), entry.build_id)] = entry.version
        return table

    def _csv_rows(self, text: str) -> Iterable[Any]:
        reader = csv.DictReader(io.StringIO(text))
        missing = [column for column in self.COLUMNS if column not in (reader.fieldnames or [])]
        if missing:
            raise BetaVersionsFileError(f"{self._path}: CSV header lacks {', '.join(missing)}")
        return list(reader)

    def _yaml_rows(self, text: str, source: str) -> Iterable[Any]:
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise BetaVersionsFileError(f"{source}: not valid YAML: {exc}") from exc
        if doc is None:
            return []
        if not isinstance(doc, list):
            raise BetaVersionsFileError(f"{source}: expected a list of {{{', '.join(self.COLUMNS)}}} mappings")
        return doc

    def _entry(self, row: Any, where: str) -> _Entry:
        if not isinstance(row, dict):
            raise BetaVersionsFileError(f"{where}: not a mapping")
        values: list[str] = []
        for column in self.COLUMNS:
            value = row.get(column)
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)  # YAML reads an unquoted build id as a number
            if not isinstance(value, str) or not value.strip() or len(value) > self.MAX_FIELD_CHARS:
                raise BetaVersionsFileError(f"{where}: {column} must be a non-empty string")
            values.append(value.strip())
        return _Entry(*values)


class CachedVersionLookup:
    """Wraps a ``VersionLookup`` with a bounded in-memory cache: answers for ``hit_ttl`` seconds, misses
    for ``miss_ttl`` (a new beta may be added later), at most ``max_size`` entries (least recently used go)."""

    def __init__(
        self,
        lookup: VersionLookup,
        *,
        max_size: int = 5000,
        hit_ttl: float = 24 * 3600.0,
        miss_ttl: float = 30 * 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._max = max_size
        self._hit_ttl = hit_ttl
        self._miss_ttl = miss_ttl
        self._clock = clock
        self._cache: OrderedDict[tuple[str, str, str], tuple[float, str | None]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._cache)

    def __call__(self, product: str, channel: str, build_id: str) -> str | None:
        key = (product, channel, build_id)
        now = self._clock()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            self._cache.move_to_end(key)
            return cached[1]
        version = self._lookup(product, channel, build_id)
        self._cache[key] = (now + (self._hit_ttl if version else self._miss_ttl), version)
        self._cache.move_to_end(key)
        while len(self._cache) > self._max:
            self._cache.popitem(last=False)
        return version


class BetaVersionRule(Rule):
    """``version`` for beta and aurora builds, which report the release's version (``91.0``) rather than
    the beta's (``91.0b3``): looked up by product, channel and ``build``; without an answer ``b0`` is
    appended and a note says so. Firefox aurora builds after 2017-06-01 are looked up as ``DevEdition``."""

    name: ClassVar[str] = "beta_version"
    SUPPORTED_PRODUCTS: ClassVar[Mapping[str, str]] = {"firefox": "Firefox", "thunderbird": "Thunderbird"}
    CHANNELS: ClassVar[frozenset[str]] = frozenset({"beta", "aurora"})
    _BUILD_RE = re.compile(r"\d{8,16}")

    def __init__(self, lookup: VersionLookup, *, cache_size: int = 5000) -> None:
        self._lookup = CachedVersionLookup(lookup, max_size=cache_size)

    def predicate(self, ctx: CrashContext) -> bool:
        product = ctx.processed.get("product")
        channel = ctx.processed.get("release_channel")
        return (
            isinstance(product, str)
            and product.strip().lower() in self.SUPPORTED_PRODUCTS
            and isinstance(channel, str)
            and channel.strip().lower() in self.CHANNELS
            and isinstance(ctx.processed.get("version"), str)
        )

    def action(self, ctx: CrashContext) -> None:
        product = ctx.processed["product"].strip().lower()
        channel = ctx.processed["release_channel"].strip().lower()
        build_id = ctx.processed.get("build")
        if isinstance(build_id, str) and self._BUILD_RE.fullmatch(build_id.strip()):
            build_id = build_id.strip()
            lookup_product = self.SUPPORTED_PRODUCTS[product]
            if (product, channel) == ("firefox", "aurora") and build_id > "20170601":
                lookup_product = "DevEdition"
            version = self._lookup(lookup_product, channel, build_id)
            if version:
                ctx.processed["version"] = version
                return
            LOGGER.info("beta_version: no version for %s %s %s", lookup_product, channel, build_id)
        ctx.processed["version"] += "b0"
        ctx.note(f'release channel is {channel} but no version data was found - added "b0" suffix to version number')


# --- shutdown_hang_crashing_thread ------------------------------------------------------------------------


class ShutdownHangCrashingThreadRule(Rule):
    """Shutdown hangs are crashed on purpose by a watchdog thread while the main thread is the one that
    hangs: when the signature starts with ``shutdownhang``, ``crashing_thread`` becomes 0 (the main thread)."""

    name: ClassVar[str] = "shutdown_hang_crashing_thread"

    def predicate(self, ctx: CrashContext) -> bool:
        signature = ctx.processed.get("signature")
        return isinstance(signature, str) and signature.startswith("shutdownhang")

    def action(self, ctx: CrashContext) -> None:
        ctx.processed["crashing_thread"] = 0
