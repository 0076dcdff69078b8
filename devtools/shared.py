"""Where the team's shared material lives: ``../shared`` beside the repository, never an absolute path.

Tests, the conformance report and benchmarks find the corpus relative to this checkout, so a fresh clone on any
machine (CI clones into a folder of its own, with ``shared/`` beside it) uses the same files.
``tests/test_house_rules.py`` fails if a file names an absolute path to it.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"
REALCLIENT = SHARED / "tools" / "realclient"
