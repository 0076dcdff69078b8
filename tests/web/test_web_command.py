"""``crashcart web`` itself: several workers, status endpoints, and rate limits shared through Redis."""

from __future__ import annotations

import random
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers.web import WebServer

REDIS = "redis://127.0.0.1:6379/0"


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.mark.slow
def test_web_with_two_workers_serves_status_and_shares_rate_limits_in_redis(tmp_path: Path) -> None:
    if not _redis_up():
        pytest.fail("Redis is not running on localhost:6379 (make services starts it)")
    (tmp_path / "storage").mkdir()  # the collector makes it on a real node; the web app only reads it
    env = {"CRASHCART_CACHE_URL": REDIS, "CRASHCART_API_RATE_LIMIT_ANONYMOUS": "3"}
    with WebServer(tmp_path, env, module=None, workers=2) as server:
        heartbeat = httpx.get(server.url + "/__heartbeat__", timeout=10)
        assert (heartbeat.status_code, heartbeat.json()) == (200, {"errors": []}), server.log()
        assert "crashcart_health_checks_total" in httpx.get(server.url + "/metrics", timeout=10).text
        for _ in range(2):  # a second try only if the minute turned during the first
            # A fresh address each try (uvicorn takes X-Forwarded-For from a local peer): no earlier count.
            address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
            started = time.time()
            statuses = []
            for _ in range(8):
                with httpx.Client(headers={"X-Forwarded-For": address}) as client:  # a new connection each
                    statuses.append(client.get(server.url + "/api/", params={"format": "json"}).status_code)
            if int(started // 60) == int(time.time() // 60):
                break
        assert statuses == [200, 200, 200] + [429] * 5, statuses  # one count across both workers
    pids = {line.split('"pid": ')[1].split(",")[0] for line in server.log().splitlines() if '"pid": ' in line}
    assert len(pids) >= 3, "a supervisor and two workers"
