"""The pages' one table: a site-wide status message that administrators set in the admin."""

from __future__ import annotations

from django.core.cache import cache
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

    def save(self, *args: object, **kwargs: object) -> None:
        super().save(*args, **kwargs)
        forget_site_message()

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        deleted: tuple[int, dict[str, int]] = super().delete(*args, **kwargs)
        forget_site_message()
        return deleted


#: The cache key of the site message pages show (``crashcart.web.pages.views.site_message``).
SITE_MESSAGE_KEY = "crashcart:site-message"


def forget_site_message() -> None:
    """Make this process's next page read the message again (other processes do within 30 s)."""
    cache.delete(SITE_MESSAGE_KEY)
