"""One crash by id: ``ProcessedCrash``, ``RawCrash`` (annotations or dump bytes) and ``CrashVerify``.

Permission is applied to the document, not to the endpoint: without ``view_pii`` a caller gets the public view
(``crashcart.schemas.public_view``: undeclared fields are dropped too, as Socorro reduces to its public
schema); with it, the whole document. Dump bytes need ``view_rawdump``, checked only once the crash and the
dump are known to exist, so an unknown crash is a 404 whoever asks (Socorro's order).
"""

from __future__ import annotations

from typing import Any

from crashcart.errors import CrashNotFound
from crashcart.schemas import SchemaKind, public_view
from crashcart.storage.keys import MAIN_DUMP, is_dump_name
from crashcart.web.api.base import APIContext, APIError, APIModel, Binary, Param, register
from crashcart.web.api.endpoints._common import (
    VIEW_PII,
    VIEW_RAWDUMP,
    checked_crash_id,
    not_found,
    schemas,
)

#: ``name`` values that mean the main minidump: crashstats-tools asks for ``dump``, the raw crash lists
#: ``upload_file_minidump``, and Socorro treats an empty name the same way.
MAIN_DUMP_ALIASES = frozenset({"", "dump", MAIN_DUMP})

RAW_DUMPS_FORBIDDEN = {"error": "Binary response requires permissions: View Raw Dumps"}


@register
class ProcessedCrash(APIModel):
    name = "ProcessedCrash"
    params = (
        Param("crash_id", "str", required=True, help="The crash id."),
        Param("format", "str", help="Ignored (crashstats-tools sends format=meta)."),
    )
    cache_seconds = 0
    description = (
        "The processed crash. Callers without the view_pii permission get only its public fields; "
        "with it, the whole document."
    )

    def handle(self, ctx: APIContext, params: dict[str, Any]) -> Any:
        crash_id = checked_crash_id(params.get("crash_id"))
        return _document_for(ctx, crash_id, "processed_crash")


@register
class RawCrash(APIModel):
    name = "RawCrash"
    params = (
        Param("crash_id", "str", required=True, help="The crash id."),
        Param("format", "str", help="meta (default): the annotations as JSON; raw: the bytes of dump `name`."),
        Param("name", "str", help="With format=raw: the dump (dump, upload_file_minidump or empty: the main one)."),
    )
    cache_seconds = 0
    binary_permission = VIEW_RAWDUMP
    description = (
        "The crash's annotations (format=meta; public ones only without view_pii, so no `metadata`), or the "
        "bytes of one of its dumps (format=raw&name=<dump>, needs view_rawdump)."
    )

    def handle(self, ctx: APIContext, params: dict[str, Any]) -> Any:
        crash_id = checked_crash_id(params.get("crash_id"))
        fmt = params.get("format") or "meta"
        if fmt == "meta":
            return self._annotations(ctx, crash_id)
        if fmt == "raw":
            return self._dump(ctx, crash_id, params.get("name") or "")
        raise APIError(400, {"error": "Bad request: BadArgumentError: Bad value for parameter(s) 'format'"})

    @staticmethod
    def _annotations(ctx: APIContext, crash_id: str) -> dict[str, Any]:
        return _document_for(ctx, crash_id, "raw_crash")

    @staticmethod
    def _dump(ctx: APIContext, crash_id: str, name: str) -> Binary:
        dump_name = MAIN_DUMP if name in MAIN_DUMP_ALIASES else name
        storage = ctx.storage()
        try:
            names = storage.get_dump_names(crash_id)
        except CrashNotFound as exc:
            raise not_found(crash_id) from exc
        if not is_dump_name(dump_name) or dump_name not in names:
            raise not_found(crash_id)
        if not ctx.caller.has(VIEW_RAWDUMP):  # after the lookups: an unknown crash or dump is a 404 first
            raise APIError(403, RAW_DUMPS_FORBIDDEN)
        try:
            body = storage.get_dump(crash_id, dump_name)
        except CrashNotFound as exc:
            raise not_found(crash_id) from exc
        return Binary(body=body, filename=dump_filename(crash_id, name))


def dump_filename(crash_id: str, name: str) -> str:
    """Socorro's attachment names: ``<id>.dmp`` for the main dump, ``<id>-<name>.dmp`` for another one, and
    ``memory_report.json.gz`` for the memory report."""
    if name in MAIN_DUMP_ALIASES:
        return f"{crash_id}.dmp"
    if name == "memory_report":
        return "memory_report.json.gz"
    return f"{crash_id}-{name}.dmp"


@register
class CrashVerify(APIModel):
    name = "CrashVerify"
    params = (Param("crash_id", "str", help="The crash id."),)
    cache_seconds = 0
    description = (
        "Where a crash is: raw_crash and processed_crash (in storage), elasticsearch_crash (in the crash index; "
        "the name is Socorro's), telemetry_crash (always false: Crashcart has no telemetry bucket)."
    )

    def handle(self, ctx: APIContext, params: dict[str, Any]) -> Any:
        crash_id = params.get("crash_id")
        try:
            crash_id = checked_crash_id(crash_id)
        except APIError as exc:
            raise APIError(400, {"error": "unknown crash id"}) from exc
        storage = ctx.storage()
        try:
            storage.get_processed_crash(crash_id)
        except CrashNotFound:
            processed = False
        else:
            processed = True
        return {
            "uuid": crash_id,
            "raw_crash": storage.has_raw_crash(crash_id),
            "processed_crash": processed,
            "elasticsearch_crash": is_indexed(crash_id),
            "telemetry_crash": False,
        }


def is_indexed(crash_id: str) -> bool:
    """Whether the crash index has a row for ``crash_id``."""
    from crashcart.search.models import Crash  # noqa: PLC0415  (Django models load after setup)

    return bool(Crash.objects.filter(uuid=crash_id).exists())


def _document_for(ctx: APIContext, crash_id: str, kind: SchemaKind) -> dict[str, Any]:
    """The stored raw or processed crash as the caller may see it: whole with view_pii, else its public view."""
    storage = ctx.storage()
    read = storage.get_raw_crash if kind == "raw_crash" else storage.get_processed_crash
    try:
        document = read(crash_id)
    except CrashNotFound as exc:
        raise not_found(crash_id) from exc
    if ctx.caller.has(VIEW_PII):
        return document
    return public_view(document, schemas(ctx.settings.schema_extra_fields)[kind])
