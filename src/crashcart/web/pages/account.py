"""The account pages: who you are, your permissions, and your API tokens (create, list, revoke).

Tokens are made and revoked through ``crashcart.web.accounts.service``, the same functions as the CLI's, so a
token made here carries only permissions its user holds, is stored as a hash and shown once. A reader can
list and revoke only their own tokens.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from crashcart.errors import AccountError
from crashcart.web.api.base import PERMISSION_LABELS
from crashcart.web.pages.views import allow, signed_in, site_settings

MAX_NOTES = 2_000


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    from crashcart.web.accounts.service import list_tokens, user_permissions  # noqa: PLC0415  (models: apps ready)

    now = dt.datetime.now(dt.UTC)
    held = sorted(user_permissions(request.user))
    tokens = [(token, token.state(now)) for token in list_tokens(request.user.username)]
    return {
        "permissions": [(code, PERMISSION_LABELS.get(code, code)) for code in held],
        "tokens": tokens,
        "default_days": site_settings().token_days,
        "max_notes": MAX_NOTES,
        **extra,
    }


@signed_in
@allow("GET")
def account(request: HttpRequest) -> HttpResponse:
    response = render(request, "pages/account.html", _context(request))
    response["Cache-Control"] = "private, no-store"
    return response


@signed_in
@allow("POST")
def create_token(request: HttpRequest) -> HttpResponse:
    """Make a token with the permissions ticked (each must be the reader's own); its key is shown once."""
    from crashcart.web.accounts.service import create_token as make  # noqa: PLC0415  (models: apps ready)

    chosen = [code for code in request.POST.getlist("permissions") if code in PERMISSION_LABELS]
    days_text = request.POST.get("days", "").strip() or str(site_settings().token_days)
    notes = request.POST.get("notes", "")
    error = None
    if not days_text.isdigit() or not 1 <= int(days_text) <= 3650:
        error = "Days must be a whole number from 1 to 3650."
    elif len(notes) > MAX_NOTES:
        error = f"Notes are at most {MAX_NOTES} characters."
    if error is None:
        try:
            info, key = make(request.user.username, chosen, days=int(days_text), notes=notes)
        except AccountError as exc:
            error = str(exc)
        else:
            response = render(request, "pages/account.html", _context(request, new_key=key, new_token=info))
            response["Cache-Control"] = "private, no-store"
            return response
    return render(request, "pages/account.html", _context(request, error=error), status=400)


@signed_in
@allow("POST")
def revoke_token(request: HttpRequest, public_id: str) -> HttpResponse:
    from crashcart.web.accounts.service import list_tokens  # noqa: PLC0415  (models: apps ready)
    from crashcart.web.accounts.service import revoke_token as revoke  # noqa: PLC0415

    if public_id not in {token.public_id for token in list_tokens(request.user.username)}:
        return render(request, "pages/not_found.html", {"message": "You have no such token."}, status=404)
    revoke(public_id)
    return redirect("account")
