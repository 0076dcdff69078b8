"""Where the team's shared material lives: ``../shared`` beside the repository.

Tests and benchmarks find it relative to this checkout, so a fresh clone on any machine (CI clones into a folder
of its own, with ``shared/`` beside it) uses the same corpus; a test that needs it skips with
:data:`ABSENT_REASON` when it is not there. ``tests/test_house_rules.py`` fails if a file names an absolute path.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"
REALCLIENT = SHARED / "tools" / "realclient"

#: The skip reason of every test that needs the shared corpus.
ABSENT_REASON = f"the shared corpus is not at {CORPUS} (../shared beside the repository)"


def corpus_present() -> bool:
    return (CORPUS / "MANIFEST.tsv").is_file()
