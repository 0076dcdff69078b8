"""The web application's URLs (Django's ``ROOT_URLCONF``, set by ``crashcart.database``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
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


urlpatterns = [
    path("", home, name="home"),
    path("api/", views.index_view, name="api-index"),
    path("api/openapi.json", views.openapi_view, name="api-openapi"),
    path("api/<str:model_name>/", views.model_view, name="api-model"),
]
