"""The crash index tables.

``Crash`` is one row per crash with the fields people filter, sort and aggregate on most as typed columns (named
as the Super Search catalogue, ``crashcart.search.fields``); ``CrashData`` is its companion row holding every
other catalogue field in ``data`` (JSON, by its Super Search name; list fields as arrays). Together they keep
every catalogue field, public and protected: permissions are enforced when searching. A missing value is SQL
NULL (or an absent key in ``data``).

The JSON lives apart because it is most of a crash's bytes (about 1 KB of 1.3 KB) and almost no search reads
it: facets and filters over a week of crashes scan the narrow table only (about 300 bytes a row), which is what
brought the common questions under 250 ms at a million crashes (bench/results/search-*). A search joins
``CrashData`` only when it filters, sorts or aggregates on a field kept in ``data``, and fetches ``data``
columns of hits for the page of hits alone.

On PostgreSQL both tables are partitioned by range on ``date`` (one partition per ISO week, created together on
demand by the writer, plus a default partition as a safety net), so retention drops whole weeks
(``crashcart.search.partitions``); their primary key is therefore ``(uuid, date)``. SQLite gets plain tables
with the same columns and keys.
"""

from __future__ import annotations

from django.db import models


class Crash(models.Model):
    pk = models.CompositePrimaryKey("uuid", "date")
    uuid = models.CharField(max_length=36, help_text="crash id")
    date = models.DateTimeField(help_text="date_processed: when the collector accepted the crash")
    product = models.TextField(null=True)
    version = models.TextField(null=True)
    release_channel = models.TextField(null=True)
    platform = models.TextField(null=True, help_text="os_name")
    platform_version = models.TextField(null=True, help_text="os_version")
    cpu_arch = models.TextField(null=True)
    process_type = models.TextField(null=True)
    report_type = models.TextField(null=True)
    signature = models.TextField(null=True)
    reason = models.TextField(null=True)
    address = models.TextField(null=True)
    build_id = models.BigIntegerField(null=True, help_text="build")
    major_version = models.IntegerField(null=True)
    uptime = models.BigIntegerField(null=True)
    install_age = models.BigIntegerField(null=True)
    install_time = models.BigIntegerField(null=True)

    class Meta:
        db_table = "search_crash"
        indexes = [
            models.Index(fields=["date"], name="search_crash_date"),
            models.Index(fields=["product", "date"], name="search_crash_product_date"),
            models.Index(fields=["signature", "date"], name="search_crash_signature_date"),
            models.Index(fields=["version", "date"], name="search_crash_version_date"),
            models.Index(fields=["platform", "date"], name="search_crash_platform_date"),
            models.Index(fields=["process_type", "date"], name="search_crash_process_type_date"),
        ]

    def __str__(self) -> str:
        return str(self.uuid)


class CrashData(models.Model):
    """The catalogue fields of a crash that have no typed column in ``Crash``, in the same ``(uuid, date)``."""

    pk = models.CompositePrimaryKey("uuid", "date")
    uuid = models.CharField(max_length=36, help_text="crash id")
    date = models.DateTimeField(help_text="date_processed, as in Crash")
    data = models.JSONField(default=dict, help_text="every other catalogue field, by Super Search name")

    class Meta:
        db_table = "search_crashdata"

    def __str__(self) -> str:
        return str(self.uuid)


class Signature(models.Model):
    """When each signature was first seen, and in which build (Socorro's ``SignatureFirstDate``)."""

    signature = models.TextField(unique=True)
    first_date = models.DateTimeField()
    first_build = models.BigIntegerField(null=True)

    def __str__(self) -> str:
        return str(self.signature)


class BugAssociation(models.Model):
    """A bug filed against a signature (Socorro's ``Bugs`` / ``SignaturesByBugs``)."""

    bug_id = models.IntegerField()
    signature = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bug_id", "signature"], name="search_bug_signature_unique")]
        indexes = [models.Index(fields=["signature"], name="search_bug_signature")]

    def __str__(self) -> str:
        return f"{self.bug_id}: {self.signature}"


class RebuildCheckpoint(models.Model):
    """Where ``crashcart index rebuild`` got to, so a second run after an interruption continues there."""

    name = models.CharField(max_length=100, primary_key=True)
    since = models.DateField()
    until = models.DateField()
    day = models.DateField(help_text="the day being rebuilt")
    last_id = models.CharField(max_length=36, blank=True, default="", help_text="last id indexed on that day")
    indexed = models.BigIntegerField(default=0)
    skipped = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name}: {self.day} {self.last_id}"
