"""Django set up from Crashcart's settings, and migrations applied at start.

Django's own settings module is not used: ``configure`` builds Django's settings from ``crashcart.settings``
(the one place that reads the environment), so the index follows ``CRASHCART_DATABASE_URL`` like every other
backend follows its URL. Every process gets the same configuration (``django_settings_for``): the crash index,
accounts and API tokens, and the web application's URLs, middleware, secret key and cache, which only a web
server uses but which cost a processor nothing, so no second, web-only Django set-up exists.

``migrate`` is idempotent and safe when several nodes start at once: it holds a PostgreSQL advisory lock (or,
on SQLite, a file lock beside the database) while Django migrates.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import threading
import time
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


#: The web application's security headers and token checks run for every request (``crashcart.web.middleware``).
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",  # nosniff, Referrer-Policy
    "django.middleware.clickjacking.XFrameOptionsMiddleware",  # outermost: early answers (403, 429) get it too
    "crashcart.web.middleware.SecurityHeadersMiddleware",  # Content-Security-Policy
    "crashcart.web.middleware.ApiCorsMiddleware",  # before anything that may answer /api/ early
    "crashcart.web.middleware.ApiTokenMiddleware",  # Auth-Token → request.caller, or 403
    "crashcart.web.middleware.ApiRateLimitMiddleware",  # per IP / per token → 429 with Retry-After
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",  # forms; the API's views are exempt (tokens, not cookies)
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",  # the admin's notices
    "crashcart.web.middleware.RequireLoginMiddleware",  # CRASHCART_WEB_REQUIRE_LOGIN: sign in first
]

SECRET_KEY_FILE = "secret_key"  # noqa: S105  (a file name in the data dir, not a key)


def django_settings_for(settings: Settings, database: dict[str, Any]) -> dict[str, Any]:
    """Django's settings for Crashcart: the same for every process (processor, CLI, web), so each one sees
    the same apps, models and migrations; only the web server uses the URL, middleware and cache parts."""
    return {
        "DATABASES": {"default": database},
        "INSTALLED_APPS": [
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django.contrib.sessions",
            "django.contrib.messages",
            "django.contrib.admin",
            "crashcart.search",
            "crashcart.web.accounts",
            "crashcart.web.pages",
        ],
        "USE_TZ": True,
        "TIME_ZONE": "UTC",
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "LOGGING_CONFIG": None,  # Crashcart's JSON logging stays in charge
        "SECRET_KEY": secret_key(settings, database),
        "ALLOWED_HOSTS": [host.strip() for host in settings.allowed_hosts.split(",") if host.strip()],
        "ROOT_URLCONF": "crashcart.web.urls",
        "MIDDLEWARE": MIDDLEWARE,
        "CACHES": {"default": cache_config(settings.cache_url)},
        "TEMPLATES": [
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,  # crashcart/web/pages/templates; autoescaping stays on (Django's default)
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.template.context_processors.csrf",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                        "crashcart.web.pages.views.context_processor",
                    ],
                    "string_if_invalid": "",
                },
            }
        ],
        "STATIC_URL": "/static/",  # served by crashcart.web.pages.assets from the apps' static folders
        "MESSAGE_STORAGE": "django.contrib.messages.storage.session.SessionStorage",
        "LOGIN_URL": "login",
        "LOGIN_REDIRECT_URL": "home",
        "LOGOUT_REDIRECT_URL": "home",
        "SESSION_COOKIE_AGE": settings.web_session_seconds,
        "SESSION_COOKIE_SECURE": settings.web_secure_cookies,
        "CSRF_COOKIE_SECURE": settings.web_secure_cookies,
        "CSRF_COOKIE_HTTPONLY": True,
        "USE_I18N": False,
        "APPEND_SLASH": True,
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SAMESITE": "Lax",
        "DATA_UPLOAD_MAX_NUMBER_FIELDS": 20_000,  # Reprocessing: crashstats-tools posts 50 ids a request
        "DATA_UPLOAD_MAX_MEMORY_SIZE": settings.web_max_request_size,
        "CRASHCART_SETTINGS": settings,  # the views' one way to Crashcart's settings (read-only)
    }


def cache_config(url: str) -> dict[str, Any]:
    """Django's ``CACHES['default']``: each process's memory, or Redis when ``url`` names one."""
    if not url:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "crashcart"}
    return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}


def secret_key(settings: Settings, database: dict[str, Any]) -> str:
    """``CRASHCART_SECRET_KEY``; with the embedded SQLite database and no setting, a key kept in the data dir.

    Without a setting and on PostgreSQL, a key for this process only: the processor and the CLI sign nothing,
    and ``crashcart web`` refuses to start in that case (``require_secret_key``), so no web node ever signs
    with a key its peers do not share.
    """
    configured = settings.secret_key.get_secret_value()
    if configured:
        return configured
    if not database["ENGINE"].endswith("sqlite3"):
        return secrets.token_urlsafe(48)
    path = settings.data_dir / SECRET_KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: of several processes starting at once, one writes the key and the others read it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            key = path.read_text().strip()
            if key:
                return key
            time.sleep(0.02)  # written by another process right now
        raise ConfigError(f"{path} is empty: delete it to have a new key generated") from None
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as out:
        out.write(key + "\n")
    return key


def require_secret_key(settings: Settings) -> None:
    """Refuse to serve the web application without a shared secret key when the database is not SQLite."""
    engine = database_config(settings.database_url.get_secret_value())["ENGINE"]
    if not settings.secret_key.get_secret_value() and not engine.endswith("sqlite3"):
        raise ConfigError(
            "CRASHCART_SECRET_KEY is required when the database is PostgreSQL (every web node must share it)"
        )


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
        django_settings.configure(**django_settings_for(settings, database))
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
