"""Django app configuration of the crash index."""

from __future__ import annotations

from django.apps import AppConfig


class IndexConfig(AppConfig):
    name = "crashcart.index"
    label = "crashcart_index"
    verbose_name = "Crash index"
    default_auto_field = "django.db.models.BigAutoField"
