"""Static files (the pages' CSS, the admin's CSS and JavaScript), served by the application itself.

Files come from the installed apps' ``static`` folders (``crashcart/web/pages/static``, Django admin's), found
through Django's static-file finders, so no web server or CDN is needed in front: each is read once per process,
sent with a strong ETag and cached by browsers for a day (an unchanged file costs a 304). Only files of a known
type are served, and a request's path reaches the file system only through the finders, which keep to those
folders.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified

TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".gif": "image/gif",
    ".woff2": "font/woff2",
}
MAX_AGE = 86_400
MAX_SIZE = 2 * 1024 * 1024


@functools.lru_cache(maxsize=512)
def _asset(name: str) -> tuple[bytes, str, str] | None:
    """The file ``name`` (relative to a static folder): its bytes, content type and ETag, or None."""
    from django.contrib.staticfiles import finders  # noqa: PLC0415  (needs the apps loaded)

    suffix = Path(name).suffix
    if suffix not in TYPES or ".." in name.split("/") or name.startswith("/"):
        return None
    found = finders.find(name)
    if not isinstance(found, str):
        return None
    path = Path(found)
    if not path.is_file() or path.stat().st_size > MAX_SIZE:
        return None
    body = path.read_bytes()
    return body, TYPES[suffix], '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def asset(request: HttpRequest, name: str) -> HttpResponse:
    found = _asset(name)
    if found is None:
        return HttpResponse(b"Not found\n", status=404, content_type="text/plain; charset=utf-8")
    body, content_type, etag = found
    if request.headers.get("If-None-Match") == etag:
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type=content_type)
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response


def favicon(request: HttpRequest) -> HttpResponse:
    """``/favicon.ico``, which browsers ask every site for (the admin's pages name none): nothing, cached."""
    response = HttpResponse(status=204)
    response["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response
