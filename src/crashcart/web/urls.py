"""The web application's URLs (Django's ``ROOT_URLCONF``, set by ``crashcart.database``)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

import crashcart.web.api.endpoints  # noqa: F401  (registers every /api/<Model>/ model)
from crashcart.web.api import views
from crashcart.web.pages import account, assets, documentation, login
from crashcart.web.pages import views as pages


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
    path("", pages.home, name="home"),
    path("home/product/<path:product>", pages.product_home, name="product-home"),  # a product may hold "/"
    path("static/<path:name>", assets.asset, name="asset"),
    path("favicon.ico", assets.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("documentation/datadictionary/", documentation.data_dictionary, name="data-dictionary"),
    path("documentation/api/", documentation.api_documentation, name="api-documentation"),
    path("report/", pages.report_find, name="report-find"),
    path("topcrashers/", pages.top_crashers, name="topcrashers"),
    path("signature/", pages.signature_report, name="signature-report"),
    path("search/", pages.super_search, name="super-search"),
    path("report/index/<str:crash_id>", pages.report_index, name="report-index"),
    path("report/<str:crash_id>/raw-crash.json", pages.report_raw_crash, name="report-raw-crash"),
    path("report/<str:crash_id>/dump/<str:name>", pages.report_dump, name="report-dump"),
    path("report/<str:crash_id>/reprocess", pages.report_reprocess, name="report-reprocess"),
    path("login/", login.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", account.account, name="account"),
    path("account/tokens/", account.create_token, name="account-create-token"),
    path("account/tokens/<str:public_id>/revoke", account.revoke_token, name="account-revoke-token"),
    path("api/", views.index_view, name="api-index"),
    path("api/openapi.json", views.openapi_view, name="api-openapi"),
    path("api/<str:model_name>/", views.model_view, name="api-model"),
]
