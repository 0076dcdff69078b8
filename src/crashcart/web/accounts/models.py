"""The API token model, which also declares Crashcart's four permissions.

Django attaches custom permissions to a model; the token is the model they guard, so they are declared on
its ``Meta`` and the migration creates them (``accounts.view_pii``, …). Users and groups get them through
Django's auth like any permission.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

#: Codename → Socorro's display name (the 403 messages quote these; ``crashcart.web.api.base`` too).
PERMISSIONS: tuple[tuple[str, str], ...] = (
    ("view_pii", "View Personal Identifiable Information"),
    ("view_rawdump", "View Raw Dumps"),
    ("reprocess_crashes", "Reprocess Crashes"),
    ("upload_symbols", "Upload Symbols"),
)


class Token(models.Model):
    """An API token: the key is never stored, only its SHA-256 (the key is 128 random bits, so a fast hash
    is enough: nothing can be guessed from it). ``public_id`` names it in listings and for revoking."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    public_id = models.CharField(max_length=8, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    #: Codenames chosen at creation (a subset of the user's then); the effective set is also cut to the
    #: user's current permissions on every request.
    permissions = models.JSONField(default=list)
    notes = models.TextField(blank=True, default="")
    created = models.DateTimeField()
    expires = models.DateTimeField()
    revoked = models.BooleanField(default=False)
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = PERMISSIONS
        default_permissions = ()  # tokens are managed with the CLI, not through model permissions

    def __str__(self) -> str:
        return f"token {self.public_id} of user {self.user_id}"
