"""``Reprocessing``: publish crash ids (optionally with a ruleset) to the reprocessing queue.

Every item is checked before anything is published, so a request with one bad id publishes nothing and the
caller can fix it and send the whole request again (crashstats-tools never retries a POST by itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from crashcart.crashid import is_crash_id
from crashcart.queue.interfaces import REPROCESSING
from crashcart.web.api.base import APIContext, APIModel, Param, register
from crashcart.web.api.endpoints._common import REPROCESS_CRASHES, bad_argument


def reprocessing_bodies(items: Sequence[str], rulesets: Sequence[str]) -> list[str]:
    """Queue messages for ``<id>`` / ``<id>:<ruleset>`` items; the first invalid one raises Socorro's 400."""
    bodies = []
    for item in items:
        crash_id, colon, ruleset = item.partition(":")
        if not is_crash_id(crash_id):
            raise bad_argument(f"Crash id {_quoted(crash_id)} is not valid.")
        if colon and ruleset not in rulesets:
            raise bad_argument(f"Ruleset {_quoted(ruleset)} is not valid.")
        bodies.append(f"{crash_id}:{ruleset}" if colon else crash_id)
    return bodies


def _quoted(value: str) -> str:
    """The value as Socorro quotes it, cut short: a caller's typo is worth echoing, a megabyte is not."""
    return f"'{value[:100]}'"


@register
class Reprocessing(APIModel):
    name = "Reprocessing"
    methods = ("POST",)
    params = (
        Param(
            "crash_ids",
            "list",
            required=True,
            help="Crash ids to reprocess, each `<id>` or `<id>:<ruleset>` (rulesets: default, regenerate_signature).",
        ),
    )
    permission = REPROCESS_CRASHES
    cache_seconds = 0
    description = "Queue crashes for reprocessing (background work: fresh crashes go first). Answers true."

    def handle(self, ctx: APIContext, params: dict[str, Any]) -> Any:
        from crashcart.processor.rulesets import ruleset_names  # noqa: PLC0415  (the processor's rules are heavy)

        bodies = reprocessing_bodies(params.get("crash_ids") or [], ruleset_names())
        if not bodies:
            raise bad_argument("Bad value for parameter(s) 'crash_ids'")
        ctx.queue().publish(REPROCESSING, bodies)
        return True
