"""Top crashers: the signatures with the most crashes in a period, against the period before it.

Pure: ``form`` checks the page's parameters, ``searches`` says which two Super Searches answer it (this
period and the previous one of the same length, so the view runs them through ``supersearch`` like any API
caller), and ``rows`` combines their answers with when each signature was first seen and its bugs. Crash
Stats' columns: rank and its change, share of crashes and its change, count, counts per platform,
installations (the number of distinct ``install_time``), first seen (and "new" when that falls in this
period), bugs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crashcart.search.fields import catalogue

DAYS = (1, 3, 7, 14, 28)
DEFAULT_DAYS = 7
SIZES = (20, 50, 100, 300)
DEFAULT_SIZE = 50
#: How deep the previous period is ranked, so a signature's rank change is known beyond the page's list.
PREVIOUS_DEPTH = 1_000
PLATFORMS = ("Windows NT", "Mac OS X", "Linux", "Android", "iOS")
FILTERS = ("process_type", "platform", "report_type")
#: Longest parameter value taken (a product or version name is short; anything longer is refused).
MAX_VALUE = 200


def term(name: str, value: str) -> str:
    """The Super Search value that matches field ``name`` equal to ``value`` (a facet's term, say), as the
    field's type reads it (the catalogue's operators): ``=value`` where the field takes ``=`` (text and keyword
    fields: exact, case-sensitive); the plain value where it does not (enum and number fields: a whole-value
    match; as in Socorro, an ``=`` would stay in the value and match nothing); a boolean facet's ``T``/``F`` as
    ``__true__``/``!__true__``."""
    spec = catalogue().get(name)
    if spec is None or "=" in spec.operators:
        return f"={value}"
    if spec.validation_type == "bool":
        return "__true__" if value == "T" else "!__true__"
    return value


class FormError(ValueError):
    """A parameter the page cannot take; the message is shown to the reader."""


@dataclass(frozen=True)
class Form:
    product: str
    versions: tuple[str, ...]
    days: int
    size: int
    filters: Mapping[str, str]


def _one(query: Mapping[str, Sequence[str]], name: str) -> str:
    values = [v for v in query.get(name, ()) if v.strip()]
    value = values[-1].strip() if values else ""
    if len(value) > MAX_VALUE:
        raise FormError(f"{name} is too long")
    return value


def form(query: Mapping[str, Sequence[str]], default_product: str | None) -> Form:
    """The page's parameters: ``product`` (default: the busiest one), ``version`` (repeatable), ``days``,
    ``_facets_size`` and the filters; anything else is ignored."""
    product = _one(query, "product") or default_product or ""
    if not product:
        raise FormError("no product has crashes yet")
    versions = tuple(dict.fromkeys(v.strip() for v in query.get("version", ()) if v.strip()))[:20]
    if any(len(v) > MAX_VALUE for v in versions):
        raise FormError("version is too long")
    days_text = _one(query, "days") or str(DEFAULT_DAYS)
    if not days_text.isdigit() or int(days_text) not in DAYS:
        raise FormError(f"days must be one of {', '.join(map(str, DAYS))}")
    size_text = _one(query, "_facets_size") or str(DEFAULT_SIZE)
    if not size_text.isdigit() or int(size_text) not in SIZES:
        raise FormError(f"_facets_size must be one of {', '.join(map(str, SIZES))}")
    filters = {name: value for name in FILTERS if (value := _one(query, name))}
    return Form(product, versions, int(days_text), int(size_text), filters)


def periods(days: int, now: dt.datetime) -> tuple[tuple[dt.datetime, dt.datetime], tuple[dt.datetime, dt.datetime]]:
    """This period (the ``days`` up to the end of the current hour, so the latest crashes count; periods start
    on the hour) and the one before it."""
    end = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    start = end - dt.timedelta(days=days)
    return (start, end), (start - dt.timedelta(days=days), start)


def searches(chosen: Form, now: dt.datetime) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The Super Search parameters of this period's list and of the previous period's ranking."""
    (start, end), (previous_start, previous_end) = periods(chosen.days, now)
    common: dict[str, list[str]] = {"product": [term("product", chosen.product)], "_results_number": ["0"]}
    if chosen.versions:
        common["version"] = [term("version", v) for v in chosen.versions]
    for name, value in chosen.filters.items():
        common[name] = [term(name, value)]
    current = {
        **common,
        "date": [f">={start.isoformat()}", f"<{end.isoformat()}"],
        "_facets": ["signature"],
        "_facets_size": [str(chosen.size)],
        "_aggs.signature": ["platform", "_cardinality.install_time"],
    }
    previous = {
        **common,
        "date": [f">={previous_start.isoformat()}", f"<{previous_end.isoformat()}"],
        "_facets": ["signature"],
        "_facets_size": [str(PREVIOUS_DEPTH)],
    }
    return current, previous


@dataclass(frozen=True)
class Row:
    rank: int
    rank_change: int | None  # positive: moved up; None: not ranked in the previous period
    signature: str
    count: int
    share: float  # percent of the period's crashes
    share_change: float | None  # percentage points against the previous period
    platforms: dict[str, int]
    installs: int
    first_seen: dt.datetime | None
    is_new: bool
    bugs: list[int]


def rows(
    current: Mapping[str, Any],
    previous: Mapping[str, Any],
    first_seen: Mapping[str, dt.datetime],
    bugs: Mapping[str, list[int]],
    period_start: dt.datetime,
) -> list[Row]:
    """The table's rows from the two searches' answers (Super Search's response shape)."""
    total = int(current.get("total") or 0)
    previous_total = int(previous.get("total") or 0)
    previous_ranks: dict[str, tuple[int, int]] = {
        bucket["term"]: (rank, int(bucket["count"]))
        for rank, bucket in enumerate(previous.get("facets", {}).get("signature", []), start=1)
    }
    out = []
    for rank, bucket in enumerate(current.get("facets", {}).get("signature", []), start=1):
        signature, count = str(bucket["term"]), int(bucket["count"])
        sub = bucket.get("facets") or {}
        share = 100.0 * count / total if total else 0.0
        before = previous_ranks.get(signature)
        share_change = None
        if previous_total:
            share_change = share - (100.0 * before[1] / previous_total if before else 0.0)
        seen = first_seen.get(signature)
        out.append(
            Row(
                rank=rank,
                rank_change=(before[0] - rank) if before else None,
                signature=signature,
                count=count,
                share=share,
                share_change=share_change,
                platforms={str(p["term"]): int(p["count"]) for p in sub.get("platform", [])},
                installs=int((sub.get("cardinality_install_time") or {}).get("value") or 0),
                first_seen=seen,
                is_new=seen is not None and seen >= period_start,
                bugs=sorted(bugs.get(signature, [])),
            )
        )
    return out
