"""What an API model is, and what it may use: the contract between the dispatcher and the endpoints.

An endpoint (``crashcart.web.api.endpoints``) is a subclass of ``APIModel`` registered with ``@register``.
It declares its name, methods, parameters and permission as class attributes, so the dispatcher validates
requests, checks permissions, sets caching headers, lists it under ``/api/`` and renders it into
``/api/openapi.json`` from that one declaration, and the endpoint's ``handle`` sees only valid input.

This module imports no Django, so endpoints and their tests can be read and type-checked without a web
server; backends are opened lazily, once per process, when a model first asks for them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from crashcart.queue.interfaces import CrashQueue
    from crashcart.search.fields import Catalogue
    from crashcart.settings import Settings
    from crashcart.storage.interfaces import CrashReader

__all__ = [
    "PERMISSION_LABELS",
    "REGISTRY",
    "APIContext",
    "APIError",
    "APIModel",
    "Binary",
    "Caller",
    "Param",
    "register",
]

ParamKind = Literal["str", "int", "bool", "list"]

#: Socorro's permission labels, used verbatim in 403 bodies (crashstats-tools and users know them).
PERMISSION_LABELS: dict[str, str] = {
    "view_pii": "View Personal Identifiable Information",
    "view_rawdump": "View Raw Dumps",
    "reprocess_crashes": "Reprocess Crashes",
    "upload_symbols": "Upload Symbols",
}


@dataclass(frozen=True)
class Param:
    """One request parameter. ``list`` parameters may repeat (``?product=A&product=B``)."""

    name: str
    kind: ParamKind
    required: bool = False
    help: str = ""
    #: A family: every key that starts with ``name`` (``_aggs.`` takes ``_aggs.product.version``, any depth),
    #: each its own entry in the parsed values. Listed in OpenAPI's description, since OpenAPI cannot name
    #: parameters by prefix; it spares declaring every nesting of every field as a parameter of its own.
    prefix: bool = False


@dataclass(frozen=True)
class Caller:
    """Who is asking: the effective permissions of the token's user (anonymous callers have none)."""

    permissions: frozenset[str]
    user_id: int | None  # None = anonymous
    token_id: int | None

    def has(self, perm: str) -> bool:
        """Whether the caller holds ``perm`` (a codename such as ``"view_pii"``)."""
        return perm in self.permissions


ANONYMOUS = Caller(permissions=frozenset(), user_id=None, token_id=None)


@dataclass(frozen=True)
class Binary:
    """A binary answer (``RawCrash`` with ``format=raw``): sent as an attachment, never as JSON."""

    body: bytes
    filename: str
    content_type: str = "application/octet-stream"


class APIError(Exception):
    """An answer other than 200, with its JSON body: ``APIError(404, {"error": "Not found: …"})``."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


class _Backends:
    """Storage and queue shared by every request of a process, opened on first use.

    Opening is cheap but not free (an S3 client, an AMQP connection), and a web worker serves many
    requests, so each backend is built once and kept; the lock makes the first use safe from threads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._storage: dict[str, CrashReader] = {}
        self._queues: dict[str, CrashQueue] = {}
        #: Queue backends whose queues this process declared. The objects themselves are kept (a process
        #: opens one per queue URL), so an identity test cannot match a new backend at a freed one's address.
        self._declared: list[CrashQueue] = []

    def storage(self, settings: Settings) -> CrashReader:
        with self._lock:
            reader = self._storage.get(settings.storage_url)
            if reader is None:
                from crashcart.storage import Role, open_storage  # noqa: PLC0415  (only when a model reads)

                reader = open_storage(settings, Role.WEBAPP)
                self._storage[settings.storage_url] = reader
            return reader

    def queue(self, settings: Settings) -> CrashQueue:
        with self._lock:
            queue = self._queues.get(settings.queue_url)
            if queue is None:
                from crashcart.queue import open_queue  # noqa: PLC0415  (only when a model publishes)

                queue = open_queue(settings)
                self._queues[settings.queue_url] = queue
            return queue

    def declared_queue(self, settings: Settings) -> CrashQueue:
        """``queue(settings)`` with its queues declared, once per process and queue (for publishing).

        A web node may run before any processor has declared the queues (``crashcart web`` alone); declaring
        is idempotent, and once per process is enough.
        """
        queue = self.queue(settings)
        with self._lock:
            if not any(known is queue for known in self._declared):
                queue.declare()
                self._declared.append(queue)
        return queue

    def close(self) -> None:
        """Close every backend opened so far (at server shutdown, and between tests)."""
        with self._lock:
            for reader in self._storage.values():
                reader.close()
            for queue in self._queues.values():
                queue.close()
            self._storage.clear()
            self._queues.clear()
            self._declared.clear()


BACKENDS = _Backends()


@dataclass
class APIContext:
    """What a model may use while answering one request."""

    caller: Caller
    settings: Settings
    now: datetime
    _backends: _Backends = field(default=BACKENDS, repr=False)

    def storage(self) -> CrashReader:
        """Crash storage opened with ``Role.WEBAPP`` (read only)."""
        return self._backends.storage(self.settings)

    def queue(self) -> CrashQueue:
        """The processing queue, its queues declared (``Reprocessing``, priority processing)."""
        return self._backends.declared_queue(self.settings)

    def catalogue(self) -> Catalogue:
        """The Super Search field catalogue (built once per process by ``crashcart.search.fields``)."""
        from crashcart.search.fields import catalogue  # noqa: PLC0415  (search loads the schemas)

        return catalogue()


class APIModel:
    """One ``/api/<name>/`` endpoint. Subclass, set the class attributes, implement ``handle``."""

    name: ClassVar[str]  # "SuperSearch"
    methods: ClassVar[tuple[str, ...]] = ("GET",)
    params: ClassVar[tuple[Param, ...]] = ()  # validated by the dispatcher → 400 {"errors": {p: [...]}}
    #: Whole-endpoint permission → 403 {"error": "Use of this endpoint requires the '<label>' permission"}.
    permission: ClassVar[str | None] = None
    cache_seconds: ClassVar[int] = 300  # 0: no Cache-Control header
    #: Needed only for a ``Binary`` answer (the dispatcher refuses it with 403 otherwise).
    binary_permission: ClassVar[str | None] = None
    description: ClassVar[str] = ""  # for /api/ and OpenAPI

    def handle(self, ctx: APIContext, params: dict[str, Any]) -> Any | Binary:
        """Answer one valid request: a JSON-able value or ``Binary``; raise ``APIError`` for anything else.

        ``params`` holds every declared parameter: ``str``/``int``/``bool`` as that type (``None`` when
        absent), ``list`` as a list of strings (empty when absent).
        """
        raise NotImplementedError


#: Every registered model by name; filled by ``@register`` when ``crashcart.web.api.endpoints`` is imported.
REGISTRY: dict[str, type[APIModel]] = {}


def register(model: type[APIModel]) -> type[APIModel]:
    """Class decorator: make ``model`` answer at ``/api/<model.name>/``. A name registered twice is an error."""
    name = model.name
    existing = REGISTRY.get(name)
    if existing is not None and existing is not model:
        raise ValueError(f"API model {name!r} is registered twice ({existing.__qualname__}, {model.__qualname__})")
    if not set(model.methods) <= {"GET", "POST", "PUT", "DELETE"}:
        raise ValueError(f"API model {name!r}: unsupported methods {model.methods}")
    if model.permission is not None and model.permission not in PERMISSION_LABELS:
        raise ValueError(f"API model {name!r}: unknown permission {model.permission!r}")
    if model.binary_permission is not None and model.binary_permission not in PERMISSION_LABELS:
        raise ValueError(f"API model {name!r}: unknown binary permission {model.binary_permission!r}")
    REGISTRY[name] = model
    return model
