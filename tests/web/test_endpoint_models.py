"""The API models called directly (``handle`` with a real ``APIContext``): real file storage and a real SQLite
queue under a temp dir, no web server. What only HTTP shows (status lines, headers) is in ``test_api.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crashcart.crashid import create_crash_id
from crashcart.queue import REPROCESSING, open_queue
from crashcart.settings import Settings, load_settings
from crashcart.storage import open_storage
from crashcart.storage.interfaces import DumpFile
from crashcart.web.api.base import REGISTRY, APIContext, APIError, Binary, Caller, _Backends
from crashcart.web.api.endpoints.bugs import parse_bug_ids
from crashcart.web.api.endpoints.crashes import dump_filename
from crashcart.web.api.endpoints.reprocessing import reprocessing_bodies
from crashcart.web.api.endpoints.supersearch import query_params, search_params

ANONYMOUS = Caller(frozenset(), None, None)
NO_PII = Caller(frozenset({"view_rawdump", "reprocess_crashes"}), 1, 1)
PII_ONLY = Caller(frozenset({"view_pii"}), 2, 2)
FULL = Caller(frozenset({"view_pii", "view_rawdump", "reprocess_crashes"}), 3, 3)

MAIN = b"MDMP\x93\xa7 main dump bytes"
BROWSER = b"MDMP\x93\xa7 browser dump bytes"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(environ={}, data_dir=tmp_path)


@pytest.fixture
def backends() -> Iterator[_Backends]:
    opened = _Backends()
    yield opened
    opened.close()


@pytest.fixture
def stored(settings: Settings) -> str:
    """One crash in storage: annotations with protected ones, two dumps, a processed crash."""
    crash_id = create_crash_id(dt.datetime.now(dt.UTC))
    raw = {
        "ProductName": "Firefox",
        "Version": "120.0",
        "URL": "https://secret.example/",
        "Comments": "secret comment",
        "NotInAnySchema": "secret too",
        "metadata": {"dump_checksums": {"upload_file_minidump": "a", "upload_file_minidump_browser": "b"}},
    }
    writer = open_storage(settings, None)
    try:
        writer.save_raw_crash(
            crash_id,
            raw,
            [
                DumpFile("upload_file_minidump", len(MAIN), "a", data=MAIN),
                DumpFile("upload_file_minidump_browser", len(BROWSER), "b", data=BROWSER),
            ],
        )
        writer.save_processed_crash(
            crash_id,
            {
                "uuid": crash_id,
                "product": "Firefox",
                "signature": "abort | main",
                "url": "https://secret.example/",
                "user_comments": "secret comment",
                "unknown_field": "secret",
                "json_dump": {"threads": [{"frames": [{"function": "main", "registers": {"rip": "0x1"}}]}]},
            },
        )
    finally:
        writer.close()
    return crash_id


def call(model: str, caller: Caller, settings: Settings, backends: _Backends, **params: Any) -> Any:
    declared: dict[str, Any] = {p.name: ([] if p.kind == "list" else None) for p in REGISTRY[model].params}
    context = APIContext(caller=caller, settings=settings, now=dt.datetime.now(dt.UTC), _backends=backends)
    return REGISTRY[model]().handle(context, {**declared, **params})


def error_of(model: str, caller: Caller, settings: Settings, backends: _Backends, **params: Any) -> APIError:
    with pytest.raises(APIError) as caught:
        call(model, caller, settings, backends, **params)
    return caught.value


# --- ProcessedCrash ---------------------------------------------------------------------------------------


def test_processed_crash_is_the_public_view_without_view_pii(
    settings: Settings, backends: _Backends, stored: str
) -> None:
    for caller in (ANONYMOUS, NO_PII):
        view = call("ProcessedCrash", caller, settings, backends, crash_id=stored, format="meta")
        assert view["signature"] == "abort | main" and view["uuid"] == stored
        assert {"url", "user_comments", "unknown_field"}.isdisjoint(view)
        assert "registers" not in view["json_dump"]["threads"][0]["frames"][0]
    whole = call("ProcessedCrash", PII_ONLY, settings, backends, crash_id=stored)
    assert whole["url"] == "https://secret.example/" and whole["unknown_field"] == "secret"
    assert whole["json_dump"]["threads"][0]["frames"][0]["registers"] == {"rip": "0x1"}


def test_processed_crash_errors(settings: Settings, backends: _Backends, stored: str) -> None:
    bad = error_of("ProcessedCrash", FULL, settings, backends, crash_id="not-a-crash-id")
    assert bad.status == 400 and bad.body["error"].startswith("Bad request: BadArgumentError:")
    unknown = stored[:-12] + "000000" + stored[-6:]
    missing = error_of("ProcessedCrash", FULL, settings, backends, crash_id=unknown)
    assert (missing.status, missing.body) == (404, {"error": f"Not found: CrashIDNotFound {unknown}"})
    newline = error_of("ProcessedCrash", FULL, settings, backends, crash_id=stored + "\n")
    assert newline.status == 400


# --- RawCrash ---------------------------------------------------------------------------------------------


def test_raw_crash_meta_is_public_annotations_without_view_pii(
    settings: Settings, backends: _Backends, stored: str
) -> None:
    public = call("RawCrash", ANONYMOUS, settings, backends, crash_id=stored)
    assert public["ProductName"] == "Firefox"
    assert {"URL", "Comments", "NotInAnySchema", "metadata"}.isdisjoint(public)
    whole = call("RawCrash", PII_ONLY, settings, backends, crash_id=stored, format="meta")
    assert whole["URL"] == "https://secret.example/" and "dump_checksums" in whole["metadata"]


@pytest.mark.parametrize("name", [None, "", "dump", "upload_file_minidump"])
def test_raw_crash_main_dump_names(settings: Settings, backends: _Backends, stored: str, name: str | None) -> None:
    answer = call("RawCrash", NO_PII, settings, backends, crash_id=stored, format="raw", name=name)
    assert isinstance(answer, Binary)
    assert answer.body == MAIN and answer.filename == f"{stored}.dmp"
    assert answer.content_type == "application/octet-stream"


def test_raw_crash_other_dump(settings: Settings, backends: _Backends, stored: str) -> None:
    answer = call(
        "RawCrash", FULL, settings, backends, crash_id=stored, format="raw", name="upload_file_minidump_browser"
    )
    assert isinstance(answer, Binary) and answer.body == BROWSER
    assert answer.filename == f"{stored}-upload_file_minidump_browser.dmp"


def test_raw_crash_dump_needs_view_rawdump_but_404_comes_first(
    settings: Settings, backends: _Backends, stored: str
) -> None:
    forbidden = error_of("RawCrash", PII_ONLY, settings, backends, crash_id=stored, format="raw", name="dump")
    assert (forbidden.status, forbidden.body) == (
        403,
        {"error": "Binary response requires permissions: View Raw Dumps"},
    )
    unknown = stored[:-12] + "000000" + stored[-6:]
    for name in ("dump", "no_such_dump", "../raw_crash", "dump_names"):
        crash = unknown if name == "dump" else stored
        missing = error_of("RawCrash", ANONYMOUS, settings, backends, crash_id=crash, format="raw", name=name)
        assert missing.status == 404, name


def test_raw_crash_other_formats_are_400(settings: Settings, backends: _Backends, stored: str) -> None:
    for fmt in ("json", "RAW", "meta "):
        assert error_of("RawCrash", FULL, settings, backends, crash_id=stored, format=fmt).status == 400


def test_dump_filenames() -> None:
    crash_id = "de1bb258-cbbf-4589-a673-34f800160918"
    assert dump_filename(crash_id, "") == f"{crash_id}.dmp"
    assert dump_filename(crash_id, "upload_file_minidump") == f"{crash_id}.dmp"
    assert dump_filename(crash_id, "upload_file_minidump_flash1") == f"{crash_id}-upload_file_minidump_flash1.dmp"
    assert dump_filename(crash_id, "memory_report") == "memory_report.json.gz"


# --- Reprocessing -----------------------------------------------------------------------------------------


def test_reprocessing_publishes_ids_with_rulesets(settings: Settings, backends: _Backends, stored: str) -> None:
    """On a queue nobody has declared yet (a web node started before any processor)."""
    other = create_crash_id(dt.datetime.now(dt.UTC))
    answer = call(
        "Reprocessing",
        FULL,
        settings,
        backends,
        crash_ids=[stored, f"{other}:regenerate_signature", f"{stored}:default"],
    )
    assert answer is True
    queue = open_queue(settings)
    try:
        bodies = []
        while (message := queue.consume([REPROCESSING])) is not None:
            bodies.append(message.body)
            queue.ack(message)
    finally:
        queue.close()
    assert bodies == [stored, f"{other}:regenerate_signature", f"{stored}:default"]


def test_reprocessing_refuses_the_whole_request_for_one_bad_item(
    settings: Settings, backends: _Backends, stored: str
) -> None:
    bad_id = error_of("Reprocessing", FULL, settings, backends, crash_ids=[stored, "nope"])
    assert (bad_id.status, bad_id.body) == (
        400,
        {"error": "Bad request: BadArgumentError: Crash id 'nope' is not valid."},
    )
    bad_ruleset = error_of("Reprocessing", FULL, settings, backends, crash_ids=[f"{stored}:fast"])
    assert bad_ruleset.body == {"error": "Bad request: BadArgumentError: Ruleset 'fast' is not valid."}
    empty_ruleset = error_of("Reprocessing", FULL, settings, backends, crash_ids=[f"{stored}:"])
    assert empty_ruleset.status == 400
    queue = open_queue(settings)
    queue.declare()
    try:
        assert queue.consume([REPROCESSING]) is None  # nothing was published
    finally:
        queue.close()


def test_reprocessing_bodies_pure() -> None:
    crash_id = "de1bb258-cbbf-4589-a673-34f800160918"
    assert reprocessing_bodies([crash_id, f"{crash_id}:x"], ("x",)) == [crash_id, f"{crash_id}:x"]
    with pytest.raises(APIError) as caught:
        reprocessing_bodies(["a" * 10_000], ("x",))
    assert len(caught.value.body["error"]) < 200  # a huge value is not echoed whole


# --- parameters -------------------------------------------------------------------------------------------


def test_bug_ids_must_be_digits() -> None:
    assert parse_bug_ids(["1", " 22 ", str(2**64)]) == [1, 22]  # too large to exist: matches nothing
    for bad in ("1.5", "-1", "x", "١٢", ""):
        with pytest.raises(APIError) as caught:
            parse_bug_ids([bad])
        assert caught.value.status == 400 and "bug_ids" in caught.value.body["errors"]


def test_search_params_cover_the_catalogue() -> None:
    from crashcart.search.fields import catalogue

    names = {p.name for p in search_params(catalogue().fields.values())}
    assert set(catalogue().fields) <= names
    assert {"_columns", "_sort", "_facets", "_facets_size", "_results_number", "_results_offset", "_cursor"} <= names
    assert {"_aggs.product", "_aggs.", "_histogram.date", "_histogram_interval.date"} <= names
    assert [p.name for p in search_params(catalogue().fields.values()) if p.prefix] == ["_aggs."]
    assert "_histogram.signature" not in names  # strings have no histogram
    assert all(p.kind == "list" for p in search_params(catalogue().fields.values()))


def test_query_params_keep_only_given_values() -> None:
    assert query_params({"product": ["Firefox"], "version": [], "_columns": None, "x": "1"}) == {
        "product": ["Firefox"],
        "x": ["1"],
    }


def test_noop_and_registry() -> None:
    assert {
        "SuperSearch",
        "SuperSearchUnredacted",
        "SuperSearchFields",
        "ProcessedCrash",
        "RawCrash",
        "Reprocessing",
        "SignatureFirstDate",
        "VersionString",
        "Bugs",
        "SignaturesByBugs",
        "CrashVerify",
        "NoOp",
    } <= set(REGISTRY)
    assert REGISTRY["Reprocessing"].methods == ("POST",) and REGISTRY["Reprocessing"].permission == "reprocess_crashes"
    assert REGISTRY["SuperSearchUnredacted"].permission == "view_pii"
    assert REGISTRY["ProcessedCrash"].cache_seconds == 0 and REGISTRY["RawCrash"].cache_seconds == 0
    assert REGISTRY["NoOp"]().handle(None, {"product": None}) == {"hits": [], "total": 0}  # type: ignore[arg-type]
