"""Two processor nodes that share nothing but RabbitMQ, S3 and PostgreSQL split the work, each crash once."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from crashcart.crashid import create_crash_id
from crashcart.errors import CrashNotFound
from crashcart.queue.amqp import AMQPCrashQueue
from crashcart.storage import open_storage
from crashcart.storage.interfaces import DumpFile
from tests.helpers.s3server import ACCESS_KEY, REGION, SECRET_KEY, S3Server
from tests.processor.test_app import DUMP, ProcessorProcess, _processed_events

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"

pytestmark = [pytest.mark.slow, pytest.mark.rabbitmq, pytest.mark.s3]


def _wait_worker_ready(node: ProcessorProcess, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while "processor worker 0 ready" not in (node.data_dir / "processor.log").read_text():
        assert node.process.poll() is None, (node.data_dir / "processor.log").read_text()[-3000:]
        assert time.monotonic() < deadline, "the node's worker never became ready"
        time.sleep(0.1)


def test_two_nodes_on_shared_backends_process_each_crash_once(
    tmp_path: Path, s3_server: S3Server, s3_bucket: str, pg_database: str
) -> None:
    prefix = f"crashcart.test.{uuid.uuid4().hex[:12]}."
    env = {
        "CRASHCART_STORAGE_URL": f"s3://{s3_bucket}/crashes",
        "CRASHCART_S3_ENDPOINT_URL": s3_server.endpoint_url,
        "CRASHCART_S3_REGION": REGION,
        "CRASHCART_S3_ACCESS_KEY_ID": ACCESS_KEY,
        "CRASHCART_S3_SECRET_ACCESS_KEY": SECRET_KEY,
        "CRASHCART_QUEUE_URL": AMQP_URL,
        "CRASHCART_QUEUE_PREFIX": prefix,
        "CRASHCART_DATABASE_URL": pg_database,
    }
    storage = open_storage(s3_server.settings(f"s3://{s3_bucket}/crashes", tmp_path), None)
    queue = AMQPCrashQueue(AMQP_URL, 3, 30, 0.2, prefix=prefix)
    nodes: list[ProcessorProcess] = []
    try:
        # Each node has its own (disposable) data directory: the only shared state is the three services.
        nodes = [ProcessorProcess(tmp_path / f"node{i}", workers=1, **env) for i in range(2)]
        # A node's status port answers before its spawned worker has imported, migrated and connected: publish
        # only once both workers consume, or the first node up can take every crash before the other starts.
        for node in nodes:
            _wait_worker_ready(node)
        data = DUMP.read_bytes()
        ids = []
        for _ in range(24):
            crash_id = create_crash_id(dt.datetime.now(dt.UTC))
            dump = DumpFile("upload_file_minidump", len(data), hashlib.sha256(data).hexdigest(), data=data)
            storage.save_raw_crash(crash_id, {"ProductName": "Test", "Version": "2.0"}, [dump])
            ids.append(crash_id)
        queue.publish("standard", ids)
        deadline = time.monotonic() + 120
        pending = set(ids)
        while pending:
            assert time.monotonic() < deadline, f"{len(pending)} crashes never processed"
            for crash_id in list(pending):
                try:
                    storage.get_processed_crash(crash_id)
                except CrashNotFound:
                    continue
                pending.discard(crash_id)
            time.sleep(0.2)
        for node in nodes:
            assert node.stop() == 0
        by_node = [[e["crash_id"] for e in _processed_events(node.data_dir / "processor.log")] for node in nodes]
        assert sorted(by_node[0] + by_node[1]) == sorted(ids)  # every crash exactly once, across the nodes
        assert all(by_node), "both nodes took work from the shared queue"
        with psycopg.connect(pg_database) as conn:
            (rows,) = conn.execute("SELECT count(*) FROM search_crash WHERE product = 'Test'").fetchone()  # type: ignore[misc]
        assert rows == len(ids)
    finally:
        for node in nodes:
            if node.process.poll() is None:
                node.stop()
        queue.delete_queues()
        queue.close()
        storage.close()
