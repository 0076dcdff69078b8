# Written by hand: the JSON column of search_crash moves to its own table, search_crashdata.

import datetime as dt

from django.db import migrations, models

from crashcart.search.partitions import (
    DATA_TABLE,
    DEFAULT_PARTITION,
    TABLE,
    list_partitions,
    partition_model,
    partition_name,
    statistics_sql,
)


def partition_and_fill(apps, schema_editor):
    """Make search_crashdata partitioned like search_crash (PostgreSQL), with a partition for every week
    search_crash has, then copy every crash's data into it, so no search loses a field. The partitions of
    search_crash get the statistics new ones are created with (partitions.STATISTICS_EXPRESSIONS)."""
    partition_model(schema_editor, apps.get_model("search", "CrashData"))
    if schema_editor.connection.vendor == "postgresql":  # partitions made before 0002 get their statistics
        for name in [DEFAULT_PARTITION, *(name for name, _ in list_partitions(TABLE, schema_editor.connection))]:
            schema_editor.execute(statistics_sql(name))
    for _, start in list_partitions(TABLE, schema_editor.connection):  # none on SQLite
        schema_editor.execute(
            f"CREATE TABLE {schema_editor.quote_name(partition_name(start, DATA_TABLE))} "
            f"PARTITION OF {DATA_TABLE} FOR VALUES FROM (%s) TO (%s)",
            [start, start + dt.timedelta(days=7)],
        )
    schema_editor.execute("INSERT INTO search_crashdata (uuid, date, data) SELECT uuid, date, data FROM search_crash")


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="CrashData",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "uuid", "date", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("uuid", models.CharField(help_text="crash id", max_length=36)),
                ("date", models.DateTimeField(help_text="date_processed, as in Crash")),
                ("data", models.JSONField(default=dict, help_text="every other catalogue field, by Super Search name")),
            ],
            options={"db_table": "search_crashdata"},
        ),
        migrations.RunPython(partition_and_fill, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(model_name="crash", name="data"),
    ]
