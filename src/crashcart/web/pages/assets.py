"""The pages' static files (CSS, and JavaScript where it helps), served from this package by Django.

A handful of small files: each is read once per process, sent with a strong ETag and cached by browsers for a
day (an unchanged file costs a 304). Only names listed in ``static/`` with a known type are served, so no
path from a request reaches the file system.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified

STATIC = Path(__file__).resolve().parent / "static" / "crashcart"
TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
MAX_AGE = 86_400


@functools.cache
def _assets() -> dict[str, tuple[bytes, str, str]]:
    """Every servable file by name: its bytes, content type and ETag."""
    found = {}
    for path in sorted(STATIC.iterdir()):
        if path.is_file() and path.suffix in TYPES:
            body = path.read_bytes()
            found[path.name] = (body, TYPES[path.suffix], '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
    return found


def asset(request: HttpRequest, name: str) -> HttpResponse:
    found = _assets().get(name)
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
