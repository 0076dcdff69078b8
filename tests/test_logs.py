import io
import json
import logging

from crashcart.logs import crash_context, setup_logging


def test_json_lines_carry_crash_id_and_fields() -> None:
    stream = io.StringIO()
    setup_logging("json", "INFO", stream)
    log = logging.getLogger("crashcart.test")
    log.info("outside")
    with crash_context("de1bb258-cbbf-4589-a673-34f800160918"):
        log.info("saved %s", "ok", extra={"bytes": 12})
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["outside", "saved ok"]
    assert "crash_id" not in lines[0]
    assert lines[1]["crash_id"] == "de1bb258-cbbf-4589-a673-34f800160918"
    assert lines[1]["bytes"] == 12
    for line in lines:
        assert {"time", "level", "logger", "event", "host", "pid"} <= set(line)


def test_text_format_prefixes_crash_id() -> None:
    stream = io.StringIO()
    setup_logging("text", "INFO", stream)
    with crash_context("de1bb258-cbbf-4589-a673-34f800160918"):
        logging.getLogger("crashcart.test").warning("hello")
    assert "WARNING crashcart.test de1bb258-cbbf-4589-a673-34f800160918: hello" in stream.getvalue()
