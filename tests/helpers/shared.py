"""The shared material as tests see it (``devtools/shared.py`` says where it is), and how they skip without it."""

from __future__ import annotations

from devtools.shared import CORPUS, REALCLIENT, REPO, SHARED

__all__ = ["ABSENT_REASON", "CORPUS", "REALCLIENT", "REPO", "SHARED", "corpus_present"]

#: The skip reason of every test that needs the shared corpus.
ABSENT_REASON = f"the shared corpus is not at {CORPUS} (../shared beside the repository)"


def corpus_present() -> bool:
    return (CORPUS / "MANIFEST.tsv").is_file()
