"""Rules over real walks: the processor's default ruleset run on whole dumps (corpus or synthetic)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crashcart.crashid import create_crash_id
from crashcart.processor.app import build_pipelines, rule_config
from crashcart.processor.context import CrashContext
from crashcart.processor.walker import InProcessWalker, walker_config
from crashcart.settings import load_settings
from crashcart.stackwalk.stackwalker import Stackwalker
from tests.processor.rules.processed import ProcessDump


@pytest.fixture(scope="module")
def process_dump(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessDump]:
    """Runs the ``default`` ruleset, the production walker included (no symbols), on one dump file."""
    tmp = tmp_path_factory.mktemp("processed")
    settings = load_settings({}, data_dir=tmp, symbols_cache_dir=tmp / "cache", symbols_urls=(tmp / "none").as_uri())
    walker = InProcessWalker(Stackwalker(walker_config(settings)))
    pipeline = build_pipelines(rule_config(settings, walker))["default"]

    def run(dump: Path) -> dict[str, Any]:
        now = dt.datetime.now(dt.UTC)
        raw = {"ProductName": "Test", "Version": "1.0", "submitted_timestamp": now.isoformat()}
        ctx = CrashContext(create_crash_id(now), raw, dumps={"upload_file_minidump": dump})
        pipeline.run(ctx)
        assert ctx.processed["json_dump"]["status"] == "OK"
        return ctx.processed

    yield run
    walker.close()
