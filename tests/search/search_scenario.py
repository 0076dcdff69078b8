"""One process's Super Search through ``supersearch()`` on a database URL, rows written by the real writer.

``python -m tests.search.search_scenario URL DATA_DIR`` migrates, indexes seeded processed crashes with
``CrashIndex.upsert_many``, searches as the web API will (``supersearch(params, allow_protected=…)``), checks
the answers against the reference, times a few typical searches and prints ``ok`` and the timings as JSON.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from crashcart import database as db
from crashcart.search.fields import catalogue
from crashcart.search.query import parse
from crashcart.search.runner import supersearch
from crashcart.search.writer import CrashIndex
from crashcart.settings import load_settings
from tests.search import searchdb
from tests.search.searchdb import NOW

TYPICAL = {
    "top signatures of a product, 7 days": {"product": ["Firefox"]},
    "3 filters + 3 facets": {
        "product": ["Firefox"],
        "platform": ["Windows NT"],
        "uptime": [">100"],
        "_facets": ["signature", "version", "addons"],
    },
    "exact signature with facets": {"signature": ["=OOM | small"], "_facets": ["product", "version", "platform"]},
    "contains search on signature": {"signature": ["~GCMarker"]},
    "date histogram by day with a sub-facet": {"_histogram.date": ["product"], "_results_number": ["0"]},
    "page 5 of a signature's reports": {"signature": ["=OOM | small"], "_results_offset": ["400"]},
    "cardinality of install_time": {"_facets": ["_cardinality.install_time"], "_results_number": ["0"]},
    "crashstats-tools page (1,000 uuids, no facets)": {
        "_columns": ["uuid"],
        "_facets_size": ["0"],
        "_results_number": ["1000"],
        "_sort": ["-date"],
    },
}


def main(url: str, data_dir: str) -> None:
    settings = load_settings(environ={}, data_dir=data_dir, database_url=url, search_timeout=5.0)
    db.migrate(settings)
    crashes = searchdb.generate(seed=7, count=5000, days=7)
    index = CrashIndex(settings)
    written = index.upsert_many((row["uuid"], searchdb.processed_crash(row)) for row in crashes)
    assert written == len(crashes), written
    rows = [searchdb.flat(r) for r in searchdb.index_rows(crashes)]

    for allow in (False, True):
        params = {"url": ["~secret"], "_columns": ["uuid", "url", "signature"], "_facets": ["url", "product"]}
        answer = supersearch(params, allow_protected=allow, now=NOW, settings=settings)
        expected = searchdb.reference(parse(params, catalogue(), allow_protected=allow, now=NOW), rows)
        assert {k: v for k, v in answer.items() if k != "next_cursor"} == expected, allow
        assert ("url" in answer["facets"]) is allow
        assert all(("url" in hit) is allow for hit in answer["hits"])

    timings = {}
    for name, params in TYPICAL.items():
        answer = supersearch(params, allow_protected=False, now=NOW, settings=settings)
        expected = searchdb.reference(parse(params, catalogue(), allow_protected=False, now=NOW), rows)
        assert {k: v for k, v in answer.items() if k != "next_cursor"} == expected, name
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            supersearch(params, allow_protected=False, now=NOW, settings=settings)
            runs.append((time.perf_counter() - started) * 1000)
        timings[name] = round(statistics.median(runs), 1)
    index.close()
    print("ok")
    print(json.dumps(timings))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
