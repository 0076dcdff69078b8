"""The pages' views: read storage (and the index) as the reader may, build the page's rows, render.

Each view takes the reader from ``access.page_caller`` and hands the documents through the same redaction the
API uses (``crashcart.schemas.public_view``) before anything is built from them, so what a page shows and
what ``/api/ProcessedCrash/`` answers the same reader are the same data.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings as django_settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render

from crashcart.crashid import is_crash_id
from crashcart.errors import CrashNotFound
from crashcart.queue.interfaces import PRIORITY, REPROCESSING
from crashcart.schemas import public_view
from crashcart.settings import Settings
from crashcart.storage.keys import MAIN_DUMP, is_dump_name
from crashcart.web.api.base import BACKENDS, Caller
from crashcart.web.api.endpoints._common import REPROCESS_CRASHES, VIEW_PII, VIEW_RAWDUMP, schemas
from crashcart.web.api.endpoints.crashes import dump_filename
from crashcart.web.pages.access import page_caller
from crashcart.web.pages.report import build_report

LOGGER = logging.getLogger(__name__)

#: How often the page of a crash still being processed reloads itself, in seconds.
PENDING_REFRESH = 5
#: A crash id is sent to the priority queue at most once in this many seconds, however often its pending
#: page reloads (every reload would otherwise queue it again).
PRIORITY_DEBOUNCE = 300
BP_PREFIX = "bp-"


View = Callable[..., HttpResponse]


def allow(*methods: str) -> Callable[[View], View]:
    """Answer other methods with 405 (Django's ``require_http_methods``, typed)."""

    def wrap(view: View) -> View:
        @functools.wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                return HttpResponseNotAllowed(methods)
            return view(request, *args, **kwargs)

        return checked

    return wrap


def signed_in(view: View) -> View:
    """Send anonymous readers to the sign-in page, and back here after (Django's ``login_required``, typed)."""

    @functools.wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            from django.contrib.auth.views import redirect_to_login  # noqa: PLC0415  (auth: apps ready)

            response: HttpResponse = redirect_to_login(request.get_full_path())
            return response
        return view(request, *args, **kwargs)

    return checked


def site_settings() -> Settings:
    crashcart: Settings = django_settings.CRASHCART_SETTINGS
    return crashcart


def crash_id_of(value: str) -> str | None:
    """The crash id in a URL (Breakpad's ``bp-`` prefix accepted, surrounding spaces ignored), or None."""
    value = value.strip()
    if value.startswith(BP_PREFIX):
        value = value[len(BP_PREFIX) :]
    return value if is_crash_id(value) else None


def not_found_page(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "pages/not_found.html", {"message": message}, status=404)


@allow("GET")
def report_find(request: HttpRequest) -> HttpResponse:
    """The front page's "open report" form: to the report of the id typed (``bp-`` prefix and all)."""
    found = crash_id_of(request.GET.get("id", "")[:100])
    if found is None:
        return not_found_page(request, "That is not a crash id.")
    return redirect("report-index", crash_id=found)


@allow("GET")
def report_index(request: HttpRequest, crash_id: str) -> HttpResponse:
    """Crash Stats' report view. A stored crash not processed yet goes to the priority queue and gets a page
    that reloads itself until the processed crash is there."""
    found = crash_id_of(crash_id)
    if found is None:
        return not_found_page(request, "That is not a crash id.")
    if found != crash_id:
        return redirect("report-index", crash_id=found)
    settings = site_settings()
    storage = BACKENDS.storage(settings)
    caller = page_caller(request)
    try:
        processed = storage.get_processed_crash(found)
    except CrashNotFound:
        if not storage.has_raw_crash(found):
            return not_found_page(request, f"Crash {found} is not known here.")
        _prioritise(settings, found)
        response = render(request, "pages/pending.html", {"crash_id": found, "refresh": PENDING_REFRESH})
        response["Cache-Control"] = "no-store"
        return response
    try:
        raw = storage.get_raw_crash(found)
        dump_names = storage.get_dump_names(found)
    except CrashNotFound:
        raw, dump_names = {}, []
    kinds = schemas(settings.schema_extra_fields)
    sees_protected = caller.has(VIEW_PII)
    if not sees_protected:
        processed = public_view(processed, kinds["processed_crash"])
        raw = public_view(raw, kinds["raw_crash"])
    report = build_report(
        found, processed, raw, sees_protected=sees_protected, dump_names=dump_names, repositories=settings.source_links
    )
    context = {
        "report": report,
        "can_download": caller.has(VIEW_RAWDUMP),
        "can_reprocess": caller.has(REPROCESS_CRASHES),
        "sees_protected": sees_protected,
    }
    response = render(request, "pages/report.html", context)
    response["Cache-Control"] = "private, no-cache" if caller.user_id is not None else "public, max-age=60"
    return response


def _prioritise(settings: Settings, crash_id: str) -> None:
    """Queue ``crash_id`` for processing ahead of the rest, at most once per ``PRIORITY_DEBOUNCE``."""
    try:
        if cache.add(f"crashcart:priority:{crash_id}", 1, timeout=PRIORITY_DEBOUNCE):
            BACKENDS.declared_queue(settings).publish(PRIORITY, [crash_id])
    except Exception as exc:  # the page still says "being processed"; a reload tries again after the debounce
        LOGGER.warning("could not queue a crash for priority processing: %s", type(exc).__name__,
                       extra={"crash_id": crash_id})  # fmt: skip


def _permitted(request: HttpRequest, crash_id: str, permission: str) -> tuple[str | None, Caller, HttpResponse | None]:
    found = crash_id_of(crash_id)
    if found is None:
        return None, page_caller(request), not_found_page(request, "That is not a crash id.")
    caller = page_caller(request)
    if not caller.has(permission):
        page = render(request, "pages/forbidden.html", {"permission": permission}, status=403)
        return found, caller, page
    return found, caller, None


@allow("GET")
def report_raw_crash(request: HttpRequest, crash_id: str) -> HttpResponse:
    """The raw crash's JSON (every annotation), for readers with ``view_rawdump``."""
    found, _, refused = _permitted(request, crash_id, VIEW_RAWDUMP)
    if refused is not None or found is None:
        return refused or not_found_page(request, "That is not a crash id.")
    try:
        raw = BACKENDS.storage(site_settings()).get_raw_crash(found)
    except CrashNotFound:
        return not_found_page(request, f"Crash {found} is not known here.")
    response = JsonResponse(raw, json_dumps_params={"indent": 1, "sort_keys": True})
    response["Content-Disposition"] = f'attachment; filename="{found}.json"'
    response["Cache-Control"] = "private, no-store"
    return response


@allow("GET")
def report_dump(request: HttpRequest, crash_id: str, name: str) -> HttpResponse:
    """One of the crash's dumps, for readers with ``view_rawdump``."""
    found, _, refused = _permitted(request, crash_id, VIEW_RAWDUMP)
    if refused is not None or found is None:
        return refused or not_found_page(request, "That is not a crash id.")
    dump_name = MAIN_DUMP if name in ("", "dump") else name
    storage = BACKENDS.storage(site_settings())
    try:
        if not is_dump_name(dump_name) or dump_name not in storage.get_dump_names(found):
            return not_found_page(request, "This crash has no such dump.")
        body = storage.get_dump(found, dump_name)
    except CrashNotFound:
        return not_found_page(request, f"Crash {found} is not known here.")
    response = HttpResponse(body, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{dump_filename(found, name)}"'
    response["Cache-Control"] = "private, no-store"
    return response


@allow("POST")
def report_reprocess(request: HttpRequest, crash_id: str) -> HttpResponse:
    """The report page's Reprocess button (a form with its CSRF token), for readers with ``reprocess_crashes``."""
    found, caller, refused = _permitted(request, crash_id, REPROCESS_CRASHES)
    if refused is not None or found is None:
        return refused or not_found_page(request, "That is not a crash id.")
    BACKENDS.declared_queue(site_settings()).publish(REPROCESSING, [found])
    LOGGER.info("reprocessing requested from the report page", extra={"crash_id": found, "user": caller.user_id})
    return render(request, "pages/reprocessing.html", {"crash_id": found, "at": dt.datetime.now(dt.UTC)})


def site_message() -> dict[str, str] | None:
    """The newest active site message (``SiteMessage``, set in the admin). Read on every page, not cached: one
    indexed row, and every process and node shows a change at once."""
    from crashcart.web.pages.models import SiteMessage  # noqa: PLC0415  (models: apps ready)

    found: dict[str, str] | None = SiteMessage.objects.filter(active=True).values("text", "level").first()
    return found


def context_processor(request: HttpRequest) -> dict[str, Any]:
    """What every page's frame needs: the reader (for the header) and the site's message."""
    user = getattr(request, "user", None)
    try:
        message = site_message()
    except Exception:  # a page without its banner beats no page (the database may be down)
        LOGGER.warning("site message not read", exc_info=True)
        message = None
    return {
        "signed_in": bool(user is not None and user.is_authenticated),
        "username": getattr(user, "username", ""),
        "site_message": message,
    }


def _search(params: dict[str, list[str]], caller: Caller, now: dt.datetime) -> dict[str, Any]:
    """Super Search as the API runs it for this reader (protected fields only with view_pii)."""
    from crashcart.search.runner import supersearch  # noqa: PLC0415  (the search layer loads the catalogue)

    return supersearch(params, allow_protected=caller.has(VIEW_PII), now=now, settings=site_settings())


#: How long a process (or the shared cache, with ``CRASHCART_CACHE_URL``) keeps the product list, in seconds. The
#: list is a 28-day facet over the whole index (70-130 ms at a million crashes, ``bench/web/``) that top crashers
#: and Super Search would otherwise pay on every view; a product's first crash shows in it within this delay.
PRODUCTS_CACHE_SECONDS = 300


def _products(caller: Caller, now: dt.datetime) -> list[str]:
    """Products with crashes in the last 28 days, busiest first (no hand-kept list), cached for
    ``PRODUCTS_CACHE_SECONDS`` (the same for every reader: ``product`` is a public field)."""
    import hashlib  # noqa: PLC0415

    url = site_settings().database_url.get_secret_value()
    key = "crashcart:pages:products:" + hashlib.sha256(url.encode()).hexdigest()[:16]  # one per index
    try:
        cached = cache.get(key)
    except Exception:  # the shared cache is down: ask the index
        LOGGER.warning("product list not read from the cache", exc_info=True)
        cached = None
    if isinstance(cached, list):
        return [str(product) for product in cached]
    found = _search(
        {"date": [f">={(now - dt.timedelta(days=28)).isoformat()}"], "_facets": ["product"], "_results_number": ["0"]},
        caller,
        now,
    )
    products = [str(bucket["term"]) for bucket in found["facets"].get("product", [])]
    if products:  # an empty index is not cached: the first crashes show at once
        try:
            cache.set(key, products, timeout=PRODUCTS_CACHE_SECONDS)
        except Exception:
            LOGGER.warning("product list not written to the cache", exc_info=True)
    return products


@allow("GET")
def top_crashers(request: HttpRequest) -> HttpResponse:
    """Crash Stats' top crashers: a product's signatures ranked by crashes over 1 to 28 days."""
    from crashcart.errors import BadArgumentError  # noqa: PLC0415
    from crashcart.search.models import BugAssociation, Signature  # noqa: PLC0415  (models: apps ready)
    from crashcart.web.pages import topcrashers as tc  # noqa: PLC0415

    caller = page_caller(request)
    now = dt.datetime.now(dt.UTC)
    products = _products(caller, now)
    context: dict[str, Any] = {"products": products, "days_choices": tc.DAYS, "size_choices": tc.SIZES}
    try:
        chosen = tc.form(dict(request.GET.lists()), products[0] if products else None)  # every value of each
    except tc.FormError as exc:
        context["error"] = str(exc)
        return render(request, "pages/topcrashers.html", context, status=400 if request.GET else 200)
    current_params, previous_params = tc.searches(chosen, now)
    try:
        current = _search(current_params, caller, now)
        previous = _search(previous_params, caller, now)
    except BadArgumentError as exc:
        context["error"] = str(exc)
        return render(request, "pages/topcrashers.html", context, status=400)
    signatures = [str(b["term"]) for b in current["facets"].get("signature", [])]
    first_seen = dict(Signature.objects.filter(signature__in=signatures).values_list("signature", "first_date"))
    bugs: dict[str, list[int]] = {}
    for bug_id, signature in BugAssociation.objects.filter(signature__in=signatures).values_list("bug_id", "signature"):
        bugs.setdefault(signature, []).append(bug_id)
    (start, end), _ = tc.periods(chosen.days, now)
    context.update(
        {
            "form": chosen,
            "start": start,
            "end": end,
            "total": current["total"],
            "rows": tc.rows(current, previous, first_seen, bugs, start),
            "platforms": tc.PLATFORMS,
        }
    )
    response = render(request, "pages/topcrashers.html", context)
    response["Cache-Control"] = "private, max-age=60"
    return response


def daily_counts(found: dict[str, Any], field: str, terms: list[str]) -> dict[str, dict[dt.date, int]]:
    """Per term of ``field`` (only ``terms``, in their order), its crashes per day, from a Super Search answer
    with ``_histogram.date=<field>``: what a chart of crashes per day draws."""
    counts: dict[str, dict[dt.date, int]] = {term: {} for term in terms}
    for bucket in found["facets"].get("histogram_date", []):
        day = dt.datetime.fromisoformat(bucket["term"]).date()
        for sub in bucket.get("facets", {}).get(field, []):
            if str(sub["term"]) in counts:
                counts[str(sub["term"])][day] = int(sub["count"])
    return counts


def facet_choices(caller: Caller) -> list[str]:
    """The fields a reader may aggregate on: every facetable catalogue field (protected ones with view_pii)."""
    from crashcart.search.fields import catalogue  # noqa: PLC0415  (the search layer loads the schemas)

    sees_protected = caller.has(VIEW_PII)
    return sorted(f.name for f in catalogue().fields.values() if f.facetable and (f.is_public or sees_protected))


#: The signature report's aggregations, and the columns of its reports list.
SIGNATURE_FACETS = ("product", "version", "platform", "process_type", "cpu_arch", "release_channel")
SIGNATURE_COLUMNS = ("uuid", "date", "product", "version", "platform", "process_type", "reason", "build_id")
REPORTS_PER_PAGE = 50
MAX_PAGE = 200


@allow("GET")
def signature_report(request: HttpRequest) -> HttpResponse:
    """Crash Stats' signature report: where one signature crashes (counts by product, version, platform,
    process type…), when it was first seen, its bugs, and its reports, newest first, paged."""
    from crashcart.errors import BadArgumentError  # noqa: PLC0415
    from crashcart.search.models import BugAssociation, Signature  # noqa: PLC0415  (models: apps ready)

    signature = request.GET.get("signature", "")
    if not signature.strip() or len(signature) > 10_000:
        return render(request, "pages/not_found.html", {"message": "Which signature? (?signature=…)"}, status=400)
    days_text = request.GET.get("days", "7")
    page_text = request.GET.get("page", "1")
    if not days_text.isdigit() or not 1 <= int(days_text) <= 365 or not page_text.isdigit():
        return render(request, "pages/not_found.html", {"message": "days is 1 to 365, page a number"}, status=400)
    days, page = int(days_text), min(max(1, int(page_text)), MAX_PAGE)
    caller = page_caller(request)
    now = dt.datetime.now(dt.UTC)
    choices = facet_choices(caller)
    facets = [name for name in dict.fromkeys(request.GET.getlist("_facets")) if name in choices][:10]
    facets = facets or list(SIGNATURE_FACETS)
    params = {
        "signature": [f"={signature}"],
        "date": [f">={(now - dt.timedelta(days=days)).isoformat()}"],
        "_facets": [*facets, *(["version"] if "version" not in facets else [])],
        "_histogram.date": ["version"],
        "_columns": list(SIGNATURE_COLUMNS),
        "_sort": ["-date"],
        "_results_number": [str(REPORTS_PER_PAGE)],
        "_results_offset": [str((page - 1) * REPORTS_PER_PAGE)],
    }
    try:
        found = _search(params, caller, now)
    except BadArgumentError as exc:
        return render(request, "pages/not_found.html", {"message": str(exc)}, status=400)
    from crashcart.web.pages.charts import per_day  # noqa: PLC0415

    first = Signature.objects.filter(signature=signature).values_list("first_date", "first_build").first()
    top_versions = [str(b["term"]) for b in found["facets"].get("version", [])[:5]]
    counts = daily_counts(found, "version", top_versions)
    first_day = now.date() - dt.timedelta(days=days)
    chart = per_day([first_day + dt.timedelta(days=i) for i in range(days + 1)], counts)
    bugs = sorted(BugAssociation.objects.filter(signature=signature).values_list("bug_id", flat=True))
    pages = max(1, min(MAX_PAGE, -(-int(found["total"]) // REPORTS_PER_PAGE)))
    context = {
        "signature": signature,
        "days": days,
        "total": found["total"],
        "facets": [(name, found["facets"].get(name, [])) for name in facets],
        "facet_choices": choices,
        "chosen_facets": facets,
        "hits": found["hits"],
        "columns": SIGNATURE_COLUMNS,
        "first_date": first[0] if first else None,
        "first_build": first[1] if first else None,
        "last_date": found["hits"][0]["date"] if found["hits"] and page == 1 else None,
        "bugs": bugs,
        "chart": chart,
        "page": page,
        "pages": pages,
        "previous_page": page - 1 if page > 1 else None,
        "next_page": page + 1 if page < pages else None,
    }
    response = render(request, "pages/signature.html", context)
    response["Cache-Control"] = "private, max-age=60"
    return response


#: How many versions a product's page draws when the deployment names none (the busiest of the last week).
FEATURED_VERSIONS = 3
HOME_DAYS = 7


def featured_overrides(settings: Settings) -> dict[str, list[str]]:
    """The deployment's featured versions by product (``CRASHCART_FEATURED_VERSIONS_FILE``, JSON), or none."""
    import json  # noqa: PLC0415

    path = settings.featured_versions_file
    if path is None:
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        LOGGER.warning("featured versions file unreadable, computing them instead: %s", exc)
        return {}
    if not isinstance(document, dict):
        return {}
    return {
        str(product): [str(v) for v in versions][:8]
        for product, versions in document.items()
        if isinstance(versions, list)
    }


@allow("GET")
def home(request: HttpRequest) -> HttpResponse:
    """The front page: the products that have crashes (from the index, busiest first) and a crash-id box."""
    caller = page_caller(request)
    products = _products(caller, dt.datetime.now(dt.UTC))
    return render(request, "pages/home.html", {"products": products})


@allow("GET")
def product_home(request: HttpRequest, product: str) -> HttpResponse:
    """A product's page: crashes per day of its featured versions (chart and table) and its top signatures."""
    from crashcart.errors import BadArgumentError  # noqa: PLC0415
    from crashcart.web.pages.charts import per_day  # noqa: PLC0415
    from crashcart.web.pages.topcrashers import term  # noqa: PLC0415

    if len(product) > 200:
        return not_found_page(request, "No such product.")
    caller = page_caller(request)
    now = dt.datetime.now(dt.UTC)
    start = dt.datetime.combine(now.date() - dt.timedelta(days=HOME_DAYS - 1), dt.time(), dt.UTC)
    window = [f">={start.isoformat()}"]
    try:
        summary = _search(
            {"product": [term("product", product)], "date": window, "_facets": ["version", "signature"],
             "_facets_size": ["10"], "_results_number": ["0"]},
            caller, now,
        )  # fmt: skip
        if not summary["total"]:
            return not_found_page(request, "No crashes of this product in the last week.")
        versions = featured_overrides(site_settings()).get(product) or [
            str(b["term"]) for b in summary["facets"].get("version", [])[:FEATURED_VERSIONS]
        ]
        daily = _search(
            {"product": [term("product", product)], "version": [term("version", v) for v in versions], "date": window,
             "_histogram.date": ["version"], "_facets_size": ["50"], "_results_number": ["0"]},
            caller, now,
        )  # fmt: skip
    except BadArgumentError as exc:
        return not_found_page(request, str(exc))
    days = [start.date() + dt.timedelta(days=i) for i in range(HOME_DAYS)]
    counts = daily_counts(daily, "version", versions)
    context = {
        "product": product,
        "total": summary["total"],
        "chart": per_day(days, counts),
        "signatures": summary["facets"].get("signature", []),
        "versions": versions,
    }
    response = render(request, "pages/product.html", context)
    response["Cache-Control"] = "private, max-age=60"
    return response


@allow("GET")
def super_search(request: HttpRequest) -> HttpResponse:
    """Crash Stats' Super Search: a form over Super Search's own query string, the results (paged) and the
    facets. A form submission is translated and redirected to the canonical ``/search/?<Super Search query>``;
    without any parameter the form is shown empty and nothing is searched."""
    from urllib.parse import urlencode  # noqa: PLC0415

    from crashcart.errors import BadArgumentError  # noqa: PLC0415
    from crashcart.web.pages import supersearch as ss  # noqa: PLC0415

    caller = page_caller(request)
    sees_protected = caller.has(VIEW_PII)
    now = dt.datetime.now(dt.UTC)
    pairs = [(name, value) for name, values in request.GET.lists() for value in values]

    def page(status: int = 200, **extra: Any) -> HttpResponse:
        state = ss.form_state(pairs, sees_protected)
        products = _products(caller, now)
        fields = ss.fields_for(sees_protected)
        context = {
            "state": state,
            "products": products + [p for p in state.products if p not in products],
            "platforms": ss.platforms(state.platform),
            "process_types": ss.process_types(state.process_type),
            "fields": fields,
            # the chosen columns first, in their order (a select submits its options in its own order)
            "column_fields": sorted(
                fields, key=lambda f: state.columns.index(f.name) if f.name in state.columns else len(fields)
            ),
            "page_sizes": ss.choices([str(n) for n in ss.PAGE_SIZES], state.results_number),
            **extra,
        }
        response = render(request, "pages/search.html", context, status=status)
        response["Cache-Control"] = "private, max-age=60" if status == 200 else "no-store"
        return response

    if ss.is_form_submission(pairs):
        try:
            canonical = ss.translate(pairs, sees_protected)
        except ss.FormError as exc:
            return page(400, error=str(exc))
        return redirect(f"{request.path}?{urlencode(canonical)}" if canonical else request.path)
    if not pairs:
        return page()
    query = ss.query_string(pairs)
    try:
        size = ss.results_number(pairs)
        found = _search(ss.as_params(pairs), caller, now)
    except (ss.FormError, BadArgumentError) as exc:
        return page(400, error=str(exc), api_url=f"/api/SuperSearch/?{query}")
    total = int(found["total"])
    columns = ss.shown_columns(pairs, sees_protected)
    if any(name == "_cursor" for name, _ in pairs):  # a keyset page (a hand-made URL): on from next_cursor
        cursor = found.get("next_cursor")
        paging: dict[str, Any] = {
            "after_cursor": True,
            "previous_page": ss.at_offset(pairs, 0),
            "next_page": ss.after_cursor(pairs, str(cursor)) if cursor else None,
        }
    else:
        offset = ss.results_offset(pairs)
        paging = {
            "first": offset + 1 if found["hits"] else 0,
            "last": offset + len(found["hits"]),
            "previous_page": ss.at_offset(pairs, max(0, offset - size)) if offset > 0 and size else None,
            "next_page": ss.at_offset(pairs, offset + size) if size and offset + size < total else None,
        }
    return page(
        searched=True,
        total=total,
        columns=columns,
        rows=ss.result_rows(found["hits"], columns),
        facets=ss.facet_tables(found["facets"], pairs, sees_protected),
        api_url=f"/api/SuperSearch/?{query}",
        **paging,
    )
