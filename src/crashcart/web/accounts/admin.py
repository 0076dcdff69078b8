"""Site admin for API tokens: list, search and revoke them (keys are never stored, so never shown).

Tokens are made by their users (``/account/``) or with ``crashcart token create``; the admin does not make
them, since a key made there would have to be shown to the administrator.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from crashcart.web.accounts.models import Token


@admin.register(Token)
class TokenAdmin(admin.ModelAdmin):
    list_display = ("public_id", "user", "permissions", "created", "expires", "revoked", "last_used")
    list_filter = ("revoked",)
    search_fields = ("public_id", "user__username", "notes")
    readonly_fields = ("public_id", "key_hash", "user", "permissions", "created", "last_used")
    fields = ("public_id", "user", "permissions", "notes", "created", "expires", "revoked", "last_used")
    actions = ("revoke",)

    def has_add_permission(self, request: Any) -> bool:
        return False

    def revoke(self, request: Any, queryset: Any) -> None:
        self.message_user(request, f"{queryset.update(revoked=True)} token(s) revoked")

    revoke.short_description = "Revoke the selected tokens"  # type: ignore[attr-defined]  # Django reads it
