"""Django app configuration of the crash index and Super Search."""

from __future__ import annotations

from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "crashcart.search"
    label = "search"
    verbose_name = "Crash index"
    default_auto_field = "django.db.models.BigAutoField"
