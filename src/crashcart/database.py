"""Django set up from Crashcart's settings, and migrations applied at start.

Django's own settings module is not used: ``configure`` builds Django's settings from ``crashcart.settings``
(the one place that reads the environment), so the index follows ``CRASHCART_DATABASE_URL`` like every other
backend follows its URL. ``migrate`` is idempotent and safe when several nodes start at once: it holds a
PostgreSQL advisory lock (or, on SQLite, a file lock beside the database) while Django migrates.
"""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from crashcart.errors import ConfigError, IndexUnavailable

if TYPE_CHECKING:
    from crashcart.settings import Settings

#: Arbitrary constant naming Crashcart's migration lock among PostgreSQL advisory locks.
MIGRATION_LOCK_ID = 0x43524153  # "CRAS"

_configured_url: str | None = None
_lock = threading.Lock()


def database_config(url: str) -> dict[str, Any]:
    """Django's ``DATABASES['default']`` for a ``sqlite:///path`` or ``postgresql://`` URL."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        if parts.netloc or not parts.path.startswith("/"):
            raise ConfigError("sqlite database URL needs an absolute path: sqlite:///var/lib/crashcart/index.sqlite3")
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": unquote(parts.path),
            # Several worker processes write: WAL lets readers go on, IMMEDIATE avoids upgrade deadlocks.
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
            },
        }
    if parts.scheme in ("postgresql", "postgres"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": None,  # long-lived workers keep their connection; errors reconnect
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {"connect_timeout": 10},
        }
    raise ConfigError(f"unsupported database URL scheme {parts.scheme!r}: use sqlite:///path or postgresql://")


def configure(settings: Settings) -> None:
    """Set Django up for ``settings.database_url``, once per process (a second, different URL is an error)."""
    global _configured_url  # noqa: PLW0603  (Django's settings are process-wide by design)
    url = settings.database_url.get_secret_value()
    with _lock:
        if _configured_url is not None:
            if _configured_url != url:
                raise ConfigError("the crash index is already configured for another database in this process")
            return
        import django
        from django.conf import settings as django_settings

        database = database_config(url)
        if database["ENGINE"].endswith("sqlite3"):
            Path(database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        django_settings.configure(
            DATABASES={"default": database},
            INSTALLED_APPS=["crashcart.search"],
            USE_TZ=True,
            TIME_ZONE="UTC",
            DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
            LOGGING_CONFIG=None,  # Crashcart's JSON logging stays in charge
        )
        django.setup()
        _configured_url = url


def migrate(settings: Settings) -> None:
    """Apply pending migrations (a no-op when there are none), holding the migration lock."""
    configure(settings)
    from django.core.management import call_command
    from django.db import DatabaseError

    try:
        with _migration_lock(settings):
            call_command("migrate", interactive=False, verbosity=0)
    except DatabaseError as exc:
        raise IndexUnavailable(f"cannot migrate the crash index: {exc}") from exc


@contextmanager
def _migration_lock(settings: Settings) -> Iterator[None]:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_ID])
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_ID])
        return
    name = database_config(settings.database_url.get_secret_value())["NAME"]
    with open(f"{name}.migrate.lock", "a+b") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
