"""The crash index and Super Search: one database row per processed crash, for search and aggregation.

``fields`` is the Super Search field catalogue (Socorro's names; permission and description from
``crashcart.schemas``); ``models`` the tables (``search_crash`` with typed columns and ``search_crashdata`` with
the other fields as JSON, weekly partitions on PostgreSQL managed by ``partitions``); ``writer`` turns processed
crashes into rows and upserts them (the processor writes a row after saving the processed crash and before acking
its message); ``rebuild`` refills the index from storage. The tables are Django models so the web app's ORM,
admin and migrations share one definition; ``crashcart.database`` sets Django up from Crashcart's settings and
applies migrations at start, idempotently (no post-deploy step).
"""
