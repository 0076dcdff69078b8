"""The supervisor with real worker processes: budget kills, restarts after death, graceful SIGTERM."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from crashcart.processor.supervisor import Supervisor
from tests.processor.supervised import sleepy_worker


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # Spawned children inherit the environment at start; this is how they find their directory.
    monkeypatch.setenv("SUPERVISED_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def running() -> Iterator[Callable[[Supervisor], threading.Thread]]:
    started: list[tuple[Supervisor, threading.Thread]] = []

    def start(supervisor: Supervisor) -> threading.Thread:
        thread = threading.Thread(target=supervisor.run, daemon=True)
        thread.start()
        started.append((supervisor, thread))
        return thread

    yield start
    for supervisor, thread in started:
        supervisor.stop()
        thread.join(30)


def _wait(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _starts(workdir: Path, slot: int) -> list[str]:
    path = workdir / f"starts-{slot}"
    return path.read_text().split() if path.exists() else []


def test_worker_over_budget_is_killed_and_replaced(
    workdir: Path, running: Callable[[Supervisor], threading.Thread]
) -> None:
    killed: list[float] = []
    supervisor = Supervisor(sleepy_worker, 1, budget=0.5, grace=5, on_kill=lambda slot, secs: killed.append(secs))
    running(supervisor)
    _wait(lambda: len(_starts(workdir, 0)) == 1)
    (workdir / "hang").touch()
    _wait(lambda: supervisor.kills >= 1)
    (workdir / "hang").unlink()
    _wait(lambda: len(_starts(workdir, 0)) >= 2)
    assert killed and killed[0] > 0.5
    first = int(_starts(workdir, 0)[0])
    with pytest.raises(ProcessLookupError):
        os.kill(first, 0)  # the stuck process is gone, not orphaned


def test_worker_that_does_not_release_its_crash_is_killed_after_the_grace(
    workdir: Path, running: Callable[[Supervisor], threading.Thread]
) -> None:
    (workdir / "deaf").touch()
    supervisor = Supervisor(sleepy_worker, 1, budget=0.3, grace=5, release_grace=1.0)
    running(supervisor)
    _wait(lambda: len(_starts(workdir, 0)) == 1)
    (workdir / "hang").touch()
    _wait(lambda: supervisor.kills == 1)
    asked = time.monotonic()
    first = int(_starts(workdir, 0)[0])
    time.sleep(0.5)
    os.kill(first, 0)  # still alive inside the grace, though asked again at every poll
    (workdir / "hang").unlink()
    _wait(lambda: len(_starts(workdir, 0)) >= 2)
    assert time.monotonic() - asked >= 1.0
    with pytest.raises(ProcessLookupError):
        os.kill(first, 0)
    assert supervisor.kills == 1


def test_dead_worker_is_restarted(workdir: Path, running: Callable[[Supervisor], threading.Thread]) -> None:
    supervisor = Supervisor(sleepy_worker, 2, budget=30, grace=5)
    running(supervisor)
    _wait(lambda: len(_starts(workdir, 0)) == 1 and len(_starts(workdir, 1)) == 1)
    (workdir / "die").touch()
    _wait(lambda: supervisor.restarts >= 2)
    (workdir / "die").unlink()
    _wait(lambda: supervisor.alive() == 2)


def test_sigterm_lets_the_crash_in_hand_finish(workdir: Path) -> None:
    supervisor = Supervisor(sleepy_worker, 1, budget=30, grace=10)
    thread = threading.Thread(target=supervisor.run, daemon=True)
    thread.start()
    _wait(lambda: len(_starts(workdir, 0)) == 1)
    (workdir / "slow").touch()
    _wait(lambda: supervisor.busy_since[0] != 0.0)
    supervisor.stop()
    thread.join(30)
    assert not thread.is_alive()
    assert (workdir / "finished-0").read_text() == "yes"
    assert supervisor.alive() == 0
