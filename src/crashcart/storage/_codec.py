"""How stored crash parts are encoded, shared by every backend so a tree copied between them reads the same.

Decoding problems surface as ``StorageUnavailable``: the taxonomy is closed, and a corrupt object is a storage
fault the caller cannot fix by asking differently.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import msgspec
import orjson

from crashcart.errors import StorageUnavailable
from crashcart.storage.interfaces import PendingCrash

LOGGER = logging.getLogger(__name__)


def encode_object(value: Mapping[str, Any]) -> bytes:
    """A raw or processed crash as stored: UTF-8 JSON with sorted keys (stable bytes, easy diffs).

    orjson is five times faster than ``json`` on a typical raw crash (an 8 KB telemetry annotation is most of
    it), which the collector pays on every request. What orjson refuses (an integer beyond 64 bits from a
    hostile ``extra`` part) goes through ``json``, which stores it as is.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value, sort_keys=True).encode()


def encode_dump_names(names: Sequence[str]) -> bytes:
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate dump names {sorted(names)}")
    return json.dumps(sorted(names)).encode()


def encode_marker(queue: str, marked_at: dt.datetime) -> bytes:
    return json.dumps({"queue": queue, "marked_at": marked_at.isoformat()}, sort_keys=True).encode()


def encode_batch_marker(queue: str, marked_at: dt.datetime, crash_ids: Sequence[str]) -> bytes:
    return json.dumps({"queue": queue, "marked_at": marked_at.isoformat(), "crash_ids": list(crash_ids)}).encode()


def decode_batch_marker(name: str, blob: bytes, fallback: dt.datetime) -> list[PendingCrash]:
    """The crashes a batch marker lists (a corrupt one is logged and yields none, like ``decode_marker``)."""
    one = decode_marker(name, blob, fallback)
    if one is None:
        return []
    ids = json.loads(blob).get("crash_ids")
    if not isinstance(ids, list):
        LOGGER.warning("%s: skipping batch marker without a list of crash ids", name)
        return []
    return [
        PendingCrash(crash_id=crash_id, queue=one.queue, marked_at=one.marked_at, batch=name)
        for crash_id in ids
        if isinstance(crash_id, str)
    ]


_RAW_FIELDS = msgspec.json.Decoder(dict[str, msgspec.Raw])


def decode_fields(blob: bytes, crash_id: str, what: str, fields: Collection[str]) -> dict[str, Any]:
    """The top-level ``fields`` of a stored object, the same values ``decode_object`` gives; the rest (a
    processed crash's ``json_dump`` is most of it) is only scanned, never built into Python objects.

    msgspec splits the document into raw values, and each wanted value is decoded by ``json`` as the whole
    document would be (integers beyond 64 bits, ``NaN``, a lone surrogate escape). Anything msgspec refuses
    falls back to decoding everything.
    """
    try:
        parts = _RAW_FIELDS.decode(blob)
    except (msgspec.DecodeError, msgspec.ValidationError):
        whole = decode_object(blob, crash_id, what)
        return {name: value for name, value in whole.items() if name in fields}
    try:
        return {name: json.loads(bytes(raw)) for name, raw in parts.items() if name in fields}
    except ValueError as exc:
        raise StorageUnavailable(f"{crash_id}: stored {what} is not valid JSON: {exc}") from exc


def decode_object(blob: bytes, crash_id: str, what: str) -> dict[str, Any]:
    value = _decode(blob, crash_id, what)
    if not isinstance(value, dict):
        raise StorageUnavailable(f"{crash_id}: stored {what} is not a JSON object")
    return value


def decode_dump_names(blob: bytes, crash_id: str) -> list[str]:
    value = _decode(blob, crash_id, "dump names")
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise StorageUnavailable(f"{crash_id}: stored dump names are not a list of strings")
    return value


def decode_marker(crash_id: str, blob: bytes, fallback: dt.datetime) -> PendingCrash | None:
    """A pending marker; ``fallback`` (the file or object time) stands in for a missing ``marked_at``.

    A corrupt marker is logged and skipped rather than failing the whole sweep.
    """
    try:
        marker = json.loads(blob)
    except ValueError as exc:
        LOGGER.warning("%s: skipping pending marker that is not JSON: %s", crash_id, exc)
        return None
    queue = marker.get("queue") if isinstance(marker, dict) else None
    if not isinstance(queue, str) or not queue:
        LOGGER.warning("%s: skipping pending marker without a queue", crash_id)
        return None
    marked_at = fallback
    raw_marked_at = marker.get("marked_at")
    if isinstance(raw_marked_at, str):
        try:
            parsed = dt.datetime.fromisoformat(raw_marked_at)
        except ValueError:
            LOGGER.warning("%s: pending marker has a bad marked_at %r", crash_id, raw_marked_at[:40])
        else:
            marked_at = parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return PendingCrash(crash_id=crash_id, queue=queue, marked_at=marked_at)


def _decode(blob: bytes, crash_id: str, what: str) -> Any:
    try:
        return json.loads(blob)
    except ValueError as exc:
        raise StorageUnavailable(f"{crash_id}: stored {what} is not valid JSON: {exc}") from exc
