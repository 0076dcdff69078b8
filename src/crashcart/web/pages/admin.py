"""Site admin (Django's admin at ``/admin/``, for staff users): the status message."""

from __future__ import annotations

from django.contrib import admin

from crashcart.web.pages.models import SiteMessage


@admin.register(SiteMessage)
class SiteMessageAdmin(admin.ModelAdmin):
    list_display = ("text", "level", "active", "created")
    list_filter = ("active", "level")
