"""The one object every processing rule reads and writes.

Socorro passes five loose dicts (raw crash, dumps, processed crash, processor meta, rule config) to every
rule; here they travel together in one typed ``CrashContext``, so a rule's signature says nothing it does not
use and a typo in a field name is a type error, not a silent ``KeyError`` in production.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class CrashContext:
    """One crash being processed.

    ``raw_crash`` is what the collector stored (read-only by convention: rules copy from it, never edit it);
    ``dumps`` maps each dump name (``upload_file_minidump`` first) to a local file; ``processed`` is the
    document being built; ``notes`` are public processor notes (they end up in ``processor_notes`` and must
    never hold protected data such as annotation values); ``ruleset`` is the ruleset name being run.
    """

    crash_id: str
    raw_crash: Mapping[str, Any]
    dumps: Mapping[str, Path] = field(default_factory=dict)
    processed: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    ruleset: str = "default"

    def note(self, text: str) -> None:
        """Add a public processor note (no annotation values: notes are shown to everyone)."""
        self.notes.append(text)
