"""The crash index tables.

``Crash`` holds the fields people filter, sort and aggregate on, as columns; the rest of the public
processed crash is in ``public`` (JSON) for display. Protected fields never enter the index: the web app
reads them from storage for users with the permission. ``date`` is always the date in the crash id, so a
crash whose ``submitted_timestamp`` disagrees is still found under its id's day.
"""

from __future__ import annotations

from django.db import models


class Crash(models.Model):
    crash_id = models.CharField(max_length=36, primary_key=True)
    date = models.DateField(db_index=True, help_text="UTC date in the crash id")
    submitted_at = models.DateTimeField(null=True, help_text="submitted_timestamp from the collector")
    processed_at = models.DateTimeField(help_text="when this row was last written")
    product = models.CharField(max_length=100, blank=True, default="")
    version = models.CharField(max_length=100, blank=True, default="")
    release_channel = models.CharField(max_length=100, blank=True, default="")
    build_id = models.CharField(max_length=50, blank=True, default="")
    platform = models.CharField(max_length=100, blank=True, default="", help_text="os_name")
    os_version = models.CharField(max_length=200, blank=True, default="")
    cpu_arch = models.CharField(max_length=50, blank=True, default="")
    process_type = models.CharField(max_length=50, blank=True, default="")
    signature = models.TextField(blank=True, default="")
    reason = models.CharField(max_length=255, blank=True, default="")
    address = models.CharField(max_length=50, blank=True, default="")
    uptime = models.BigIntegerField(null=True)
    install_age = models.BigIntegerField(null=True)
    public = models.JSONField(default=dict, help_text="public processed-crash fields")

    class Meta:
        db_table = "crashcart_crash"
        indexes = [
            models.Index(fields=["date", "signature"], name="crash_date_signature"),
            models.Index(fields=["product", "version", "date"], name="crash_product_version_date"),
            models.Index(fields=["signature"], name="crash_signature"),
        ]

    def __str__(self) -> str:
        return str(self.crash_id)
