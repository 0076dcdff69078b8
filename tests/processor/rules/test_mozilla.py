from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

import pytest

from crashcart.processor.context import CrashContext
from crashcart.processor.rules.base import Rule
from crashcart.processor.rules.mozilla import (
    AccessibilityRule,
    AddonsRule,
    BetaVersionRule,
    BetaVersionsFileError,
    BreadcrumbsRule,
    CachedVersionLookup,
    DistributionIdRule,
    FileVersionLookup,
    MozCrashReasonRule,
    OutOfMemoryBinaryRule,
    PHCRule,
    ShutdownHangCrashingThreadRule,
    SubmittedFromRule,
    ThemePrettyNameRule,
    UtilityActorsNameRule,
)
from crashcart.schemas import builtin_schemas

SCHEMA = builtin_schemas().processed_crash
SECRET = "secret-value-do-not-leak"


def run(rule: Rule, raw: dict[str, Any], processed: dict[str, Any] | None = None, **kw: Any) -> CrashContext:
    ctx = CrashContext(crash_id="id", raw_crash=raw, processed=processed if processed is not None else {}, **kw)
    if rule.predicate(ctx):
        rule.action(ctx)
    return ctx


def assert_fields_match_schema(processed: dict[str, Any]) -> None:
    """Every written field is declared with the type written."""
    kinds = {"string": str, "integer": int, "boolean": bool, "array": list, "object": dict}
    for name, value in processed.items():
        spec = SCHEMA.get(name)
        assert spec is not None, name
        if value is None:
            assert spec.nullable, name
        else:
            assert isinstance(value, kinds[spec.type]), name


# --- submitted_from ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected", "infobar"),
    [
        ({}, "Unknown", False),
        ({"SubmittedFrom": "Client"}, "Client", False),
        ({"SubmittedFrom": "Infobar"}, "Infobar", True),
        ({"SubmittedFrom": "  "}, "Unknown", False),
        ({"SubmittedFromInfobar": "1"}, "Infobar", True),
        ({"SubmittedFromInfobar": "true"}, "Infobar", True),
        ({"SubmittedFromInfobar": True}, "Infobar", True),
        ({"SubmittedFromInfobar": "0", "SubmittedFrom": "Client"}, "Unknown", False),
    ],
)
def test_submitted_from(raw: dict[str, Any], expected: str, infobar: bool) -> None:
    ctx = run(SubmittedFromRule(), raw)
    assert ctx.processed == {"submitted_from": expected, "submitted_from_infobar": infobar}
    assert_fields_match_schema(ctx.processed)
    assert not SCHEMA.is_public("submitted_from_infobar")


@pytest.mark.parametrize("raw", [{"SubmittedFrom": ["x"]}, {"SubmittedFrom": "x" * 101}, {"SubmittedFromInfobar": 7}])
def test_submitted_from_malformed(raw: dict[str, Any]) -> None:
    ctx = run(SubmittedFromRule(), raw)
    assert ctx.processed["submitted_from"] == "Unknown"
    assert len(ctx.notes) == 1
    assert "SubmittedFrom" in ctx.notes[0]


# --- accessibility ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [("Active", True), ("Inactive", False), (None, False), (1, False)])
def test_accessibility(value: Any, expected: bool) -> None:
    raw = {} if value is None else {"Accessibility": value}
    ctx = run(AccessibilityRule(), raw)
    assert ctx.processed == {"accessibility": expected}
    assert_fields_match_schema(ctx.processed)


# --- addons -----------------------------------------------------------------------------------------------


def test_addons() -> None:
    raw = {
        "EMCheckCompatibility": "true",
        "Add-ons": "formautofill%40mozilla.org:1.0.1,screenshots%40mozilla.org,"
        "{972ce4c6-7e08-4474-a285-3208198ce6fd}:91.0,,",
    }
    ctx = run(AddonsRule(), raw)
    assert ctx.processed == {
        "addons_checked": True,
        "addons": [
            "formautofill@mozilla.org:1.0.1",
            "screenshots@mozilla.org:NO_VERSION",
            "{972ce4c6-7e08-4474-a285-3208198ce6fd}:91.0",
        ],
    }
    assert_fields_match_schema(ctx.processed)
    assert not ctx.notes


@pytest.mark.parametrize(("value", "expected"), [("false", False), ("TRUE", True), ("junk", False), (["x"], False)])
def test_addons_checked(value: Any, expected: bool) -> None:
    assert run(AddonsRule(), {"EMCheckCompatibility": value}).processed == {"addons_checked": expected, "addons": []}


def test_addons_absent() -> None:
    assert run(AddonsRule(), {}).processed == {"addons_checked": None, "addons": []}


def test_addons_hostile_values_are_bounded() -> None:
    ctx = run(AddonsRule(), {"Add-ons": ",".join(f"a{i}:1" for i in range(5000))})
    assert len(ctx.processed["addons"]) == AddonsRule.MAX_ADDONS
    ctx = run(AddonsRule(), {"Add-ons": "ok:1," + SECRET * 100 + ":1"})
    assert ctx.processed["addons"] == ["ok:1"]
    ctx = run(AddonsRule(), {"Add-ons": {"not": "a string"}})
    assert ctx.processed["addons"] == []
    ctx = run(AddonsRule(), {"Add-ons": SECRET * 100_000})
    assert ctx.processed["addons"] == []
    assert ctx.notes == ["Add-ons has a malformed value; dropped"]


def test_theme_pretty_name() -> None:
    addons = ["a:1", "{972ce4c6-7e08-4474-a285-3208198ce6fd}:91.0", "{972ce4c6-7e08-4474-a285-3208198ce6fd}", 3]
    ctx = run(ThemePrettyNameRule(), {}, {"addons": addons})
    assert ctx.processed["addons"] == [
        "a:1",
        "{972ce4c6-7e08-4474-a285-3208198ce6fd} (default theme):91.0",
        "{972ce4c6-7e08-4474-a285-3208198ce6fd} (default theme)",
        3,
    ]
    assert not ThemePrettyNameRule().predicate(CrashContext("id", {}, processed={"addons": "junk"}))
    assert not ThemePrettyNameRule().predicate(CrashContext("id", {}, processed={}))


# --- out_of_memory_binary ---------------------------------------------------------------------------------


def gz(tmp_path: Path, data: bytes, name: str = "memory_report") -> Path:
    path = tmp_path / name
    path.write_bytes(gzip.compress(data))
    return path


def test_memory_report_decoded(tmp_path: Path) -> None:
    report = {"version": 1, "hasMozMallocUsableSize": True, "reports": []}
    ctx = run(OutOfMemoryBinaryRule(), {}, dumps={"memory_report": gz(tmp_path, json.dumps(report).encode())})
    assert ctx.processed == {"memory_report": report}
    assert not SCHEMA.is_public("memory_report")
    assert not ctx.notes


def test_memory_report_needs_the_dump() -> None:
    assert run(OutOfMemoryBinaryRule(), {}).processed == {}


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"not gzip at all", "memory_report: not a valid gzip file"),
        (gzip.compress(b"{not json")[:-4], "memory_report: not a valid gzip file"),
        (gzip.compress(b"{not json"), "memory_report: not valid JSON"),
        (gzip.compress(b"[1, 2]"), "memory_report: not a JSON object"),
        (gzip.compress(b"\xff\xfe\x00junk"), "memory_report: not valid JSON"),
        (gzip.compress(b'{"a":' * 100_000 + b"1" + b"}" * 100_000), "memory_report: not valid JSON"),
        (gzip.compress(b'{"a":' * 100 + b"1" + b"}" * 100), "memory_report: nested deeper than 64 levels"),
    ],
)
def test_memory_report_errors(tmp_path: Path, content: bytes, error: str) -> None:
    path = tmp_path / "memory_report"
    path.write_bytes(content)
    ctx = run(OutOfMemoryBinaryRule(), {}, dumps={"memory_report": path})
    assert ctx.processed == {"memory_report_error": error}
    assert ctx.notes == [error]
    assert not SCHEMA.is_public("memory_report_error")


def test_memory_report_missing_file(tmp_path: Path) -> None:
    ctx = run(OutOfMemoryBinaryRule(), {}, dumps={"memory_report": tmp_path / "gone"})
    assert ctx.processed == {"memory_report_error": "memory_report: not a valid gzip file"}


def test_memory_report_gzip_bomb_stops_at_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 1 GiB of zeros compresses to about 1 MiB; decompression must stop just past 20 MiB.
    path = tmp_path / "memory_report"
    with gzip.open(path, "wb", compresslevel=9) as stream:
        block = b"\0" * (1024 * 1024)
        for _ in range(1024):
            stream.write(block)
    assert path.stat().st_size < 2 * 1024 * 1024
    read_total = 0
    real_open = gzip.open

    def counting_open(*args: Any, **kwargs: Any) -> Any:
        stream = real_open(*args, **kwargs)
        real_read = stream.read

        def read(size: int = -1) -> bytes:
            nonlocal read_total
            assert size > 0, "unbounded read"
            data: bytes = real_read(size)
            read_total += len(data)
            return data

        stream.read = read
        return stream

    monkeypatch.setattr(gzip, "open", counting_open)
    ctx = run(OutOfMemoryBinaryRule(), {}, dumps={"memory_report": path})
    limit = OutOfMemoryBinaryRule.MAX_SIZE_UNCOMPRESSED
    assert ctx.processed == {"memory_report_error": f"memory_report: uncompressed size exceeds {limit} bytes"}
    assert read_total == limit + 1


def test_memory_report_rerun_clears_previous_result(tmp_path: Path) -> None:
    path = tmp_path / "memory_report"
    path.write_bytes(b"junk")
    ctx = run(OutOfMemoryBinaryRule(), {}, {"memory_report": {"old": 1}}, dumps={"memory_report": path})
    assert "memory_report" not in ctx.processed


# --- phc --------------------------------------------------------------------------------------------------


def test_phc() -> None:
    raw = {
        "PHCKind": "FreedPage",
        "PHCBaseAddress": "140290683838464",  # 0x7f97f8602000
        "PHCUsableSize": "32",
        "PHCAllocStack": "100,200,300",
        "PHCFreeStack": "400,500",
    }
    ctx = run(PHCRule(), raw)
    assert ctx.processed == {
        "phc_kind": "FreedPage",
        "phc_base_address": "0x7f97f8602000",
        "phc_usable_size": 32,
        "phc_alloc_stack": "100,200,300",
        "phc_free_stack": "400,500",
    }
    assert_fields_match_schema(ctx.processed)
    assert not ctx.notes
    for name in ctx.processed:
        assert not SCHEMA.is_public(name), name


def test_phc_only_with_kind() -> None:
    assert run(PHCRule(), {"PHCBaseAddress": "1"}).processed == {}


@pytest.mark.parametrize(
    ("annotation", "value"),
    [
        ("PHCBaseAddress", SECRET),
        ("PHCBaseAddress", "-1"),
        ("PHCBaseAddress", str(2**64)),
        ("PHCBaseAddress", True),
        ("PHCUsableSize", "-5"),
        ("PHCUsableSize", SECRET),
        ("PHCAllocStack", ["1", "2"]),
        ("PHCFreeStack", "1," * 40_000),
        ("PHCKind", {"a": SECRET}),
    ],
)
def test_phc_malformed(annotation: str, value: Any) -> None:
    raw = {"PHCKind": "FreedPage", annotation: value}
    ctx = run(PHCRule(), raw)
    assert ctx.notes == [f"{annotation} has a malformed value; dropped"]
    assert SECRET not in " ".join(ctx.notes)
    assert_fields_match_schema(ctx.processed)


# --- breadcrumbs ------------------------------------------------------------------------------------------

CRUMBS = [
    {"timestamp": "2021-01-07T16:09:31", "category": "ui", "message": "click", "level": "info", "extra": 1},
    {"timestamp": 1610035771.5, "type": "navigation", "data": {"from": "a", "to": "b"}},
]
CLEAN = [
    {"timestamp": "2021-01-07T16:09:31", "category": "ui", "message": "click", "level": "info"},
    {"timestamp": 1610035771.5, "type": "navigation", "data": {"from": "a", "to": "b"}},
]


@pytest.mark.parametrize("value", [json.dumps(CRUMBS), json.dumps({"values": CRUMBS}), CRUMBS])
def test_breadcrumbs(value: Any) -> None:
    ctx = run(BreadcrumbsRule(), {"Breadcrumbs": value})
    assert ctx.processed == {"breadcrumbs": CLEAN}
    assert not ctx.notes
    assert not SCHEMA.is_public("breadcrumbs")


@pytest.mark.parametrize(
    ("value", "note"),
    [
        ("{nope", "Breadcrumbs: malformed: not valid json"),
        ("x" * (2 * 1024 * 1024), "Breadcrumbs: malformed: not valid json"),
        ('{"a": 1}', "Breadcrumbs: malformed: not a list"),
        ("[1]", "Breadcrumbs: malformed: item 0 not a dict"),
        ('[{"timestamp": "t"}, {"message": "m"}]', "Breadcrumbs: malformed: item 1 missing keys: timestamp"),
        ('[{"timestamp": true}]', "Breadcrumbs: malformed: item 0 timestamp is not a string or number"),
        ('[{"timestamp": "t", "message": 5}]', "Breadcrumbs: malformed: item 0 message is not a string"),
        ('[{"timestamp": "t", "data": []}]', "Breadcrumbs: malformed: item 0 data is not an object"),
        ("[" * 50 + "]" * 50, "Breadcrumbs: malformed: nested deeper than 16 levels"),
        ("[" * 100_000 + "]" * 100_000, "Breadcrumbs: malformed: not valid json"),
    ],
)
def test_breadcrumbs_malformed(value: str, note: str) -> None:
    ctx = run(BreadcrumbsRule(), {"Breadcrumbs": value})
    assert ctx.processed == {}
    assert ctx.notes == [note]


def test_breadcrumbs_count_is_bounded() -> None:
    crumbs = [{"timestamp": i} for i in range(BreadcrumbsRule.MAX_ITEMS + 10)]
    ctx = run(BreadcrumbsRule(), {"Breadcrumbs": json.dumps(crumbs)})
    assert len(ctx.processed["breadcrumbs"]) == BreadcrumbsRule.MAX_ITEMS
    assert ctx.processed["breadcrumbs"][-1] == {"timestamp": BreadcrumbsRule.MAX_ITEMS + 9}
    assert len(ctx.notes) == 1


# --- moz_crash_reason -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "public"),
    [
        ("MOZ_CRASH(Shutdown hanging)", "MOZ_CRASH(Shutdown hanging)"),
        ("Failed to load module https://example.com/x.js", "sanitized--see moz_crash_reason_raw"),
        ("byte index 5 is out of bounds of `secret`", "sanitized--see moz_crash_reason_raw"),
        ("do not use eval with system privileges: file:///x", "sanitized--see moz_crash_reason_raw"),
    ],
)
def test_moz_crash_reason(reason: str, public: str) -> None:
    ctx = run(MozCrashReasonRule(), {"MozCrashReason": reason})
    assert ctx.processed == {"moz_crash_reason_raw": reason, "moz_crash_reason": public}
    assert SCHEMA.is_public("moz_crash_reason")
    assert not SCHEMA.is_public("moz_crash_reason_raw")


@pytest.mark.parametrize("value", [{"a": SECRET}, SECRET * 10_000])
def test_moz_crash_reason_malformed(value: Any) -> None:
    ctx = run(MozCrashReasonRule(), {"MozCrashReason": value})
    assert ctx.processed == {}
    assert ctx.notes == ["MozCrashReason has a malformed value; dropped"]


# --- utility_actors_name ----------------------------------------------------------------------------------


def test_utility_actors_name() -> None:
    ctx = run(UtilityActorsNameRule(), {"UtilityActorsName": "audio-decoder-generic, ,mf-media-engine,"})
    assert ctx.processed == {"utility_actors_name": ["audio-decoder-generic", "mf-media-engine"]}
    assert run(UtilityActorsNameRule(), {}).processed == {}
    assert run(UtilityActorsNameRule(), {"UtilityActorsName": ""}).processed == {"utility_actors_name": []}


@pytest.mark.parametrize("value", [["a"], ",".join(["a"] * 101), "x" * 201, "x" * 100_000])
def test_utility_actors_name_malformed(value: Any) -> None:
    ctx = run(UtilityActorsNameRule(), {"UtilityActorsName": value})
    assert ctx.processed == {}
    assert ctx.notes == ["UtilityActorsName has a malformed value; dropped"]


# --- distribution_id --------------------------------------------------------------------------------------


def telemetry(partner: Any) -> str:
    return json.dumps({"partner": partner})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({}, "unknown"),
        ({"DistributionID": "canonical"}, "canonical"),
        ({"DistributionID": "", "TelemetryEnvironment": telemetry({"distributionId": "acer"})}, "acer"),
        ({"TelemetryEnvironment": telemetry({"distributionId": "acer"})}, "acer"),
        ({"TelemetryEnvironment": telemetry({"distributionId": None})}, "mozilla"),
        ({"TelemetryEnvironment": telemetry({"distributionId": ""})}, "mozilla"),
        ({"TelemetryEnvironment": telemetry({})}, "unknown"),
        ({"TelemetryEnvironment": telemetry("junk")}, "unknown"),
        ({"TelemetryEnvironment": "{not json"}, "unknown"),
        ({"TelemetryEnvironment": {"partner": {"distributionId": "dell"}}}, "dell"),
        ({"DistributionID": ""}, "unknown"),
    ],
)
def test_distribution_id(raw: dict[str, Any], expected: str) -> None:
    ctx = run(DistributionIdRule(), raw)
    assert ctx.processed == {"distribution_id": expected}


def test_distribution_id_malformed() -> None:
    ctx = run(DistributionIdRule(), {"DistributionID": ["x"], "TelemetryEnvironment": telemetry({"distributionId": 5})})
    assert ctx.processed == {"distribution_id": "unknown"}
    assert ctx.notes == [
        "DistributionID has a malformed value; dropped",
        "TelemetryEnvironment has a malformed partner.distributionId; dropped",
    ]


# --- beta_version -----------------------------------------------------------------------------------------


class FakeLookup:
    def __init__(self, table: dict[tuple[str, str, str], str]) -> None:
        self.table = table
        self.calls: list[tuple[str, str, str]] = []

    def __call__(self, product: str, channel: str, build_id: str) -> str | None:
        self.calls.append((product, channel, build_id))
        return self.table.get((product, channel, build_id))


def beta(
    product: str = "Firefox", channel: Any = "beta", build: Any = "20210701000000", version: Any = "91.0"
) -> dict[str, Any]:
    return {"product": product, "release_channel": channel, "build": build, "version": version}


def test_beta_version_lookup_and_cache() -> None:
    lookup = FakeLookup({("Firefox", "beta", "20210701000000"): "91.0b3"})
    rule = BetaVersionRule(lookup)
    for _ in range(3):
        ctx = run(rule, {}, beta())
        assert ctx.processed["version"] == "91.0b3"
        assert not ctx.notes
    assert lookup.calls == [("Firefox", "beta", "20210701000000")]


def test_beta_version_devedition_and_thunderbird() -> None:
    lookup = FakeLookup(
        {("DevEdition", "aurora", "20210701000000"): "91.0b3", ("Thunderbird", "beta", "20210701000000"): "91.0b2"}
    )
    rule = BetaVersionRule(lookup)
    assert run(rule, {}, beta(channel="aurora")).processed["version"] == "91.0b3"
    assert run(rule, {}, beta(product="Thunderbird")).processed["version"] == "91.0b2"
    run(rule, {}, beta(channel="aurora", build="20170101000000"))
    assert lookup.calls[-1] == ("Firefox", "aurora", "20170101000000")


@pytest.mark.parametrize("build", ["20210101000000", "", SECRET, 20210701000000, None])
def test_beta_version_fallback(build: Any) -> None:
    ctx = run(BetaVersionRule(FakeLookup({})), {}, beta(build=build))
    assert ctx.processed["version"] == "91.0b0"
    assert ctx.notes == ['release channel is beta but no version data was found - added "b0" suffix to version number']


@pytest.mark.parametrize(
    "processed",
    [beta(channel="release"), beta(product="Fenix"), beta(version=None), beta(channel=["beta"]), {}],
)
def test_beta_version_not_applicable(processed: dict[str, Any]) -> None:
    lookup = FakeLookup({})
    ctx = run(BetaVersionRule(lookup), {}, dict(processed))
    assert ctx.processed == processed
    assert not lookup.calls


def test_cached_lookup_is_bounded_and_expires() -> None:
    now = [0.0]
    lookup = FakeLookup({("Firefox", "beta", "1"): "1.0b1"})
    cached = CachedVersionLookup(lookup, max_size=3, hit_ttl=100, miss_ttl=10, clock=lambda: now[0])
    for build in range(10):
        cached("Firefox", "beta", str(build))
    assert len(cached) == 3
    assert cached("Firefox", "beta", "9") is None
    calls = len(lookup.calls)
    now[0] = 11  # misses expire
    assert cached("Firefox", "beta", "9") is None
    assert len(lookup.calls) == calls + 1
    assert cached("Firefox", "beta", "1") == "1.0b1"
    now[0] = 50  # hits are still cached
    calls = len(lookup.calls)
    assert cached("Firefox", "beta", "1") == "1.0b1"
    assert len(lookup.calls) == calls


def test_file_lookup_csv(tmp_path: Path) -> None:
    path = tmp_path / "betas.csv"
    path.write_text(
        "product,channel,build_id,version\n"
        "Firefox,beta,20210701000000,91.0b3\n"
        "DevEdition,aurora,20210701000000,91.0b3\n"
        "Firefox,beta,20210701000000,91.0b4\n"
    )
    lookup = FileVersionLookup(path)
    assert lookup("firefox", "BETA", "20210701000000") == "91.0b4"
    assert lookup("DevEdition", "aurora", "20210701000000") == "91.0b3"
    assert lookup("Firefox", "beta", "1") is None


def test_file_lookup_yaml_and_reload(tmp_path: Path) -> None:
    path = tmp_path / "betas.yaml"
    path.write_text("- {product: Firefox, channel: beta, build_id: 20210701000000, version: 91.0b3}\n")
    now = [0.0]
    lookup = FileVersionLookup(path, recheck_seconds=60, clock=lambda: now[0])
    assert lookup("Firefox", "beta", "20210701000000") == "91.0b3"
    path.write_text(
        "- {product: Firefox, channel: beta, build_id: '20210701000000', version: 91.0b3}\n"
        "- {product: Firefox, channel: beta, build_id: '20210708000000', version: 91.0b4}\n"
    )
    os.utime(path, ns=(1, 1))
    assert lookup("Firefox", "beta", "20210708000000") is None  # not rechecked yet
    now[0] = 61
    assert lookup("Firefox", "beta", "20210708000000") == "91.0b4"
    path.write_text("not: [valid")
    os.utime(path, ns=(2, 2))
    now[0] = 200
    assert lookup("Firefox", "beta", "20210708000000") == "91.0b4"  # a bad rewrite keeps the old table


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("b.csv", "product,channel,version\n", "CSV header lacks build_id"),
        ("b.csv", "product,channel,build_id,version\nFirefox,beta,,91.0b1\n", "row 1: build_id"),
        ("b.yaml", "{a: 1}", "expected a list"),
        ("b.yaml", "- [1, 2]", "row 1: not a mapping"),
        ("b.yaml", "- {product: Firefox}", "row 1: channel"),
        ("b.yaml", "[", "not valid YAML"),
        ("b.csv", b"\xff\xfe", "cannot read"),
    ],
)
def test_file_lookup_refuses_malformed_files(tmp_path: Path, name: str, text: str | bytes, message: str) -> None:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    with pytest.raises(BetaVersionsFileError, match=message):
        FileVersionLookup(path)


def test_file_lookup_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BetaVersionsFileError, match="cannot read"):
        FileVersionLookup(tmp_path / "missing.csv")


# --- shutdown_hang_crashing_thread ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signature", "expected"),
    [("shutdownhang | nsThread::Shutdown", 0), ("OOM | small", 3), (None, 3), (5, 3)],
)
def test_shutdown_hang_crashing_thread(signature: Any, expected: int) -> None:
    ctx = run(ShutdownHangCrashingThreadRule(), {}, {"signature": signature, "crashing_thread": 3})
    assert ctx.processed["crashing_thread"] == expected


# --- no rule leaks a value into notes ---------------------------------------------------------------------


def test_notes_never_quote_values(tmp_path: Path) -> None:
    raw: dict[str, Any] = {
        "SubmittedFrom": SECRET * 10,
        "Accessibility": SECRET,
        "Add-ons": SECRET * 100_000,
        "EMCheckCompatibility": SECRET,
        "PHCKind": SECRET * 10,
        "PHCBaseAddress": SECRET,
        "PHCUsableSize": SECRET,
        "Breadcrumbs": SECRET,
        "MozCrashReason": [SECRET],
        "UtilityActorsName": SECRET * 100,
        "DistributionID": [SECRET],
        "TelemetryEnvironment": json.dumps({"partner": {"distributionId": [SECRET]}}),
    }
    path = tmp_path / "memory_report"
    path.write_bytes(SECRET.encode())
    rules: list[Rule] = [
        SubmittedFromRule(),
        AccessibilityRule(),
        AddonsRule(),
        PHCRule(),
        BreadcrumbsRule(),
        MozCrashReasonRule(),
        UtilityActorsNameRule(),
        DistributionIdRule(),
        OutOfMemoryBinaryRule(),
    ]
    ctx = CrashContext(crash_id="id", raw_crash=raw, dumps={"memory_report": path})
    for rule in rules:
        if rule.predicate(ctx):
            rule.action(ctx)
    assert len(ctx.notes) >= 8
    assert all(SECRET not in note and "secret" not in note for note in ctx.notes)
    assert_fields_match_schema(ctx.processed)
