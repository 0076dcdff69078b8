"""Super Search over the crash index: ``SuperSearch``, ``SuperSearchUnredacted`` and ``SuperSearchFields``.

The query language lives in ``crashcart.search.query`` (parsing) and ``crashcart.search.runner``
(running); these models only say who may see what. ``SuperSearch`` is open to everyone and, for a caller
without ``view_pii``, drops filters, columns, facets and aggregations on protected fields (Socorro's silent
drop); a caller with ``view_pii`` sees them. ``SuperSearchUnredacted`` needs ``view_pii`` for the whole
endpoint and strips nothing.

Parameters are declared from the field catalogue, so ``/api/openapi.json`` lists every filter and meta
parameter and the dispatcher passes each as a list.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from crashcart.web.api.base import APIContext, APIModel, Param, register
from crashcart.web.api.endpoints._common import VIEW_PII

#: Meta parameters (Socorro's), each a repeatable list parameter.
META_PARAMS: tuple[tuple[str, str], ...] = (
    ("_columns", "Fields each hit carries (default uuid, date, signature, product, version)."),
    ("_sort", "Sort keys; a leading '-' sorts descending. Ties are broken by crash id."),
    ("_facets", "Fields to count terms of (default signature); also _histogram.<f> and _cardinality.<f>."),
    ("_facets_size", "Terms per facet (default 50; 0: no aggregations at all)."),
    ("_results_number", "Hits per page (default 100, at most 1,000)."),
    ("_results_offset", "Hits to skip (default 0)."),
    ("_cursor", "Continue after the last hit of the page that returned this next_cursor."),
)


def search_params(fields: Iterable[Any]) -> tuple[Param, ...]:
    """Every parameter Super Search takes, from the catalogue's fields (``SearchField`` objects)."""
    fields = list(fields)
    declared = [Param(name, "list", help=help_text) for name, help_text in META_PARAMS]
    facetable = [f.name for f in fields if f.facetable]
    for spec in fields:
        operators = " ".join(sorted(op for op in spec.operators if op)) or "none"
        declared.append(
            Param(spec.name, "list", help=f"{spec.description} ({spec.query_type}; prefixes: {operators})".strip())
        )
    for name in facetable:
        declared.append(Param(f"_aggs.{name}", "list", help=f"Sub-aggregations under each {name} term."))
    declared.append(
        Param(
            "_aggs.",
            "list",
            help="Nested aggregations, any depth: _aggs.<field>.<field>=<sub> (e.g. _aggs.product.version).",
            prefix=True,
        )
    )
    for spec in fields:
        if spec.histogrammable:
            declared.append(Param(f"_histogram.{spec.name}", "list", help=f"Sub-aggregations per {spec.name} bucket."))
            declared.append(
                Param(
                    f"_histogram_interval.{spec.name}",
                    "list",
                    help="Bucket width: a calendar interval for dates (day by default), a number otherwise.",
                )
            )
    return tuple(declared)


@functools.cache
def _catalogue_params() -> tuple[Param, ...]:
    from crashcart.search.fields import catalogue  # noqa: PLC0415  (built once per process)

    return search_params(catalogue().fields.values())


def query_params(params: Mapping[str, Any]) -> dict[str, Sequence[str]]:
    """The request's search parameters as the parser takes them: only those given, each a list of strings."""
    query: dict[str, Sequence[str]] = {}
    for name, value in params.items():
        if value is None or value in ([], ""):
            continue
        query[name] = [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
    return query


def run_search(ctx: APIContext, params: Mapping[str, Any], *, allow_protected: bool) -> dict[str, Any]:
    """Parse and run one search (``crashcart.search.runner.supersearch``); bad input raises its 400 error."""
    from crashcart.search.runner import supersearch  # noqa: PLC0415  (Django models load after setup)

    return supersearch(query_params(params), allow_protected=allow_protected, now=ctx.now, settings=ctx.settings)


@register
class SuperSearch(APIModel):
    name = "SuperSearch"
    params = _catalogue_params()
    description = (
        "Search crashes with Socorro's Super Search language. Without view_pii, filters, columns, facets and "
        "aggregations on protected fields are dropped silently and hits carry only public fields."
    )

    def handle(self, ctx: APIContext, params: dict[str, Any]) -> Any:
        return run_search(ctx, params, allow_protected=ctx.caller.has(VIEW_PII))


@register
class SuperSearchUnredacted(APIModel):
    name = "SuperSearchUnredacted"
    params = _catalogue_params()
    permission = VIEW_PII
    description = "Super Search with protected fields: needs view_pii; nothing is stripped."

    def handle(self, ctx: APIContext, params: dict[str, Any]) -> Any:
        return run_search(ctx, params, allow_protected=True)


@register
class SuperSearchFields(APIModel):
    name = "SuperSearchFields"
    description = "Every Super Search field: its type, operators, permission and description (Socorro's shape)."

    def handle(self, ctx: APIContext, params: dict[str, Any]) -> Any:
        return ctx.catalogue().supersearch_fields()
