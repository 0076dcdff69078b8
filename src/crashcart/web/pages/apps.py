"""Django app configuration of the pages: templates and static files, no models."""

from __future__ import annotations

from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "crashcart.web.pages"
    label = "pages"
    verbose_name = "Crash Stats pages"
