"""Small models: ``VersionString`` (the version of a product/channel/build, from indexed crashes) and ``NoOp``."""

from __future__ import annotations

from typing import Any

from crashcart.web.api.base import APIContext, APIModel, Param, register
from crashcart.web.api.endpoints._common import storable

#: ``build_id`` is a 64-bit column: a larger number matches nothing and must not reach the database.
MAX_BUILD_ID = 2**63 - 1


def version_string(product: str, channel: str, build_id: int) -> str | None:
    """The version most crashes of this product, channel and build id report (ties: the greatest string).

    Socorro reads it from its Buildhub copy; Crashcart has no product catalogue, so the crashes themselves say
    which version a build is. Several versions for one build (a respin, a hand-edited annotation) resolve to
    the commonest one.
    """
    from django.db.models import Count  # noqa: PLC0415

    from crashcart.search.models import Crash  # noqa: PLC0415  (Django models load after setup)

    if not 0 <= build_id <= MAX_BUILD_ID or len(storable([product, channel])) < 2:
        return None
    row = (
        Crash.objects.filter(product=product, release_channel=channel, build_id=build_id)
        .exclude(version__isnull=True)
        .exclude(version="")
        .values("version")
        .annotate(n=Count("uuid"))
        .order_by("-n", "-version")
        .first()
    )
    return None if row is None else str(row["version"])


@register
class VersionString(APIModel):
    name = "VersionString"
    params = (
        Param("product", "str", required=True, help="Product name, e.g. Firefox."),
        Param("channel", "str", required=True, help="Release channel, e.g. beta."),
        Param("build_id", "int", required=True, help="Build id, e.g. 20231211093035."),
    )
    description = "The version string of a product's build on a channel, as its indexed crashes report it."

    def handle(self, ctx: APIContext, params: dict[str, Any]) -> Any:
        version = version_string(params["product"], params["channel"], params["build_id"])
        hits = [] if version is None else [{"version_string": version}]
        return {"hits": hits, "total": len(hits)}


@register
class NoOp(APIModel):
    name = "NoOp"
    params = (Param("product", "str", help="Ignored."),)
    description = "Does nothing; answers an empty result (for checking that the API and a token work)."

    def handle(self, ctx: APIContext, params: dict[str, Any]) -> Any:
        return {"hits": [], "total": 0}
