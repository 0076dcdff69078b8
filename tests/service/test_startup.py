"""Opening and checking a role's backends at start: an outage is logged and the node still starts."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from crashcart.errors import ConfigError, QueueUnavailable, StorageForbidden
from crashcart.service.health import Check
from crashcart.service.startup import Backends, open_backends, verify_at_start
from crashcart.settings import load_settings
from crashcart.storage import Role


def test_open_backends_declares_the_queue_and_checks_storage(tmp_path: Path) -> None:
    settings = load_settings({"CRASHCART_DATA_DIR": str(tmp_path)})
    backends = open_backends(settings, Role.COLLECTOR)
    try:
        assert backends.queue.depth()["standard"].ready == 0, "the queues were declared"
        assert (tmp_path / "storage" / ".health").is_dir(), "the storage probe ran"
        assert [check.name for check in backends.checks()] == ["storage", "queue"]
        for check in backends.checks():
            check.run()
        with pytest.raises(StorageForbidden):  # opened for the role asked for
            backends.storage.get_processed_crash("de1bb258-cbbf-4589-a673-34f800160918")
    finally:
        backends.close()


def test_unreachable_backends_are_logged_and_the_node_still_starts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    settings = load_settings(
        {
            "CRASHCART_DATA_DIR": str(tmp_path / "d"),
            "CRASHCART_STORAGE_URL": (blocker / "s").as_uri(),
            "CRASHCART_QUEUE_URL": "amqp://guest:guest@127.0.0.1:1/",
        }
    )
    with caplog.at_level(logging.ERROR, logger="crashcart.service.startup"):
        backends = open_backends(settings, Role.PROCESSOR)
    backends.close()
    messages = [record.getMessage() for record in caplog.records]
    assert any(m.startswith("storage check failed at start") for m in messages), messages
    assert any(m.startswith("queue declaration failed at start") for m in messages), messages


def test_a_misconfiguration_stops_the_node(tmp_path: Path) -> None:
    settings = load_settings({"CRASHCART_DATA_DIR": str(tmp_path)})
    bad = settings.model_copy(update={"storage_url": "s3://bucket.with.periods/x"})
    with pytest.raises(ConfigError):
        open_backends(bad, Role.COLLECTOR)


def test_verify_at_start_runs_every_step_and_names_the_failures() -> None:
    ran: list[str] = []

    def down() -> None:
        ran.append("queue")
        raise QueueUnavailable("broker gone")

    failed = verify_at_start([Check("queue declaration", down), Check("storage check", lambda: ran.append("s"))])
    assert failed == ["queue declaration"]
    assert ran == ["queue", "s"]


def test_a_bug_in_a_step_is_not_swallowed() -> None:
    def bug() -> None:
        raise KeyError("typo")

    with pytest.raises(KeyError):
        verify_at_start([Check("storage check", bug)])


def test_backends_close_both_even_when_one_fails(tmp_path: Path) -> None:
    closed: list[str] = []

    class Store:
        def check(self) -> None: ...

        def close(self) -> None:
            closed.append("storage")
            raise QueueUnavailable("already gone")

    class Queue:
        def close(self) -> None:
            closed.append("queue")

    Backends(Store(), Queue()).close()  # type: ignore[arg-type]
    assert closed == ["storage", "queue"]
