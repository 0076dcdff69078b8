"""``python -m tests.web.bulk_index COUNT DAYS_AGO PRODUCT``: index COUNT synthetic crashes dated DAYS_AGO days
back through the real index writer, into the database of the environment's settings; prints their ids.

Run as its own process: Django is configured once per process, and the test process must not be tied to
one site's database. Only the index gets these rows (no storage), which is all Super Search reads.
"""

from __future__ import annotations

import datetime as dt
import sys

from crashcart.crashid import create_crash_id
from crashcart.search.writer import CrashIndex
from crashcart.settings import load_settings


def main(count: int, days_ago: int, product: str) -> None:
    index = CrashIndex(load_settings())
    base = dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)
    items = []
    for n in range(count):
        when = base + dt.timedelta(seconds=n)
        crash_id = create_crash_id(when)
        items.append((crash_id, {"uuid": crash_id, "date_processed": when.isoformat(), "product": product}))
    index.upsert_many(items)
    index.close()
    print("\n".join(crash_id for crash_id, _ in items))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
