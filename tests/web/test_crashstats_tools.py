"""Mozilla's crashstats-tools 2.1.0, unchanged, against a real ``crashcart run`` (issue #10, point 12).

Each test runs the package's own console scripts as subprocesses with ``--host`` and ``CRASHSTATS_API_TOKEN``,
exactly as a person would, and checks what they print or write, not only their exit status.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.web.site import HOSTILE, HOSTILE_TEXTS, Site, shared_site

pytestmark = pytest.mark.timeout(600)

#: Each command run by crashstats-tools' own entry point, not by ``.venv/bin/<name>``: siggen also installs a
#: ``fetch-data``, and which of the two scripts wins depends on the order the installer wrote them.
_ENTRY = (
    "import sys; from importlib.metadata import distribution; "
    "[point] = [e for e in distribution('crashstats-tools').entry_points if e.name == {command!r}]; "
    "sys.argv[0] = {command!r}; sys.exit(point.load()())"
)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return shared_site(tmp_path_factory.getbasetemp())


def tool(
    site: Site, command: str, *args: str, token: str | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run one crashstats-tools command against ``site`` (the token only from the environment, as documented)."""
    env = {k: v for k, v in os.environ.items() if k != "CRASHSTATS_API_TOKEN"}
    env["NO_COLOR"] = "1"
    env["COLUMNS"] = "250"
    if token is not None:
        env["CRASHSTATS_API_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-c", _ENTRY.format(command=command), "--host", site.url, *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def ids_of(site: Site, product: str | None = None) -> set[str]:
    return {c.crash_id for c in site.crashes if product is None or c.annotations["ProductName"] == product}


# --- supersearch ----------------------------------------------------------------------------------------------


def test_supersearch_lists_every_matching_crash_with_its_columns(site: Site) -> None:
    out = tool(
        site,
        "supersearch",
        "--num=all",
        "--product=Firefox",
        "--_columns=uuid",
        "--_columns=product",
        "--_columns=version",
        "--_columns=build_id",
    )
    assert out.returncode == 0, out.stderr
    rows = [line.split("\t") for line in out.stdout.splitlines()]
    by_id = {row[0]: row[1:] for row in rows}
    assert set(by_id) == ids_of(site, "Firefox") and len(rows) == len(by_id)
    for crash in site.crashes:
        if crash.annotations["ProductName"] == "Firefox":
            assert by_id[crash.crash_id] == ["Firefox", crash.annotations["Version"], crash.annotations["BuildID"]]


def test_supersearch_num_stops_at_the_asked_count_and_headers_name_the_columns(site: Site) -> None:
    out = tool(site, "supersearch", "--num=3", "--headers", "--_columns=uuid", "--_columns=signature")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "uuid\tsignature"
    assert len(lines) == 4 and {line.split("\t")[0] for line in lines[1:]} <= ids_of(site)


def test_supersearch_protected_column_needs_view_pii(site: Site) -> None:
    anonymous = tool(site, "supersearch", "--_columns=uuid", "--_columns=url")
    # Socorro removes protected columns from hits, so the tool stops: every column must be in the first hit.
    assert anonymous.returncode == 2, (anonymous.stdout, anonymous.stderr)
    assert "url: no data" in anonymous.stderr + anonymous.stdout
    assert not any(text in anonymous.stdout + anonymous.stderr for text in HOSTILE_TEXTS)
    without = tool(site, "supersearch", "--_columns=uuid", "--_columns=url", token=site.tokens["nopii"])
    assert without.returncode == 2 and HOSTILE["URL"] not in without.stdout
    full = tool(site, "supersearch", "--num=all", "--_columns=uuid", "--_columns=url", token=site.tokens["full"])
    assert full.returncode == 0, full.stderr
    assert {line.split("\t")[1] for line in full.stdout.splitlines()} == {HOSTILE["URL"]}


def test_supersearch_filters_with_operators(site: Site) -> None:
    out = tool(site, "supersearch", "--num=all", "--build_id=>=20231212000000", "--_columns=uuid", "--_columns=version")
    assert out.returncode == 0, out.stderr
    expected = {c.crash_id for c in site.crashes if int(c.annotations["BuildID"]) >= 20231212000000}
    assert expected and {line.split("\t")[0] for line in out.stdout.splitlines()} == expected
    negated = tool(site, "supersearch", "--num=all", "--product=!Firefox", "--_columns=uuid")
    assert negated.returncode == 0, negated.stderr
    assert set(negated.stdout.split()) == ids_of(site, "Thunderbird")


def test_supersearch_num_all_pages_past_1000_hits(site: Site) -> None:
    """The tool pages by ``_results_offset`` in steps of 1,000 with no ``_sort`` when given a date: every crash
    comes exactly once, so the order is stable across pages. 1,205 rows go straight into the index, dated a
    month back (outside the 7-day default window the other tests search)."""
    written = subprocess.run(
        [sys.executable, "-m", "tests.web.bulk_index", "1205", "30", "Bulk"],
        env=site.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert written.returncode == 0, written.stderr
    expected = written.stdout.split()
    today = dt.datetime.now(dt.UTC).date()
    since, until = today - dt.timedelta(days=40), today - dt.timedelta(days=20)
    out = tool(
        site, "supersearch", "--num=all", "--product=Bulk", f"--date=>={since}", f"--date=<{until}", "--_columns=uuid"
    )
    assert out.returncode == 0, out.stderr
    got = out.stdout.split()
    assert len(got) == len(expected) == 1205 and set(got) == set(expected)
    some = tool(site, "supersearch", "--num=1100", "--product=Bulk", f"--date=>={since}", "--_columns=uuid")
    assert some.returncode == 0 and len(set(some.stdout.split())) == 1100


# --- supersearchfacet -----------------------------------------------------------------------------------------


def facet(site: Site, *args: str, token: str | None = None) -> dict[str, Any]:
    out = tool(site, "supersearchfacet", "--format=raw", *args, token=token)
    assert out.returncode == 0, out.stderr
    payload: dict[str, Any] = json.loads(out.stdout)
    return payload


def test_supersearchfacet_counts_terms(site: Site) -> None:
    payload = facet(site, "--_facets=product")
    assert payload["total"] == len(site.crashes)
    counts = {bucket["term"]: bucket["count"] for bucket in payload["facets"]["product"]}
    assert counts == {"Firefox": len(ids_of(site, "Firefox")), "Thunderbird": len(ids_of(site, "Thunderbird"))}
    table = tool(site, "supersearchfacet", "--_facets=product", "--format=tab")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert f"Firefox\t{counts['Firefox']}" in lines and f"Thunderbird\t{counts['Thunderbird']}" in lines
    assert f"total\t{len(site.crashes)}" in lines


def test_supersearchfacet_date_histogram_with_product_subfacet(site: Site) -> None:
    payload = facet(site, "--_histogram.date=product")
    buckets = payload["facets"]["histogram_date"]
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert [b["term"] for b in buckets] == [f"{today}T00:00:00+00:00"]
    assert buckets[0]["count"] == len(site.crashes)
    sub = {b["term"]: b["count"] for b in buckets[0]["facets"]["product"]}
    assert sub == {"Firefox": len(ids_of(site, "Firefox")), "Thunderbird": len(ids_of(site, "Thunderbird"))}
    table = tool(site, "supersearchfacet", "--_histogram.date=product", "--format=tab")
    assert table.returncode == 0, table.stderr
    assert today in table.stdout and "Firefox" in table.stdout


def test_supersearchfacet_nested_aggs(site: Site) -> None:
    payload = facet(site, "--_aggs.product.version=release_channel", "--_facets=product")
    product = {b["term"]: b for b in payload["facets"]["product"]}
    firefox_versions = {b["term"]: b for b in product["Firefox"]["facets"]["version"]}
    assert set(firefox_versions) == {"120.0", "121.0b3"}
    assert firefox_versions["120.0"]["count"] == 3
    assert [(b["term"], b["count"]) for b in firefox_versions["121.0b3"]["facets"]["release_channel"]] == [("beta", 2)]
    # The example: distinct installs per product and version.
    cardinality = facet(site, "--_aggs.product.version=_cardinality.install_time", "--_facets=product")
    got = {
        (p["term"], v["term"]): v["facets"]["cardinality_install_time"]["value"]
        for p in cardinality["facets"]["product"]
        for v in p["facets"]["version"]
    }
    installs: dict[tuple[str, str], set[str]] = {}
    for c in site.crashes:
        installs.setdefault((c.annotations["ProductName"], c.annotations["Version"]), set()).add(
            c.annotations["InstallTime"]
        )
    assert got == {key: len(times) for key, times in installs.items()}
    assert sorted(got.values()) == [1, 1, 2]
    table = tool(site, "supersearchfacet", "--_aggs.product.version=_cardinality.install_time", "--format=tab")
    assert table.returncode == 0, table.stderr


# --- fetch-data -----------------------------------------------------------------------------------------------


def test_fetch_data_writes_raw_dumps_and_processed_as_submitted(site: Site, tmp_path: Path) -> None:
    crash = next(c for c in site.crashes if len(c.dumps) == 2)
    out = tool(
        site, "fetch-data", "--raw", "--dumps", "--processed", str(tmp_path), crash.crash_id, token=site.tokens["full"]
    )
    assert out.returncode == 0, (out.stdout, out.stderr)
    day = "20" + crash.crash_id[-6:]
    raw = json.loads((tmp_path / "raw_crash" / day / crash.crash_id).read_text())
    for name, value in crash.annotations.items():
        assert raw[name] == value, name
    assert set(raw["metadata"]["dump_checksums"]) == set(crash.dumps)
    assert set(json.loads((tmp_path / "dump_names" / crash.crash_id).read_text())) == set(crash.dumps)
    for name, data in crash.dumps.items():
        assert (tmp_path / name / crash.crash_id).read_bytes() == data, name  # byte for byte
    processed = json.loads((tmp_path / "processed_crash" / crash.crash_id).read_text())
    assert processed["uuid"] == crash.crash_id and processed["product"] == "Firefox"
    assert processed["url"] == HOSTILE["URL"]  # the full token has view_pii


def test_fetch_data_without_view_pii_finds_no_dumps_and_no_protected_data(site: Site, tmp_path: Path) -> None:
    crash = site.crashes[0]
    out = tool(
        site, "fetch-data", "--raw", "--dumps", "--processed", str(tmp_path), crash.crash_id, token=site.tokens["nopii"]
    )
    assert out.returncode == 0, (out.stdout, out.stderr)
    written = "".join(p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file())
    assert written and not any(text in written for text in HOSTILE_TEXTS)
    assert not (tmp_path / "upload_file_minidump").exists()  # metadata.dump_checksums is protected
    raw = json.loads((tmp_path / "raw_crash" / ("20" + crash.crash_id[-6:]) / crash.crash_id).read_text())
    assert raw["ProductName"] == "Firefox" and "metadata" not in raw and "URL" not in raw


def test_fetch_data_of_an_unknown_crash_fails_with_the_404(site: Site, tmp_path: Path) -> None:
    unknown = "00000000-0000-4000-8000-000000" + dt.datetime.now(dt.UTC).strftime("%y%m%d")
    out = tool(site, "fetch-data", "--no-raw", "--processed", str(tmp_path), unknown)
    assert out.returncode != 0 and "404" in out.stderr


# --- reprocess ------------------------------------------------------------------------------------------------


def test_reprocess_queues_the_crash_and_the_processor_runs_it_again(site: Site) -> None:
    crash = site.crashes[-1]
    before = len(site.processed(crash.crash_id)["processor_history"])  # type: ignore[index]
    out = tool(site, "reprocess", "--sleep=0", crash.crash_id, token=site.tokens["full"])
    assert out.returncode == 0, (out.stdout, out.stderr)
    assert "Done!" in out.stdout
    site.wait_indexed([crash.crash_id], runs=before + 1)
    history = site.processed(crash.crash_id)["processor_history"]  # type: ignore[index]
    assert len(history) == before + 1


def test_reprocess_with_a_ruleset(site: Site) -> None:
    crash = site.crashes[-2]
    before = len(site.processed(crash.crash_id)["processor_history"])  # type: ignore[index]
    out = tool(
        site, "reprocess", "--sleep=0", "--ruleset=regenerate_signature", crash.crash_id, token=site.tokens["full"]
    )
    assert out.returncode == 0 and "Done!" in out.stdout, (out.stdout, out.stderr)
    site.wait_indexed([crash.crash_id], runs=before + 1)
    last = site.processed(crash.crash_id)["processor_history"][-1]  # type: ignore[index]
    assert "regenerate_signature" in json.dumps(last)


def test_reprocess_without_the_permission_is_refused_with_socorro_message(site: Site) -> None:
    token = site.tokens.get("viewer") or site.make_token("viewer", ("view_pii",))
    out = tool(site, "reprocess", "--sleep=0", site.crashes[0].crash_id, token=token)
    assert out.returncode == 1
    assert "Reprocess Crashes" in out.stdout + out.stderr
