"""Who reads a page: the signed-in user's permissions as the API's ``Caller`` (anonymous: none)."""

from __future__ import annotations

from django.http import HttpRequest

from crashcart.web.api.base import ANONYMOUS, Caller


def page_caller(request: HttpRequest) -> Caller:
    """The reader of ``request``: the session's user with their current permissions (read on every request,
    so a permission taken away applies at the next page), or anonymous."""
    from crashcart.web.accounts.service import user_permissions  # noqa: PLC0415  (models: apps ready)

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ANONYMOUS
    return Caller(permissions=user_permissions(user), user_id=user.pk, token_id=None)
