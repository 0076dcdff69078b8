"""Coverage-guided fuzzing of the walker's bounded output with atheris (issue #9 point 5).

    pip install atheris
    python fuzz/fuzz_walk_output.py -max_total_time=600 -rss_limit_mb=2048 [corpus_dir]

Seed the corpus directory with real dumps (``tests/fixtures/minidump/*.dmp``, small corpus dumps) and the
hostile shared-chain dumps ``fuzz/seed_walk_output.py`` writes. The first bytes of each input choose small
limits (frames per thread and per dump, output size, which output); the rest is the dump, walked through the
production entry point (``Stackwalker.walk_json`` / ``walk_text``, no symbols). A failure is any exception but
``DumpUnreadable``, frames beyond either frame limit, output over the size cap unless nothing optional is left
in it (the crashing thread and the dump-level parts are always kept), or an input slower than five seconds.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import atheris  # type: ignore[import-not-found,import-untyped,unused-ignore]

with atheris.instrument_imports():
    from crashcart.stackwalk import WalkOptions
    from crashcart.stackwalk.stackwalker import DumpUnreadable, Stackwalker, WalkerConfig

_DUMP = Path(tempfile.mkdtemp(prefix="fuzz-walk-")) / "input.dmp"


def _limits(header: bytes) -> tuple[WalkOptions, bool]:
    max_frames = 1 + header[0] % 64
    max_total_frames = 1 + (header[1] | header[2] << 8) % 400
    max_output_size = 2048 + (header[3] | header[4] << 8) * 4
    options = WalkOptions(
        max_frames=max_frames, max_total_frames=max_total_frames, max_output_size=max_output_size, max_seconds=2.0
    )
    return options, bool(header[5] & 1)


def check_json(doc: dict[str, object], options: WalkOptions, size: int) -> None:
    threads = doc.get("threads")
    assert isinstance(threads, list), doc.keys()
    counts = [len(t["frames"]) for t in threads]
    assert all(c <= options.max_frames for c in counts), (counts, options)
    assert sum(counts) <= options.max_total_frames, (sum(counts), options)
    if size > options.max_output_size:
        # over the cap only with what is always kept: the crashing thread (and the dump-level parts)
        assert len(threads) <= 1, (size, len(threads), options)


def check_text(text: str, options: WalkOptions) -> None:
    found = text.count("    Found by: ") - text.count("    Found by: inline record")
    assert found <= options.max_total_frames, (found, options)
    if len(text) > options.max_output_size:
        assert text.count("\nThread ") <= 1, (len(text), options)


def test_one_input(data: bytes) -> None:
    if len(data) < 8:
        return
    options, as_text = _limits(data[:8])
    _DUMP.write_bytes(data[8:])
    started = time.monotonic()
    stackwalker = Stackwalker(WalkerConfig(options=options))
    try:
        if as_text:
            check_text(stackwalker.walk_text(_DUMP), options)
        else:
            doc = stackwalker.walk_json(_DUMP)
            check_json(doc, options, len(json.dumps(doc, indent=2)))
    except DumpUnreadable:
        return
    finally:
        stackwalker.close()
    elapsed = time.monotonic() - started
    if elapsed > 5.0:
        raise AssertionError(f"input took {elapsed:.1f} s")


def main() -> None:
    os.environ.setdefault("CRASHCART_LOG_LEVEL", "ERROR")
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
