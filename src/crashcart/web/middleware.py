"""The web application's middleware: security headers, CORS and rate limits on the API, and token auth.

Every response gets a strict Content-Security-Policy (Django's ``SecurityMiddleware`` and
``XFrameOptionsMiddleware`` add ``nosniff``, ``Referrer-Policy`` and ``X-Frame-Options: DENY``). Under
``/api/``, answers carry ``Access-Control-Allow-Origin: *`` (the API is read with tokens, never cookies, so
any page may call it) and a preflight ``OPTIONS`` is answered at once; then the ``Auth-Token`` header
becomes ``request.caller`` (or a 403 with Socorro's message), and the caller's rate limit is counted.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings as django_settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse

from crashcart.web.api.base import ANONYMOUS, Caller

LOGGER = logging.getLogger(__name__)

API_PREFIX = "/api/"
#: No inline script or style anywhere: everything the pages need comes from this origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
RATE_WINDOW = 60  # seconds: the limits are per minute

GetResponse = Callable[[HttpRequest], HttpResponse]


def is_api(request: HttpRequest) -> bool:
    return bool(request.path.startswith(API_PREFIX))


def caller_of(request: HttpRequest) -> Caller:
    """The caller ``ApiTokenMiddleware`` found (anonymous for a request it did not see)."""
    caller = getattr(request, "caller", ANONYMOUS)
    assert isinstance(caller, Caller)
    return caller


class SecurityHeadersMiddleware:
    """Content-Security-Policy on every response (Django 5.2 has none of its own)."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


class ApiCorsMiddleware:
    """``Access-Control-Allow-Origin: *`` on every ``/api/`` answer (errors too); preflights get 200."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api(request):
            return self.get_response(request)
        if request.method == "OPTIONS":
            response = HttpResponse(status=200)
            response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response["Access-Control-Allow-Headers"] = "Auth-Token, Content-Type"
            response["Access-Control-Max-Age"] = "86400"
        else:
            response = self.get_response(request)
        response["Access-Control-Allow-Origin"] = "*"
        return response


class ApiTokenMiddleware:
    """``Auth-Token: <key>`` → ``request.caller``; a key that matches no usable token is refused with 403.

    The header is read on every request, as Socorro does, so a bad token is reported wherever it is sent
    rather than silently treated as anonymous. The key itself is never logged.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from crashcart.web.accounts.service import TokenRefused, authenticate  # noqa: PLC0415  (models: apps ready)

        try:
            request.caller = authenticate(request.headers.get("Auth-Token"), dt.datetime.now(dt.UTC))
        except TokenRefused as refused:
            LOGGER.info("API token refused: %s", refused.message, extra={"path": request.path})
            # Counted against the address's anonymous limit, so guessing keys is as slow as anything else.
            return over_rate_limit(request, ANONYMOUS) or JsonResponse({"error": refused.message}, status=403)
        return self.get_response(request)


class RequireLoginMiddleware:
    """With ``CRASHCART_WEB_REQUIRE_LOGIN`` (a private deployment), anonymous readers get only the sign-in
    page and the static files; anonymous API callers get 403 (a token is required). The collector's
    ``/submit`` never comes here (``run``'s router sends it to the collector)."""

    OPEN_PREFIXES = ("/login/", "/static/")

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not django_settings.CRASHCART_SETTINGS.web_require_login or request.path.startswith(self.OPEN_PREFIXES):
            return self.get_response(request)
        if is_api(request):
            if caller_of(request).user_id is None:
                return JsonResponse({"error": "This site requires an API token (Auth-Token header)"}, status=403)
            return self.get_response(request)
        if not request.user.is_authenticated:
            from django.contrib.auth.views import redirect_to_login  # noqa: PLC0415  (auth: apps ready)

            response: HttpResponse = redirect_to_login(request.get_full_path())
            return response
        return self.get_response(request)


class ApiRateLimitMiddleware:
    """Count ``/api/`` requests per token (or per IP address without one) in one-minute windows; past the
    limit, 429 with ``Retry-After`` (the seconds left in the window), which crashstats-tools honours.

    The counts live in Django's cache: each worker's memory by default (so each worker counts alone), Redis
    with ``CRASHCART_CACHE_URL`` (shared by every worker and node). A cache that fails lets the request in:
    a rate limit is not worth an outage.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api(request):
            return self.get_response(request)
        return over_rate_limit(request, caller_of(request)) or self.get_response(request)


def over_rate_limit(request: HttpRequest, caller: Caller) -> HttpResponse | None:
    """Count this request against ``caller``'s limit; the 429 answer when it is over, else None."""
    crashcart = django_settings.CRASHCART_SETTINGS
    if caller.token_id is not None:
        who, limit = f"token:{caller.token_id}", crashcart.api_rate_limit_token
    else:
        who, limit = f"ip:{request.META.get('REMOTE_ADDR', '')}", crashcart.api_rate_limit_anonymous
    now = time.time()
    count = count_in_window(f"crashcart:rate:{who}:{int(now // RATE_WINDOW)}")
    if count is None or count <= limit:
        return None
    retry_after = max(1, RATE_WINDOW - int(now % RATE_WINDOW))
    response = JsonResponse(
        {"error": f"Too many requests: at most {limit} a minute; retry in {retry_after} s"}, status=429
    )
    response["Retry-After"] = str(retry_after)
    return response


def count_in_window(key: str) -> int | None:
    """Add one to ``key``'s count in this window and return it (None when the cache is unavailable)."""
    try:
        cache.add(key, 0, timeout=RATE_WINDOW * 2)
        return int(cache.incr(key))
    except ValueError:  # the key expired between add and incr: this is the window's first request
        cache.add(key, 1, timeout=RATE_WINDOW * 2)
        return 1
    except Exception as exc:  # Redis's errors share no base worth importing here; any failure lets it in
        LOGGER.warning("rate limit not counted, the cache failed: %s", type(exc).__name__)
        return None


def drop_request_from_log_records(record: logging.LogRecord) -> bool:
    """Django's ``django.request`` logger passes the request as an extra; the JSON log would print its repr
    (path and query). Keep the path, drop the rest."""
    request: Any = getattr(record, "request", None)
    if request is not None:
        record.request = getattr(request, "path", "")
    return True
