"""The processed crash as siggen's input document (siggen's ``schema.rst``).

siggen ships the conversion Socorro uses (``siggen.utils.convert_to_crash_data``): crashing thread, reason,
threads and OS from ``json_dump``, plus the annotations its rules read (``abort_message``,
``oom_allocation_size``, ``hang``, ``mdsw_status_string``, …). It is used as is, so signatures match
Socorro's for the same processed crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from siggen.utils import convert_to_crash_data  # type: ignore[import-untyped]


def signature_data(processed: Mapping[str, Any]) -> dict[str, Any]:
    """siggen's crash data for a processed crash (a new dict; ``processed`` is not changed)."""
    data: dict[str, Any] = convert_to_crash_data(dict(processed))
    return data
