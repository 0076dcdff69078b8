"""The ``/api/<Model>/`` dispatcher, the ``/api/`` listing and ``/api/openapi.json``, all from ``REGISTRY``.

For each request, in Socorro's order: the model by name (404), the method (405), the endpoint's permission
(403), the parameters (400 ``{"errors": {...}}``), then the model's ``handle``; what it raises becomes
Socorro's error bodies (``APIError`` as given, ``BadArgumentError`` 400), and anything unexpected a 500 whose
body says nothing about the request or the crash (the log has the traceback). Token checks, CORS and rate
limits happened in ``crashcart.web.middleware`` before any of this.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

from crashcart import errors
from crashcart.errors import BadArgumentError, CrashcartError
from crashcart.web.api.base import PERMISSION_LABELS, REGISTRY, APIContext, APIError, APIModel, Binary, Caller, Param
from crashcart.web.middleware import caller_of

LOGGER = logging.getLogger(__name__)

REQUIRED = "This field is required."
NOT_A_NUMBER = "Enter a whole number."
INT_LIMIT = 2**63  # what a database integer holds; beyond it a number is refused like a non-number
_INTEGER = re.compile(r"[+-]?[0-9]+")  # ASCII digits only: int() would take "٣" and "1_000"
FALSE_WORDS = frozenset({"", "0", "false", "False", "no", "off"})
#: Backends that are down: the client may retry later (503), and the body names only the error's code.
UNAVAILABLE = (errors.StorageUnavailable, errors.IndexUnavailable, errors.QueueUnavailable)


def parse_params(
    declared: Sequence[Param], query: Mapping[str, Sequence[str]]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The declared parameters from a query or form (``key → every value given``), and the errors by name.

    Unknown keys are ignored (Socorro's behaviour). A single-valued parameter given twice takes the last
    value, as Django's forms do; an empty value counts as absent.
    """
    values: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    named = {param.name for param in declared if not param.prefix}
    for family in (param for param in declared if param.prefix):
        for key, given_values in query.items():
            if key.startswith(family.name) and key not in named and len(key) > len(family.name):
                values[key] = [value for value in given_values if value != ""]
    for param in declared:
        if param.prefix:
            continue
        given = [value for value in query.get(param.name, ()) if value != ""]
        if param.required and not given:
            problems[param.name] = [REQUIRED]
            continue
        if param.kind == "list":
            values[param.name] = given
        elif not given:
            values[param.name] = None
        elif param.kind == "int":
            number = _int(given[-1])
            if number is None:
                problems[param.name] = [NOT_A_NUMBER]
            else:
                values[param.name] = number
        elif param.kind == "bool":
            values[param.name] = given[-1].strip() not in FALSE_WORDS
        else:
            values[param.name] = given[-1]
    return values, problems


def _int(text: str) -> int | None:
    text = text.strip()
    if len(text) > 20 or not _INTEGER.fullmatch(text):
        return None
    number = int(text)
    return number if -INT_LIMIT < number < INT_LIMIT else None


def usable_by(model: type[APIModel], caller: Caller) -> bool:
    """Whether ``caller`` may use ``model`` at all (listed under ``/api/``)."""
    return model.permission is None or caller.has(model.permission)


def json_response(body: Any, status: int = 200, *, pretty: bool = False) -> HttpResponse:
    text = json.dumps(body, indent=2 if pretty else None, ensure_ascii=False, default=_json_default)
    return HttpResponse(text.encode(), status=status, content_type="application/json; charset=UTF-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _model_view(request: HttpRequest, model_name: str) -> HttpResponse:
    """``/api/<model_name>/``."""
    model = REGISTRY.get(model_name)
    if model is None:
        return JsonResponse({"error": f"No service called '{model_name}'"}, status=404)
    method = request.method or "GET"
    if method == "HEAD" and "GET" in model.methods:
        method = "GET"
    if method not in model.methods:
        response = JsonResponse({"error": "Method not allowed"}, status=405)
        response["Allow"] = ", ".join(model.methods)
        return response
    caller = caller_of(request)
    if model.permission is not None and not caller.has(model.permission):
        return _permission_refused(model.permission)
    try:
        source = request.POST if method == "POST" else request.GET
        query = {key: source.getlist(key) for key in source}
    except (SuspiciousOperation, MultiPartParserError) as exc:  # too many fields, a broken multipart body
        return JsonResponse({"error": f"Bad request: {type(exc).__name__}"}, status=400)
    pretty = "print" in request.GET.getlist("pretty") or "print" in query.get("pretty", [])
    params, problems = parse_params(model.params, query)
    if problems:
        return json_response({"errors": problems}, 400, pretty=pretty)
    ctx = APIContext(caller=caller, settings=django_settings.CRASHCART_SETTINGS, now=dt.datetime.now(dt.UTC))
    try:
        result = model().handle(ctx, params)
    except APIError as exc:
        return json_response(exc.body, exc.status, pretty=pretty)
    except BadArgumentError as exc:
        return json_response({"error": f"Bad request: BadArgumentError: {exc.message}"}, 400, pretty=pretty)
    except UNAVAILABLE as exc:
        LOGGER.warning("API %s: %s", model_name, exc.code, extra={"error": exc.code})
        return json_response({"error": f"Service unavailable: {exc.code}"}, 503, pretty=pretty)
    except Exception as exc:  # every model's bug ends here: logged with its traceback, never shown
        code = exc.code if isinstance(exc, CrashcartError) else type(exc).__name__
        LOGGER.exception("API %s failed (%s)", model_name, code)
        return json_response({"error": "Internal server error"}, 500, pretty=pretty)
    if isinstance(result, Binary):
        if model.binary_permission is not None and not caller.has(model.binary_permission):
            label = PERMISSION_LABELS[model.binary_permission]
            return JsonResponse({"error": f"Binary response requires permissions: {label}"}, status=403)
        response = HttpResponse(result.body, content_type=result.content_type)
        response["Content-Disposition"] = f'attachment; filename="{_header_safe(result.filename)}"'
    else:
        response = json_response(result, pretty=pretty)
    if model.cache_seconds > 0:
        response["Cache-Control"] = f"private, max-age={model.cache_seconds}"
    return response


#: CSRF-exempt: the API authenticates with Auth-Token, never with cookies, so a forged form has nothing to ride on.
model_view: Callable[[HttpRequest, str], HttpResponse] = csrf_exempt(_model_view)


def _permission_refused(permission: str) -> HttpResponse:
    label = PERMISSION_LABELS[permission]
    return JsonResponse({"error": f"Use of this endpoint requires the '{label}' permission"}, status=403)


def _header_safe(filename: str) -> str:
    """A file name that cannot end the header's quoted string or start another header."""
    return "".join(c for c in filename if c.isprintable() and c not in '"\\\r\n') or "download"


def index_view(request: HttpRequest) -> HttpResponse:
    """``/api/``: the models the caller may use, as JSON (``Accept: application/json`` or ``?format=json``)
    or a minimal HTML page (every value escaped; no script, no style)."""
    caller = caller_of(request)
    models = [listing(model) for name, model in sorted(REGISTRY.items()) if usable_by(model, caller)]
    wants_json = request.GET.get("format") == "json" or "application/json" in request.headers.get("Accept", "")
    if wants_json:
        return json_response({"models": models, "openapi": "/api/openapi.json"})
    return HttpResponse(_html(models), content_type="text/html; charset=utf-8")


def listing(model: type[APIModel]) -> dict[str, Any]:
    return {
        "name": model.name,
        "url": f"/api/{model.name}/",
        "methods": list(model.methods),
        "description": model.description,
        "permission": PERMISSION_LABELS.get(model.permission or ""),
        "params": [
            {"name": f"{p.name}…" if p.prefix else p.name, "type": p.kind, "required": p.required, "help": p.help}
            for p in model.params
        ],
    }


def _html(models: Iterable[dict[str, Any]]) -> str:
    esc = html.escape
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Crashcart API</title></head><body>',
        "<h1>Crashcart API</h1>",
        "<p>Models you may use (send <code>Auth-Token: &lt;token&gt;</code> for more). "
        'Machine-readable: <a href="/api/openapi.json">OpenAPI</a>.</p>',
    ]
    for model in models:
        parts.append(f'<h2><a href="{esc(model["url"])}">{esc(model["name"])}</a></h2>')
        parts.append(f"<p>{esc(', '.join(model['methods']))}. {esc(model['description'])}</p>")
        if model["permission"]:
            parts.append(f"<p>Requires the &#x27;{esc(model['permission'])}&#x27; permission.</p>")
        if model["params"]:
            parts.append("<ul>")
            for p in model["params"]:
                required = " (required)" if p["required"] else ""
                parts.append(f"<li><code>{esc(p['name'])}</code> {esc(p['type'])}{required}: {esc(p['help'])}</li>")
            parts.append("</ul>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def openapi_view(request: HttpRequest) -> HttpResponse:
    """``/api/openapi.json``: every registered model, whoever asks (the permissions are documented in it)."""
    return json_response(openapi_document(REGISTRY.values()), pretty="print" in request.GET.getlist("pretty"))


_SCHEMAS: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "int": {"type": "integer", "minimum": -(INT_LIMIT - 1), "maximum": INT_LIMIT - 1},
    "bool": {"type": "boolean"},
    "list": {"type": "array", "items": {"type": "string"}},
}


def openapi_document(models: Iterable[type[APIModel]]) -> dict[str, Any]:
    """An OpenAPI 3.0 description of ``models`` (pure: rendered from their declarations)."""
    from crashcart import __version__  # noqa: PLC0415  (only for this rarely asked document)

    paths: dict[str, Any] = {}
    for model in sorted(models, key=lambda m: m.name):
        operations: dict[str, Any] = {}
        for method in model.methods:
            operations[method.lower()] = _operation(model, method)
        paths[f"/api/{model.name}/"] = operations
    error = {
        "description": "An error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Crashcart API",
            "version": __version__,
            "description": "Socorro-compatible crash-stats API. Send `Auth-Token: <token>` for permissions.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {"AuthToken": {"type": "apiKey", "in": "header", "name": "Auth-Token"}},
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]},
                "FormErrors": {
                    "type": "object",
                    "properties": {
                        "errors": {
                            "type": "object",
                            "additionalProperties": {"type": "array", "items": {"type": "string"}},
                        }
                    },
                    "required": ["errors"],
                },
            },
            "responses": {"Error": error},
        },
        "security": [{}, {"AuthToken": []}],
    }


def _operation(model: type[APIModel], method: str) -> dict[str, Any]:
    ok: dict[str, Any] = {"application/json": {"schema": {}}}
    if model.binary_permission is not None:
        ok["application/octet-stream"] = {"schema": {"type": "string", "format": "binary"}}
    description = model.description
    if model.permission is not None:
        description += f"\n\nRequires the '{PERMISSION_LABELS[model.permission]}' permission."
    operation: dict[str, Any] = {
        "operationId": f"{model.name}_{method.lower()}",
        "summary": model.name,
        "description": description.strip(),
        "responses": {
            "200": {"description": "The answer", "content": ok},
            "400": {
                "description": "Bad parameters",
                "content": {
                    "application/json": {
                        "schema": {
                            "oneOf": [
                                {"$ref": "#/components/schemas/Error"},
                                {"$ref": "#/components/schemas/FormErrors"},
                            ]
                        }
                    }
                },
            },
            "403": {"$ref": "#/components/responses/Error"},
            "404": {"$ref": "#/components/responses/Error"},
            "413": {"$ref": "#/components/responses/Error"},
            "429": {"$ref": "#/components/responses/Error"},
            "503": {"$ref": "#/components/responses/Error"},
        },
    }
    declared = [p for p in model.params if not p.prefix]
    families = [p for p in model.params if p.prefix]
    if families:
        operation["description"] += "\n\nAlso: " + "; ".join(f"`{p.name}…`: {p.help}" for p in families)
    schemas = {p.name: {**_SCHEMAS[p.kind], "description": p.help} for p in declared}
    required = [p.name for p in declared if p.required]
    if method == "POST":
        body: dict[str, Any] = {"type": "object", "properties": schemas}
        if required:
            body["required"] = required
        encoding = {p.name: {"style": "form", "explode": True} for p in declared if p.kind == "list"}
        form: dict[str, Any] = {"schema": body}
        if encoding:
            form["encoding"] = encoding
        operation["requestBody"] = {"required": bool(required), "content": {"application/x-www-form-urlencoded": form}}
    else:
        operation["parameters"] = [
            {
                "name": p.name,
                "in": "query",
                "required": p.required,
                "schema": schemas[p.name],
                **({"style": "form", "explode": True} if p.kind == "list" else {}),
            }
            for p in declared
        ]
    return operation
