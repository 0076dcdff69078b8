"""Opening a role's storage and queue, and checking them once at start.

Start-up steps are idempotent (a storage probe, declaring the queues), so every process runs them and a
deploy needs no manual step. A misconfiguration (a bad URL, a bucket name with a period) raises from
``open_storage``/``open_queue`` and stops the node. A backend that is merely *unreachable* does not: the role
comes up, its heartbeat reports the outage, and it is ready the moment the backend returns (the collector keeps
answering: 503 while storage is down, the sweep queues what waited while the queue was).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from crashcart.errors import CrashcartError
from crashcart.queue import open_queue
from crashcart.queue.interfaces import CrashQueue
from crashcart.service.health import Check
from crashcart.settings import Settings
from crashcart.storage import Role, open_storage
from crashcart.storage.interfaces import CrashStorage

LOGGER = logging.getLogger(__name__)


class _Storage(Protocol):
    """What every role's storage protocol has (``RawCrashWriter``, ``ProcessedCrashWriter``, ``CrashReader``)."""

    def check(self) -> None: ...

    def close(self) -> None: ...


StorageT_co = TypeVar("StorageT_co", bound=_Storage, covariant=True)


@dataclass(frozen=True)
class Backends(Generic[StorageT_co]):
    """A role's storage (typed as that role's protocol) and queue."""

    storage: StorageT_co
    queue: CrashQueue

    def checks(self) -> list[Check]:
        """The heartbeat's checks of these backends."""
        return [Check("storage", self.storage.check), Check("queue", self.queue.check)]

    def close(self) -> None:
        for closer in (self.storage.close, self.queue.close):
            try:
                closer()
            except CrashcartError as exc:
                LOGGER.warning("closing backend failed: %s", exc)


def verify_at_start(steps: Sequence[Check]) -> list[str]:
    """Run each start-up step once; log each that fails and return their names (the node starts anyway)."""
    failed = []
    for step in steps:
        try:
            step.run()
        except CrashcartError as exc:
            LOGGER.error("%s failed at start: %s", step.name, exc)
            failed.append(step.name)
    return failed


def open_backends(settings: Settings, role: Role) -> Backends[CrashStorage]:
    """Storage opened for ``role`` and the queue, checked and declared (see the module docstring)."""
    storage = open_storage(settings, role)
    queue = open_queue(settings)
    verify_at_start([Check("storage check", storage.check), Check("queue declaration", queue.declare)])
    return Backends(storage, queue)
