"""The web application's URLs (Django's ``ROOT_URLCONF``, set by ``crashcart.database``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

import crashcart.web.api.endpoints  # noqa: F401  (registers every /api/<Model>/ model)
from crashcart.web.api import views


def home(request: HttpRequest) -> HttpResponse:
    """The pages people click come with the next issue; until then the front page points at the API."""
    return HttpResponse(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Crashcart</title></head>'
        '<body><h1>Crashcart</h1><p><a href="/api/">API</a></p></body></html>\n',
        content_type="text/html; charset=utf-8",
    )


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 for a path no URL matches: JSON under ``/api/`` (clients parse it), a line of text elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"error": "Not found"}, status=404)
    return HttpResponse(b"Not found\n", status=404, content_type="text/plain; charset=utf-8")


def server_error(request: HttpRequest) -> HttpResponse:
    """500 outside the dispatcher (a middleware's bug): nothing about the request in the body."""
    if request.path.startswith("/api/"):
        return JsonResponse({"error": "Internal server error"}, status=500)
    return HttpResponse(b"Internal server error\n", status=500, content_type="text/plain; charset=utf-8")


handler404 = not_found
handler500 = server_error

urlpatterns = [
    path("", home, name="home"),
    path("api/", views.index_view, name="api-index"),
    path("api/openapi.json", views.openapi_view, name="api-openapi"),
    path("api/<str:model_name>/", views.model_view, name="api-model"),
]
