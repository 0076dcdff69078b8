"""After a load run: check every crash id the load generator saw answered is complete in storage.

usage: integrity.py DATA_DIR RAW_RESULTS_DIR LABEL [GLOB...]   (prints one JSON line)

GLOBs (relative to RAW_RESULTS_DIR, e.g. ``fs-gzip/crashids-c32-*``) limit the check to the runs whose store
DATA_DIR is; without them every ``LABEL-*/crashids-*`` file is checked.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from crashcart.settings import load_settings
from crashcart.storage import open_storage


def main() -> None:
    data_dir, raw_dir, label = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    patterns = sys.argv[4:] or [f"{label}-*/crashids-*"]
    overrides = {}
    if label == "s3":
        overrides = {
            "CRASHCART_STORAGE_URL": "s3://crashcart-bench/crashes",
            "CRASHCART_S3_ENDPOINT_URL": "http://127.0.0.1:8310",
            "CRASHCART_S3_ACCESS_KEY_ID": "bench",
            "CRASHCART_S3_SECRET_ACCESS_KEY": "bench",
        }
    storage = open_storage(load_settings({"CRASHCART_DATA_DIR": str(data_dir), **overrides}), None)
    returned: set[str] = set()
    for log in (path for pattern in patterns for path in raw_dir.glob(pattern)):
        returned.update(line.strip().removeprefix("bp-") for line in log.read_text().split() if line.strip())
    missing = [cid for cid in returned if not storage.has_raw_crash(cid)]
    print(
        json.dumps(
            {
                "target": label,
                "runs": patterns,
                "returned": len(returned),
                "returned_but_missing": len(missing),
                "examples": missing[:5],
            }
        )
    )


if __name__ == "__main__":
    main()
