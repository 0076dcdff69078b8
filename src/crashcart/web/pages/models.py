"""The pages' one table: a site-wide status message that administrators set in the admin."""

from __future__ import annotations

from django.db import models


class SiteMessage(models.Model):
    """A message shown at the top of every page while it is active (maintenance, an incident, a notice)."""

    LEVELS = (("info", "information"), ("warning", "warning"), ("error", "outage"))

    text = models.TextField(max_length=2_000)
    level = models.CharField(max_length=10, choices=LEVELS, default="info")
    active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created",)

    def __str__(self) -> str:
        return str(self.text)[:80]
