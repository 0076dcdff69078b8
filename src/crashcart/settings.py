"""Every Crashcart setting, typed and documented, read from ``CRASHCART_*`` environment variables.

This is the only module that reads the environment (``docs/architecture.md``). Components receive
the values they need through their constructors; tests build a ``Settings`` from a mapping instead of
mutating ``os.environ``. The defaults run everything embedded under one data directory, so a new user needs
no configuration at all; production points the URLs at real backends.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.config import JsonDict
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from crashcart.redact import passwords_in, redact

KiB = 1024
MiB = 1024 * KiB


def _limit(component: str) -> JsonDict:
    """Marks a setting as a bound on hostile input, listed by component in ``docs/limits.md``."""
    return {"limit": component}


ENV_PREFIX = "CRASHCART_"


class SettingsError(Exception):
    """A setting is invalid; the message names the environment variable and says why."""


class Settings(BaseSettings):
    """Crashcart's configuration. Each field is one ``CRASHCART_<NAME>`` environment variable."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=None,
        extra="forbid",
        validate_default=True,
        frozen=True,
    )

    # --- where things live -------------------------------------------------------------------------
    data_dir: Path = Field(
        default=Path("./crashcart-data"),
        description="Directory that holds all embedded state (file storage, SQLite queue). "
        "Only used by defaults: a production node keeps nothing here that matters.",
    )
    storage_url: str = Field(
        default="",
        description="Crash storage: `file:///absolute/path` or `s3://bucket[/prefix]`. "
        "Empty means `file://<data_dir>/storage`.",
    )
    s3_endpoint_url: str = Field(
        default="",
        description="S3 endpoint for S3-compatible servers (MinIO, Ceph, moto); empty for AWS.",
    )
    s3_region: str = Field(default="us-east-1", description="S3 region name.")
    s3_access_key_id: str = Field(default="", description="S3 access key id; empty uses boto3's chain.")
    s3_secret_access_key: SecretStr = Field(
        default=SecretStr(""), description="S3 secret access key; empty uses boto3's credential chain."
    )
    s3_connect_timeout: float = Field(default=5.0, gt=0, description="Seconds to connect to S3.")
    s3_read_timeout: float = Field(default=30.0, gt=0, description="Seconds to wait for an S3 response.")
    s3_max_attempts: int = Field(default=3, ge=1, le=20, description="Attempts per S3 call (boto3 retries).")
    s3_create_bucket: bool = Field(
        default=False,
        description="Create the bucket at start if it does not exist (handy for local S3 servers).",
    )
    queue_prefix: str = Field(
        default="crashcart.",
        pattern=r"^[A-Za-z0-9_.:-]{0,64}$",
        description="Prefix of RabbitMQ queue names (`<prefix>standard`, …), so deployments can share a broker.",
    )
    database_url: SecretStr = Field(
        default=SecretStr(""),
        description="Crash index database: `sqlite:///absolute/path.sqlite3` (embedded) or "
        "`postgresql://user:password@host:5432/dbname`. Empty means `sqlite:///<data_dir>/crashcart.sqlite3`. "
        "Migrations are applied at start.",
    )
    queue_url: str = Field(
        default="",
        description="Crash queue: `sqlite:///absolute/path.sqlite3` or `amqp://user:pass@host:5672/vhost`. "
        "Empty means `sqlite:///<data_dir>/queue.sqlite3`.",
    )
    queue_max_attempts: int = Field(
        json_schema_extra=_limit("processor"),
        default=5,
        ge=1,
        le=100,
        description="Failed attempts after which a message is dead-lettered.",
    )
    queue_lease_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How long a consumer may hold a message before it is redelivered to another.",
    )
    queue_retry_base_seconds: float = Field(
        default=10.0, ge=0, description="Back-off after a failed attempt: base × 2^(attempt-1) seconds."
    )
    queue_publish_timeout: float = Field(
        default=5.0, gt=0, description="Seconds the collector waits for the queue before giving up on it."
    )

    # --- processor -----------------------------------------------------------------------------------
    processor_workers: int = Field(
        default=2, ge=1, le=256, description="Worker processes for `crashcart processor` (one crash at a time each)."
    )
    processor_crash_budget: float = Field(
        json_schema_extra=_limit("processor"),
        default=120.0,
        gt=0,
        description="Seconds one crash may take; a worker over it is killed and replaced, and the crash is "
        "retried with back-off, then dead-lettered.",
    )
    processor_optional_rules: str = Field(
        default="",
        description="Comma-separated optional processing rules to switch on (e.g. Mozilla's "
        "`esr_version_rewrite,fenix_version_rewrite`); unknown names stop the processor at start.",
    )
    beta_versions_file: Path | None = Field(
        default=None,
        description="CSV (`product,channel,build_id,version`) or YAML list mapping beta/aurora build ids to "
        "version strings, for the optional `beta_version` rule (Socorro asked its web app). Re-read when it changes.",
    )
    schema_extra_fields: Path | None = Field(
        default=None,
        description="YAML file declaring this deployment's own annotation and processed-crash fields "
        "(type, description, public or protected); see docs/data-dictionary.md. Validated at start.",
    )
    signature_lists_dir: Path | None = Field(
        default=None,
        description="Directory (kept in version control) of signature lists added to siggen's and ours: "
        "irrelevant_signature_re.txt, prefix_signature_re.txt, signatures_with_line_numbers_re.txt, "
        "signature_sentinels.txt, system_libraries.txt, abort_frames_re.txt, terminate_frames_re.txt "
        "(each optional). Validated at start.",
    )
    signature_lists_include_defaults: bool = Field(
        default=True, description="Start from siggen's and Crashcart's lists; false uses only the directory's."
    )
    stackwalk_max_seconds: float = Field(
        json_schema_extra=_limit("processor"),
        default=20.0,
        gt=0,
        description="Wall-clock budget of one dump's stack walk and of building its output; unreached "
        "threads are noted.",
    )
    stackwalk_max_frames: int = Field(
        json_schema_extra=_limit("processor"),
        default=1024,
        ge=1,
        le=1 << 20,
        description="Frames kept per thread by the walker.",
    )
    stackwalk_max_total_frames: int = Field(
        json_schema_extra=_limit("processor"),
        default=20_000,
        ge=1,
        le=1 << 24,
        description="Frames kept per dump, all threads together; the crashing thread is walked first, the "
        "threads the budget does not reach get no frames and a note (see docs/stackwalk.md).",
    )
    stackwalk_max_output_size: int = Field(
        json_schema_extra=_limit("processor"),
        default=10 * MiB,
        ge=64 * 1024,
        description="Bytes of walker output (`json_dump` as indented JSON, or `crashcart stackwalk`'s text) "
        "beyond which threads other than the crashing one are left out, counted in `json_dump.stackwalker.truncated` "
        "and a processor note.",
    )
    processor_status_port: int = Field(
        default=8001, ge=0, le=65535, description="Port of the processor's `/metrics` and heartbeat server."
    )
    processor_idle_seconds: float = Field(
        default=0.5, gt=0, le=60, description="How long an idle worker waits before polling the queues again."
    )

    # --- collector -----------------------------------------------------------------------------------
    submit_path: str = Field(default="/submit", description="URL path crash reporters POST to.")
    collector_workers: int = Field(
        default=2, ge=1, le=64, description="ASGI worker processes for `crashcart collector`."
    )
    collector_threads: int = Field(
        default=16, ge=1, le=256, description="Threads per worker for blocking storage and queue calls."
    )
    max_request_size: int = Field(
        json_schema_extra=_limit("collector"),
        default=100 * MiB,
        gt=0,
        description="Largest request body on the wire, in bytes (413 above).",
    )
    max_decompressed_size: int = Field(
        json_schema_extra=_limit("collector"),
        default=512 * MiB,
        gt=0,
        description="Largest body after gzip decompression, in bytes (413 above; bombs stop there).",
    )
    max_annotations: int = Field(
        json_schema_extra=_limit("collector"), default=1000, ge=1, description="Most annotations one report may carry."
    )
    max_annotation_size: int = Field(
        json_schema_extra=_limit("collector"),
        default=1 * MiB,
        ge=1,
        description="Longest annotation value in bytes; longer values are dropped with a collector note.",
    )
    max_json_size: int = Field(
        json_schema_extra=_limit("collector"),
        default=20 * MiB,
        ge=1,
        description="Largest JSON `extra` part, in bytes.",
    )
    max_dumps: int = Field(
        json_schema_extra=_limit("collector"),
        default=32,
        ge=1,
        description="Most file parts (dumps) one report may carry.",
    )
    max_parts: int = Field(
        json_schema_extra=_limit("collector"),
        default=2000,
        ge=1,
        description="Most multipart parts one request may carry.",
    )
    dump_spool_threshold: int = Field(
        json_schema_extra=_limit("collector"),
        default=1 * MiB,
        ge=0,
        description="Dumps larger than this are spooled to disk while receiving instead of kept in memory.",
    )
    body_timeout: float = Field(
        json_schema_extra=_limit("collector"),
        default=70.0,
        gt=0,
        description="Seconds a client may take to send its body before it gets 408.",
    )
    collector_parse_budget: float = Field(
        json_schema_extra=_limit("collector"),
        default=10.0,
        gt=0,
        description="CPU seconds the collector may spend inflating and splitting one request's body; over it "
        "the request gets 413 `Discarded=too_large_parse_time` and its spooled files are removed. Honest reports take "
        "milliseconds (about 1.2 ms per inflated MiB; the worst hostile body ~15 ms per MiB).",
    )
    max_header_size: int = Field(
        json_schema_extra=_limit("collector"),
        default=64 * KiB,
        ge=1 * KiB,
        le=1 * MiB,
        description="Largest request head (request line and header fields), in bytes: a longer one gets "
        "431 `too_large_headers` and the connection is closed, so an endless header cannot grow a worker.",
    )
    header_timeout: float = Field(
        json_schema_extra=_limit("collector"),
        default=10.0,
        gt=0,
        description="Seconds a connection may take to send a request's head, from the moment it opens (or its "
        "previous response ends); then it gets 408 `header_timeout` and is closed (closed silently if it sent "
        "nothing).",
    )
    keepalive_timeout: int = Field(
        json_schema_extra=_limit("collector"),
        default=5,
        ge=1,
        description="Seconds an idle keep-alive connection stays open after a response. Behind a load balancer "
        "that reuses connections, set it above the balancer's idle timeout (e.g. 75 behind AWS ALB's 60).",
    )
    collector_max_connections: int = Field(
        json_schema_extra=_limit("collector"),
        default=1000,
        ge=1,
        le=100_000,
        description="Most connections one collector worker serves at once; a request on a connection over the "
        "cap gets uvicorn's 503 `Service Unavailable` (no `Discarded=` reason), which clients retry.",
    )
    throttle_rules: Path | None = Field(
        default=None,
        description="YAML file of throttle rules (kept in version control). Empty accepts everything.",
    )
    throttle_defer: Literal["store_and_queue", "store_only"] = Field(
        default="store_and_queue",
        description="What happens to a crash a throttle rule defers (`result: defer`, id digit 1): "
        "`store_and_queue` stores it and queues it for processing like an accepted crash (Antenna's behaviour); "
        "`store_only` stores it without queueing it and leaves no pending-publish marker, so neither the "
        "collector nor the sweep queues it and it is processed only when asked (`crashcart reprocess`).",
    )
    submitter_token: SecretStr = Field(
        default=SecretStr(""),
        description="Bearer token that lets a trusted resubmitter choose the crash id through a `uuid` "
        "annotation. Empty: a `uuid` annotation gets 401.",
    )
    sweep_interval: float = Field(
        default=60.0,
        ge=0,
        description="Seconds between sweeps that publish stored-but-unqueued crashes (0 disables the periodic sweep).",
    )
    sweep_min_age: float = Field(
        default=30.0,
        ge=0,
        description="A crash is swept only when its pending marker is this old, so "
        "uploads still in flight are left to their own request.",
    )
    shutdown_grace: float = Field(
        default=30.0, ge=0, description="Seconds SIGTERM waits for in-flight uploads to finish."
    )

    # --- observability -------------------------------------------------------------------------------
    log_format: Literal["json", "text"] = Field(default="json", description="`json` lines or `text`.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", description="Lowest level logged.")
    metrics_dir: Path | None = Field(
        default=None,
        description="Directory for multi-process metric files. Empty means `<data_dir>/metrics`.",
    )
    commit: str = Field(default="", description="Source commit reported by `/__version__` (set in images).")
    broken_endpoint: bool = Field(
        default=False,
        description="Serve the collector's `GET /__broken__`, which raises on purpose so error reporting can be "
        "tested end to end (each call logs a full traceback). Off, the path is a 404 like any unknown one.",
    )

    # --- symbols -------------------------------------------------------------------------------------
    symbols_urls: str = Field(
        default="",
        description="Symbol sources tried in order, comma- or space-separated: `file:///dir` (Breakpad layout "
        "`<debug_file>/<DEBUG_ID>/<name>.sym`), `https://server/` (same layout, Tecken style), `s3://bucket/prefix` "
        "(uses the `CRASHCART_S3_*` settings, or the `CRASHCART_SYMBOLS_S3_*` ones that are set). Empty: no symbols.",
    )
    symbols_cache_dir: Path | None = Field(
        default=None,
        description="Directory for converted symbol caches, shared safely by every process on the node. "
        "Empty means `<data_dir>/symbols`.",
    )
    symbols_cache_max_size: int = Field(
        json_schema_extra=_limit("symbols"),
        default=4 * 1024 * MiB,
        ge=0,
        description="Size cap of the symbol cache directory in bytes; least recently used entries are evicted.",
    )
    symbols_missing_ttl: float = Field(
        default=3600.0, ge=0, description="Seconds a symbol file no source had is remembered as missing."
    )
    symbols_max_negative_entries: int = Field(
        json_schema_extra=_limit("symbols"),
        default=50_000,
        ge=1,
        description="Most symbol files remembered as missing or malformed in the symbol cache (one small marker "
        "file each); eviction removes the oldest beyond it, so modules named by hostile dumps cannot grow the cache "
        "without bound.",
    )
    symbols_http_timeout: float = Field(
        json_schema_extra=_limit("symbols"),
        default=30.0,
        gt=0,
        description="Seconds for each HTTP symbol-server request (connect: at most 10).",
    )
    symbols_s3_endpoint_url: str = Field(
        default="", description="S3 endpoint of `s3://` symbol sources; empty uses `CRASHCART_S3_ENDPOINT_URL`."
    )
    symbols_s3_region: str = Field(
        default="", description="S3 region of `s3://` symbol sources; empty uses `CRASHCART_S3_REGION`."
    )
    symbols_s3_access_key_id: str = Field(
        default="",
        description="S3 access key id for `s3://` symbol sources (with `CRASHCART_SYMBOLS_S3_SECRET_ACCESS_KEY`); "
        "empty uses crash storage's `CRASHCART_S3_ACCESS_KEY_ID`/`CRASHCART_S3_SECRET_ACCESS_KEY` pair.",
    )
    symbols_s3_secret_access_key: SecretStr = Field(
        default=SecretStr(""),
        description="S3 secret access key for `s3://` symbol sources; used only with "
        "`CRASHCART_SYMBOLS_S3_ACCESS_KEY_ID`.",
    )

    # --- web application and API ------------------------------------------------------------------
    secret_key: SecretStr = Field(
        default=SecretStr(""),
        description="Django's secret key for the web application (signs sessions and CSRF tokens). Required "
        "(`crashcart web` refuses to start without it) when the database is not the embedded SQLite one, so "
        "every web node of a deployment shares it; with SQLite, empty means a key generated once and kept in "
        "`<data_dir>/secret_key` (mode 600). API tokens do not depend on it (they are stored as hashes).",
    )
    allowed_hosts: str = Field(
        default="localhost,127.0.0.1,[::1]",
        description="Host names the web application answers, comma-separated (Django's `ALLOWED_HOSTS`; "
        "`.example.com` matches subdomains, `*` anything). Another `Host:` gets 400. The status endpoints "
        "answer any host, so load-balancer checks by IP work.",
    )
    web_workers: int = Field(default=2, ge=1, description="Worker processes of `crashcart web`.")
    cache_url: str = Field(
        default="",
        description="Shared cache of the web application (API rate-limit counters): empty is a cache in each "
        "worker's memory, so each worker counts on its own; `redis://host:6379/0` shares the counts between "
        "workers and nodes.",
    )
    api_rate_limit_anonymous: int = Field(
        json_schema_extra=_limit("web"),
        default=100,
        ge=1,
        description="API requests per minute from one IP address without a token (Socorro: 100); "
        "more get 429 with `Retry-After`.",
    )
    api_rate_limit_token: int = Field(
        json_schema_extra=_limit("web"),
        default=1000,
        ge=1,
        description="API requests per minute with one API token (Socorro: 1,000); more get 429 with `Retry-After`.",
    )
    web_max_request_size: int = Field(
        json_schema_extra=_limit("web"),
        default=4 * MiB,
        ge=64 * KiB,
        description="Largest request body the web application reads, in bytes (an API form, a login); a larger "
        "one gets 413 before it is stored anywhere. The collector's submissions have their own limits.",
    )
    site_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The address people reach the web application at (scheme, host, port, no path): the base of "
        "links the CLI prints, such as `crashcart crash open`'s.",
    )
    source_links: dict[str, str] = Field(
        default={},
        description="Links from frames to source for paths symbol files do not index: a JSON object mapping a "
        'path prefix to an https URL template with `{path}` and `{line}`, e.g. `{"/builds/app/": '
        '"https://github.com/org/app/blob/main/{path}#L{line}"}`. Indexed paths (`hg:…`, `git:github.com/…`) '
        "link to their revision without it.",
    )
    featured_versions_file: Path | None = Field(
        default=None,
        description='A JSON file naming each product\'s featured versions (`{"Firefox": ["121.0", "122.0b3"]}`), '
        "drawn on its product page. Without it (or for a product it omits) the three busiest versions of the "
        "last week are featured.",
    )
    web_require_login: bool = Field(
        default=False,
        description="A private deployment: every page needs a signed-in user and every API call a token. Off "
        "(Crash Stats' way), anonymous readers see the public fields of every crash.",
    )
    web_login_attempts: int = Field(
        json_schema_extra=_limit("web"),
        default=10,
        ge=1,
        description="Sign-in attempts per minute from one IP address; more get 429 until the minute is over.",
    )
    web_session_seconds: int = Field(
        default=14 * 86_400,
        ge=300,
        le=365 * 86_400,
        description="How long a web sign-in lasts, in seconds (the session cookie's age; default two weeks). "
        "API tokens have their own expiry.",
    )
    web_secure_cookies: bool = Field(
        default=False,
        description="Send the session and CSRF cookies over HTTPS only. Turn on behind HTTPS (any deployment "
        "reached by others); off lets `crashcart run` on http://127.0.0.1 sign people in.",
    )
    token_days: int = Field(
        default=90, ge=1, le=3650, description="Days an API token lasts when `crashcart token create` gets no `--days`."
    )

    # --- Super Search ------------------------------------------------------------------------------
    search_timeout: float = Field(
        json_schema_extra=_limit("search"),
        default=4.0,
        gt=0,
        le=300,
        description="Seconds one Super Search may run (all its statements together): PostgreSQL's "
        "`statement_timeout`, SQLite's progress handler and the regular-expression timeout; past it the caller "
        'gets 400 "Search query timed out…". Below crashstats-tools\' 5-second read timeout, so a client gets the '
        "400 instead of timing out and retrying the same search ten times.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only ``load_settings`` reads the environment, once; the model itself takes explicit values, so
        # a test's mapping is never mixed with whatever the process environment holds.
        return (init_settings,)

    @field_validator("submit_path")
    @classmethod
    def _path_starts_with_slash(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with '/'")
        return value

    @field_validator("cache_url")
    @classmethod
    def _valid_cache_url(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in ("redis", "rediss"):
            raise ValueError("use redis://host:6379/0 (or rediss://), or leave empty for each worker's memory")
        return value

    @field_validator("storage_url")
    @classmethod
    def _valid_storage_url(cls, value: str) -> str:
        if value:
            check_storage_url(value)
        return value

    @field_validator("source_links", mode="before")
    @classmethod
    def _source_links_from_json(cls, value: Any) -> Any:
        """The environment gives text: a JSON object, checked to map prefixes to https templates."""
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else {}
            except ValueError as exc:
                raise ValueError(f"not JSON: {exc}") from None
        if isinstance(value, dict):
            for prefix, template in value.items():
                if not isinstance(template, str) or not template.startswith("https://") or not prefix:
                    raise ValueError(f"{prefix!r}: a non-empty path prefix mapped to an https:// URL template")
        return value

    @field_validator("database_url")
    @classmethod
    def _valid_database_url(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value()
        if url:
            parts = urlsplit(url)
            if parts.scheme not in ("sqlite", "postgresql", "postgres"):
                raise ValueError(f"unsupported scheme {parts.scheme!r}: use sqlite:///path or postgresql://host/db")
            if parts.scheme == "sqlite" and not parts.path.startswith("/"):
                raise ValueError("sqlite:// needs an absolute path, e.g. sqlite:///var/lib/crashcart/index.sqlite3")
        return value

    @field_validator("queue_url")
    @classmethod
    def _valid_queue_url(cls, value: str) -> str:
        if value:
            scheme = urlsplit(value).scheme
            if scheme not in ("sqlite", "amqp", "amqps"):
                raise ValueError(f"unsupported scheme {scheme!r}: use sqlite:///path or amqp://host")
        return value

    @model_validator(mode="after")
    def _fill_embedded_defaults(self) -> Settings:
        data_dir = self.data_dir.resolve()
        # frozen model: defaults derived from data_dir are filled once, here.
        object.__setattr__(self, "data_dir", data_dir)
        if not self.storage_url:
            object.__setattr__(self, "storage_url", (data_dir / "storage").as_uri())
        if not self.queue_url:
            object.__setattr__(self, "queue_url", f"sqlite:///{data_dir / 'queue.sqlite3'}")
        if not self.database_url.get_secret_value():
            object.__setattr__(self, "database_url", SecretStr(f"sqlite:///{data_dir / 'crashcart.sqlite3'}"))
        if self.metrics_dir is None:
            object.__setattr__(self, "metrics_dir", data_dir / "metrics")
        if self.symbols_cache_dir is None:
            object.__setattr__(self, "symbols_cache_dir", data_dir / "symbols")
        if self.max_decompressed_size < self.max_request_size:
            raise ValueError("max_decompressed_size must be at least max_request_size")
        return self

    def secret_values(self) -> list[str]:
        """Every secret these settings hold, for ``crashcart.redact``: each ``SecretStr``'s value and the password
        of every URL in any setting (a list of URLs included). Read from the fields' types and values, so a new
        secret or URL setting is covered without being listed here."""
        return _secrets_in(getattr(self, name) for name in Settings.model_fields)


_BUCKET_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
"""Spelled out: ``str.islower`` and ``str.isdigit`` also accept ``é`` and ``²``."""


def check_storage_url(url: str) -> None:
    """Refuse storage URLs we cannot serve, including bucket names with periods.

    A period in a bucket name breaks virtual-host TLS on S3 (the wildcard certificate does not match) and was
    one of Socorro's production lessons, so it is refused at start rather than failing at the first crash.
    """
    parts = urlsplit(url)
    if "@" in parts.netloc:
        # Never echoed (the userinfo may hold a password): S3 keys have settings of their own.
        raise ValueError(
            "a storage URL carries no credentials: use CRASHCART_S3_ACCESS_KEY_ID and CRASHCART_S3_SECRET_ACCESS_KEY"
        )
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise ValueError("file:// storage needs an absolute path, e.g. file:///var/lib/crashcart")
    elif parts.scheme == "s3":
        bucket = parts.netloc
        if not bucket:
            raise ValueError("s3:// storage needs a bucket: s3://bucket[/prefix]")
        if "." in bucket:
            raise ValueError(f"bucket name {bucket!r} contains a period; such names are refused")
        if not (3 <= len(bucket) <= 63) or not all(c in _BUCKET_CHARACTERS for c in bucket):
            raise ValueError(f"bucket name {bucket!r} is not a valid S3 bucket name")
    else:
        raise ValueError(f"unsupported scheme {parts.scheme!r}: use file:///path or s3://bucket")


def _secrets_in(values: Iterable[Any]) -> list[str]:
    found: list[str] = []
    for value in values:
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(value, SecretStr):
            found.append(text)
        if isinstance(text, str):
            found.extend(passwords_in(text))
    return [secret for secret in found if secret]


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read settings from ``environ`` (default: the process environment) plus keyword overrides.

    Raises ``SettingsError`` naming each bad variable, so a node fails at start with a readable message.
    """
    source = dict(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    known = {name.upper(): name for name in Settings.model_fields}
    unknown = []
    for key, value in source.items():
        if not key.startswith(ENV_PREFIX):
            continue
        name = known.get(key[len(ENV_PREFIX) :])
        if name is None:
            unknown.append(key)
        else:
            values[name] = value
    if unknown:
        raise SettingsError("unknown setting(s): " + ", ".join(sorted(unknown)))
    values.update(overrides)
    try:
        # Passing values as init kwargs (never letting pydantic-settings read os.environ itself) keeps this
        # function the single reader of the environment.
        return Settings.model_validate(values)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = error["loc"][0] if error["loc"] else ""
            name = f"{ENV_PREFIX}{str(loc).upper()}" if loc else "settings"
            problems.append(f"{name}: {error['msg']}")
        # A refused value is never echoed with its secrets: the message is redacted with every password in
        # the values given and every value given for a secret setting.
        secrets = _secrets_in(values.values())
        secrets += [
            str(values[name])
            for name, field in Settings.model_fields.items()
            if _is_secret(field.annotation) and name in values
        ]
        raise SettingsError(redact("invalid setting(s): " + "; ".join(problems), secrets)) from None


def describe_settings(settings: Settings) -> list[dict[str, str]]:
    """Each setting with its variable name, type, default, description and current value (secrets masked)."""
    rows = []
    for name, field in Settings.model_fields.items():
        current = getattr(settings, name)
        default = field.default
        rows.append(
            {
                "name": f"{ENV_PREFIX}{name.upper()}",
                "type": _type_name(field.annotation),
                "default": _render(default),
                "description": field.description or "",
                "value": _render(current),
            }
        )
    return rows


def _render(value: Any) -> str:
    if isinstance(value, SecretStr):
        return "**********" if value.get_secret_value() else ""
    if value is None:
        return ""
    return redact(str(value))


def _is_secret(annotation: Any) -> bool:
    return annotation is SecretStr


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) or str(annotation)
    return text.replace("typing.", "").replace("pathlib.", "").replace("pydantic.types.", "")
