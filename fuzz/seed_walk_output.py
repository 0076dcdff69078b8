"""Seeds for ``fuzz_walk_output.py``: each fixture dump and hostile shared-chain dumps behind an 8-byte limits
header (``fuzz_walk_output._limits``).

    PYTHONPATH=.:src python fuzz/seed_walk_output.py OUT_DIR [extra dumps…]
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.stackwalk.crash_dumps import shared_chain_dump

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "minidump"
HEADERS = (bytes([63, 0x90, 1, 0, 0, 0, 0, 0]), bytes([7, 20, 0, 0x10, 0, 1, 0, 0]))


def main(out: Path, extra: list[Path]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    dumps = {p.name: p.read_bytes() for p in [*sorted(FIXTURES.glob("*.dmp")), *extra]}
    dumps["shared-chain-40.dmp"] = shared_chain_dump(threads=40, chain_bytes=4096, crashing=39)
    dumps["shared-chain-200.dmp"] = shared_chain_dump(threads=200, chain_bytes=1024, crashing=3)
    for name, data in dumps.items():
        for index, header in enumerate(HEADERS):
            (out / f"{name}.{index}").write_bytes(header + data)


if __name__ == "__main__":
    main(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]])
