"""The benchmark's questions: each as Super Search parameters and as hand-written DuckDB SQL meaning the same.

The questions are issue #10's (point 15): top signatures for a product over 7 days; 3 filters + 3 facets; an
exact-signature report with facets; a contains search on signatures; a date histogram by day with a sub-facet;
page 1 and page 50 of a signature's reports; the cardinality of ``install_time``. One extra, the top-crashers
page's "installations per signature" (``_aggs.signature=_cardinality.install_time``), is measured beside them.

Every question covers Super Search's default window, the last 7 days before ``now`` (the end of the generated
28 days), written out as explicit bounds so both sides agree. Which signature a report is about, and the
substring of the contains search, are picked from the data (the reference answers them first), so the questions
are the same for any N and seed.

Both sides' answers are reduced to one comparable shape (:func:`from_supersearch`, and the reference's own), and
:func:`compare` says where they differ, so a ratio is only reported between answers that agree. Facet terms
tied at the cut-off count may differ between engines (which of several terms with equal counts comes last is not
specified by Socorro either); everything above the cut-off must match exactly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

#: Page size of the signature's report list (crash-stats' report tab pages by 50).
PAGE_SIZE = 50
HIT_COLUMNS = ("uuid", "date", "signature", "product", "version")
PAGE_COLUMNS = ("uuid", "date", "product", "version", "platform", "build_id", "reason")


@dataclass(frozen=True)
class Window:
    start: dt.datetime
    end: dt.datetime

    def params(self) -> list[str]:
        return [f">={self.start.isoformat()}", f"<{self.end.isoformat()}"]

    def sql(self) -> str:
        """Reference table's ``date`` is naive UTC."""
        return f"date >= TIMESTAMP '{self.start:%Y-%m-%d %H:%M:%S}' AND date < TIMESTAMP '{self.end:%Y-%m-%d %H:%M:%S}'"


@dataclass(frozen=True)
class Facet:
    """A terms aggregation: ``field`` in Super Search, ``expr`` in SQL (a column, or ``unnest(list)``)."""

    field: str
    expr: str
    size: int = 50


@dataclass(frozen=True)
class Question:
    name: str
    title: str
    params: dict[str, list[str]]
    where: str  # SQL predicate over the reference table, date window included
    facets: tuple[Facet, ...] = ()
    hits: tuple[str, ...] = ()  # columns of the hits; empty: _results_number=0
    offset: int = 0
    limit: int = 0
    histogram_sub: Facet | None = None  # date histogram by day, with this sub-facet
    cardinality: str | None = None  # top-level _cardinality.<field>
    per_term_cardinality: tuple[Facet, str] | None = None  # _aggs.<facet>=_cardinality.<field>
    in_issue: bool = True
    notes: list[str] = field(default_factory=list)


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _like_literal(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def questions(window: Window, report_signature: str, contains: str) -> list[Question]:
    """The benchmark's questions for the generated data's last 7 days."""
    w = window.params()
    sig = report_signature
    sig_sql = f"signature = {_sql_str(sig)}"
    page = {"_columns": list(PAGE_COLUMNS), "_sort": ["-date"], "_results_number": [str(PAGE_SIZE)]}
    return [
        Question(
            "top_signatures",
            "top signatures for a product over 7 days",
            {"product": ["Firefox"], "date": w, "_facets": ["signature"], "_facets_size": ["50"],
             "_results_number": ["0"]},
            f"product = 'Firefox' AND {window.sql()}",
            facets=(Facet("signature", "signature"),),
        ),
        Question(
            "filters3_facets3",
            "3 filters + 3 facets (and the first 100 hits, newest first)",
            {"product": ["Firefox"], "platform": ["Windows NT"], "release_channel": ["release"], "date": w,
             "_facets": ["signature", "version", "platform_version"], "_columns": list(HIT_COLUMNS),
             "_sort": ["-date"], "_results_number": ["100"]},
            f"product = 'Firefox' AND platform = 'Windows NT' AND release_channel = 'release' AND {window.sql()}",
            facets=(Facet("signature", "signature"), Facet("version", "version"),
                    Facet("platform_version", "platform_version")),
            hits=HIT_COLUMNS,
            limit=100,
        ),
        Question(
            "signature_report",
            "exact-signature report with facets (and its first 50 hits)",
            {"signature": [f"={sig}"], "date": w,
             "_facets": ["product", "version", "platform", "process_type", "cpu_arch"],
             "_columns": list(PAGE_COLUMNS), "_sort": ["-date"], "_results_number": [str(PAGE_SIZE)]},
            f"{sig_sql} AND {window.sql()}",
            facets=tuple(Facet(f, f) for f in ("product", "version", "platform", "process_type", "cpu_arch")),
            hits=PAGE_COLUMNS,
            limit=PAGE_SIZE,
        ),
        Question(
            "contains_signature",
            f"contains search on signatures (~{contains}), signature facet and first 100 hits",
            {"signature": [f"~{contains}"], "date": w, "_facets": ["signature"], "_columns": list(HIT_COLUMNS),
             "_sort": ["-date"], "_results_number": ["100"]},
            f"signature LIKE {_sql_str('%' + _like_literal(contains) + '%')} ESCAPE '\\' AND {window.sql()}",
            facets=(Facet("signature", "signature"),),
            hits=HIT_COLUMNS,
            limit=100,
        ),
        Question(
            "histogram_by_day",
            "date histogram by day with a product sub-facet (all products)",
            {"date": w, "_histogram.date": ["product"], "_facets": ["product"], "_results_number": ["0"]},
            window.sql(),
            facets=(Facet("product", "product"),),
            histogram_sub=Facet("product", "product"),
        ),
        Question(
            "page_1",
            "page 1 of a signature's reports (50, newest first)",
            {"signature": [f"={sig}"], "date": w, **page, "_results_offset": ["0"], "_facets_size": ["0"]},
            f"{sig_sql} AND {window.sql()}",
            hits=PAGE_COLUMNS,
            limit=PAGE_SIZE,
        ),
        Question(
            "page_50",
            "page 50 of a signature's reports (offset 2,450)",
            {"signature": [f"={sig}"], "date": w, **page, "_results_offset": [str(49 * PAGE_SIZE)],
             "_facets_size": ["0"]},
            f"{sig_sql} AND {window.sql()}",
            hits=PAGE_COLUMNS,
            offset=49 * PAGE_SIZE,
            limit=PAGE_SIZE,
        ),
        Question(
            "cardinality_install_time",
            "cardinality of install_time (Firefox, 7 days)",
            {"product": ["Firefox"], "date": w, "_facets": ["_cardinality.install_time"], "_results_number": ["0"]},
            f"product = 'Firefox' AND {window.sql()}",
            cardinality="install_time",
        ),
        Question(
            "installs_per_signature",
            "top signatures with installations each (_aggs.signature=_cardinality.install_time)",
            {"product": ["Firefox"], "date": w, "_facets": ["signature"],
             "_aggs.signature": ["_cardinality.install_time"], "_results_number": ["0"]},
            f"product = 'Firefox' AND {window.sql()}",
            facets=(Facet("signature", "signature"),),
            per_term_cardinality=(Facet("signature", "signature"), "install_time"),
            in_issue=False,
        ),
    ]  # fmt: skip


# --- answers in one shape ---------------------------------------------------------------------------------------


def _term(value: Any) -> str:
    if isinstance(value, bool):
        return "T" if value else "F"
    return str(value)


def from_supersearch(question: Question, body: dict[str, Any]) -> dict[str, Any]:
    """The comparable part of a Super Search response to ``question``."""
    facets = body.get("facets") or {}
    answer: dict[str, Any] = {"total": body.get("total")}
    for facet in question.facets:
        answer[f"facet:{facet.field}"] = [[_term(t["term"]), t["count"]] for t in facets.get(facet.field, [])]
    if question.histogram_sub is not None:
        sub = question.histogram_sub.field
        answer["histogram"] = [
            [
                str(b["term"])[:10],
                b["count"],
                [[_term(t["term"]), t["count"]] for t in b.get("facets", {}).get(sub, [])],
            ]
            for b in facets.get("histogram_date", [])
        ]
    if question.cardinality:
        answer["cardinality"] = (facets.get(f"cardinality_{question.cardinality}") or {}).get("value")
    if question.per_term_cardinality:
        facet, fld = question.per_term_cardinality
        answer["per_term_cardinality"] = [
            [_term(t["term"]), t["count"], (t.get("facets", {}).get(f"cardinality_{fld}") or {}).get("value")]
            for t in facets.get(facet.field, [])
        ]
    if question.hits:
        answer["hits"] = [[h.get("uuid"), _iso_utc(h.get("date"))] for h in body.get("hits", [])]
    return answer


def _iso_utc(value: Any) -> str | None:
    if value is None:
        return None
    when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when.isoformat(timespec="microseconds")


def compare(ours: dict[str, Any], ref: dict[str, Any]) -> list[str]:
    """Differences between two answers (none, or only ``note:`` lines: they agree)."""
    problems: list[str] = []
    for key in sorted(set(ours) | set(ref)):
        a, b = ours.get(key), ref.get(key)
        if key.startswith("facet:"):
            problems += [f"{key}: {p}" for p in _compare_terms(a or [], b or [])]
        elif key == "per_term_cardinality":
            a, b = a or [], b or []
            problems += [f"{key}: {p}" for p in _compare_terms([x[:2] for x in a], [x[:2] for x in b])]
            mine, theirs = {x[0]: x[2] for x in a}, {x[0]: x[2] for x in b}
            wrong = [(t, mine[t], theirs[t]) for t in mine.keys() & theirs.keys() if mine[t] != theirs[t]]
            if wrong:
                problems.append(f"{key}: {len(wrong)} cardinalities differ, e.g. {wrong[:3]}")
        elif key == "histogram":
            a, b = a or [], b or []
            if [x[:2] for x in a] != [x[:2] for x in b]:
                problems.append(f"histogram buckets differ: {[x[:2] for x in a][:8]} vs {[x[:2] for x in b][:8]}")
            else:
                for x, y in zip(a, b, strict=True):
                    problems += [f"histogram {x[0]}: {p}" for p in _compare_terms(x[2], y[2])]
        elif key == "hits":
            a, b = a or [], b or []
            if [h[0] for h in a] != [h[0] for h in b]:
                if [h[1] for h in a] == [h[1] for h in b]:
                    problems.append("note: hits have the same dates, other crash ids among equal dates (tie order)")
                else:
                    problems.append(f"hits differ: {len(a)} vs {len(b)}; first ours {a[:2]} ref {b[:2]}")
        elif a != b:
            problems.append(f"{key}: {a!r} vs reference {b!r}")
    return problems


def _compare_terms(ours: list[list[Any]], ref: list[list[Any]]) -> list[str]:
    if len(ours) != len(ref):
        return [f"{len(ours)} terms vs {len(ref)} in the reference"]
    if sorted((c for _, c in ours), reverse=True) != [c for _, c in ref]:
        return [f"counts differ: {[c for _, c in ours][:10]} vs {[c for _, c in ref][:10]}"]
    if not ref:
        return []
    cut = ref[-1][1]
    above_ours = {(t, c) for t, c in ours if c != cut}
    above_ref = {(t, c) for t, c in ref if c != cut}
    if above_ours != above_ref:
        diff = sorted(above_ours ^ above_ref, key=lambda tc: -tc[1])[:4]
        return [f"terms above the cut-off differ: {diff}"]
    return []
