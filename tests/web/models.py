"""Trivial API models that exercise the dispatcher (registered only by the tests' server, never shipped)."""

from __future__ import annotations

from typing import Any, ClassVar

from crashcart.errors import BadArgumentError
from crashcart.web.api.base import APIContext, APIError, APIModel, Binary, Param, register

#: Annotation that must never reach a response body, even when a model fails while holding it.
SECRET_CRASH_DATA = "secret-crash-data-4a1b"


@register
class Echo(APIModel):
    name = "TestEcho"
    params = (
        Param("word", "str", required=True, help="echoed"),
        Param("count", "int"),
        Param("flag", "bool"),
        Param("items", "list"),
    )
    description = "Echoes its parameters and who asked."

    def handle(self, ctx: APIContext, params: dict[str, Any]) -> Any:
        return {
            "params": params,
            "permissions": sorted(ctx.caller.permissions),
            "user_id": ctx.caller.user_id,
            "token_id": ctx.caller.token_id,
        }


@register
class Private(APIModel):
    name = "TestPrivate"
    permission = "view_pii"
    cache_seconds = 0
    description = "Needs view_pii."

    def handle(self, ctx: APIContext, params: dict[str, Any]) -> Any:
        return {"ok": True}


@register
class Dump(APIModel):
    name = "TestDump"
    params = (Param("id", "str", required=True),)
    binary_permission = "view_rawdump"
    cache_seconds = 0
    description = "A binary answer, needing view_rawdump; unknown ids are 404 first."

    def handle(self, ctx: APIContext, params: dict[str, Any]) -> Any:
        if params["id"] != "known":
            raise APIError(404, {"error": f"Not found: CrashIDNotFound {params['id']}"})
        return Binary(b"MDMP\x00\x01", filename=f'{params["id"]}"\r\nX-Injected: 1.dmp')


@register
class Boom(APIModel):
    name = "TestBoom"
    description = "Fails with crash data in its exception."

    def handle(self, ctx: APIContext, params: dict[str, Any]) -> Any:
        raise RuntimeError(f"annotation value {SECRET_CRASH_DATA}")


@register
class Reprocess(APIModel):
    name = "TestReprocess"
    methods: ClassVar[tuple[str, ...]] = ("POST",)
    permission = "reprocess_crashes"
    cache_seconds = 0
    params = (Param("crash_ids", "list", required=True),)
    description = "POST only."

    def handle(self, ctx: APIContext, params: dict[str, Any]) -> Any:
        return {"ids": params["crash_ids"]}


@register
class BadArgument(APIModel):
    name = "TestBadArgument"
    description = "Raises Super Search's BadArgumentError."

    def handle(self, ctx: APIContext, params: dict[str, Any]) -> Any:
        raise BadArgumentError("Bad value for parameter(s) '_results_number'")
