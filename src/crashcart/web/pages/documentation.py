"""Documentation pages generated from the code: the data dictionary (the schemas and the Super Search
catalogue) and the API (the registered models), so they cannot drift from what the server does."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from crashcart.web.api.base import PERMISSION_LABELS, REGISTRY
from crashcart.web.api.endpoints._common import schemas
from crashcart.web.pages.views import allow, site_settings


@allow("GET")
def data_dictionary(request: HttpRequest) -> HttpResponse:
    """Every processed-crash field and raw annotation (type, permission, source, description), and every Super
    Search field (type, operators, facetable, permission)."""
    from crashcart.search.fields import catalogue  # noqa: PLC0415  (the search layer loads the schemas)

    kinds = schemas(site_settings().schema_extra_fields)
    fields = sorted(catalogue().fields.values(), key=lambda f: f.name)
    context = {
        "processed": [kinds["processed_crash"].fields[name] for name in sorted(kinds["processed_crash"].fields)],
        "raw": [kinds["raw_crash"].fields[name] for name in sorted(kinds["raw_crash"].fields)],
        "search_fields": [(f, " ".join(sorted(op or "(has terms)" for op in f.operators))) for f in fields],
    }
    response = render(request, "pages/datadictionary.html", context)
    response["Cache-Control"] = "public, max-age=3600"
    return response


@allow("GET")
def api_documentation(request: HttpRequest) -> HttpResponse:
    """Every ``/api/<Model>/``: methods, permission, parameters and what it answers."""
    models: list[dict[str, Any]] = [
        {
            "name": name,
            "methods": ", ".join(model.methods),
            "permission": PERMISSION_LABELS.get(model.permission or "", ""),
            "description": model.description,
            "params": model.params,
        }
        for name, model in sorted(REGISTRY.items())
        if not name.startswith("Test")
    ]
    response = render(request, "pages/apidocs.html", {"models": models})
    response["Cache-Control"] = "public, max-age=3600"
    return response
