"""Coverage-guided fuzzing of the collector's HTTP layer with atheris: request heads, framing and chunking.

    pip install atheris uvicorn httptools orjson
    PYTHONPATH=src:. python fuzz/fuzz_http.py -max_total_time=600 [corpus_dir]

Each input is raw bytes on one connection to the real collector: ``CollectorHttpProtocol`` (uvicorn's httptools
protocol with our head limits) in front of the real ``CollectorApp`` on filesystem storage and the SQLite queue,
in this process, with an in-memory transport. The first six input bytes choose the read size, the head limits and
whether the client half-closes; the rest is what the client sends (seeded with real uploads: see
``seed_http.py``). A throttle rule rejects every parsed report, so nothing is stored and the run stays fast.

A failure is: an exception out of the protocol, anything logged at ERROR (uvicorn logs an exception in the app
that way), a ``500`` status, bytes after the last response once the server closed, a response that is not
HTTP, a request task still running once the client has disconnected, an input that takes more than 2 s, or a
spool file left behind.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import atheris  # type: ignore[import-not-found,import-untyped,unused-ignore]

with atheris.instrument_imports():
    from crashcart.collector.app import build_collector
    from crashcart.collector.connection import CollectorHttpProtocol, HeadLimits
    from crashcart.settings import load_settings

from uvicorn.config import Config
from uvicorn.server import ServerState

DATA = Path(tempfile.mkdtemp(prefix="fuzz-http-"))
RULES = DATA / "rules.yaml"
RULES.write_text("schema_version: 1\ndefault: accept\nrules:\n  - name: reject_all\n    result: reject\n")
SETTINGS = load_settings(environ={}, data_dir=DATA, throttle_rules=RULES)
SPOOL: Path | None = DATA / "spool"  # where build_collector puts the spool: data_dir / "spool"
STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3}) ")
LOOP = asyncio.new_event_loop()
#: Parameter bytes before the request: read size (2), head size limit (2), head timeout (1), half-close (1).
HEADER = 6


class _Errors(logging.Handler):
    """Turns every ERROR record (an exception inside the app, a protocol error uvicorn logged) into a failure."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


ERRORS = _Errors()
logging.getLogger().addHandler(ERRORS)
logging.getLogger().setLevel(logging.WARNING)


class _Transport(asyncio.Transport):
    """What the client receives; the server's close and half-close are recorded, not acted on."""

    def __init__(self) -> None:
        super().__init__()
        self.received = bytearray()
        self.closed = False
        self.eof = False
        self.after_close = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self.closed or self.eof:
            self.after_close += len(data)
        self.received += data

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 40000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0


def _app_state() -> dict[str, Any]:
    app = build_collector(SETTINGS)
    config = Config(app=app, http="httptools", lifespan="off", log_config=None, access_log=False)
    config.load()
    return {"config": config}


STATE = _app_state()


async def _settle(deadline: float, transport: _Transport | None = None) -> None:
    """Run the loop until every task the connection started is done, ``deadline`` passes or (when given)
    ``transport`` is closed by the server; then a few more turns for what those tasks scheduled."""
    current = asyncio.current_task()
    while time.monotonic() < deadline and not (transport is not None and transport.closed):
        busy = [task for task in asyncio.all_tasks() if task is not current and not task.done()]
        if not busy:
            break
        await asyncio.wait(busy, timeout=0.01)
    for _ in range(3):
        await asyncio.sleep(0)


def test_one_input(data: bytes) -> None:
    if len(data) < HEADER:
        return
    # Six parameter bytes first (little-endian), then what the client sends: seeds stay readable requests.
    read_size = 1 + int.from_bytes(data[0:2], "little") % 4096
    limits = HeadLimits(max_size=1024 + int.from_bytes(data[2:4], "little"), timeout=0.05 * (1 + data[4] % 10))
    half_close = bool(data[5] & 1)
    body = data[HEADER:]

    transport = _Transport()
    protocol = functools.partial(CollectorHttpProtocol, limits=limits)(STATE["config"], ServerState(), {}, _loop=LOOP)
    started = time.monotonic()
    ERRORS.records.clear()
    protocol.connection_made(transport)
    for i in range(0, len(body), read_size):
        if transport.closed:
            break
        protocol.data_received(body[i : i + read_size])
    if half_close and not transport.closed:
        protocol.eof_received()
    LOOP.run_until_complete(_settle(started + 0.25, transport))  # a client that stalls longer is cut off
    # The client goes away: the app must see the disconnect (a body cut short, a request still being answered)
    # and finish by itself, as it does on a real socket.
    protocol.connection_lost(None)
    transport.closed = True
    LOOP.run_until_complete(_settle(time.monotonic() + 0.5))
    stuck = [task for task in asyncio.all_tasks(LOOP) if not task.done()]
    if stuck:
        for task in stuck:
            task.cancel()
        LOOP.run_until_complete(asyncio.gather(*stuck, return_exceptions=True))
        raise AssertionError(f"{len(stuck)} task(s) still running after the client disconnected")

    if ERRORS.records:
        raise AssertionError(f"logged at ERROR: {[r.getMessage() for r in ERRORS.records]}")
    statuses = STATUS_LINE.findall(bytes(transport.received))
    if b"500" in statuses:
        raise AssertionError(f"a 500 answer: {bytes(transport.received[:300])!r}")
    if transport.received and not transport.received.startswith(b"HTTP/1."):
        raise AssertionError(f"not an HTTP response: {bytes(transport.received[:100])!r}")
    if time.monotonic() - started > 2.0:
        raise AssertionError(f"input took {time.monotonic() - started:.1f} s")
    if SPOOL is not None and SPOOL.is_dir() and any(SPOOL.iterdir()):
        raise AssertionError(f"spool files left behind: {list(SPOOL.iterdir())}")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
