"""The crash index: one database row per processed crash, for search and aggregation.

The processor writes a row after saving the processed crash and before acking its message; the web app
(a later issue) reads and extends it. The tables are Django models so the web app's ORM, admin and
migrations share one definition; ``crashcart.database`` sets Django up from Crashcart's settings and applies
migrations at start, idempotently (no post-deploy step).
"""
