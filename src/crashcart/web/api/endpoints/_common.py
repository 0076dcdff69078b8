"""What several endpoint modules share: crash-id checks, Socorro's error bodies, the schemas of a deployment."""

from __future__ import annotations

import functools
from pathlib import Path

from crashcart.crashid import is_crash_id
from crashcart.schemas import Schemas, load_schemas
from crashcart.web.api.base import APIError

VIEW_PII = "view_pii"
VIEW_RAWDUMP = "view_rawdump"
REPROCESS_CRASHES = "reprocess_crashes"


def bad_argument(message: str) -> APIError:
    """Socorro's 400 for a ``BadArgumentError`` (the body crashstats-tools prints after ``HTTP 400:``)."""
    return APIError(400, {"error": f"Bad request: BadArgumentError: {message}"})


def not_found(crash_id: str) -> APIError:
    """Socorro's 404 for a crash that storage does not have."""
    return APIError(404, {"error": f"Not found: CrashIDNotFound {crash_id}"})


def checked_crash_id(value: object, param: str = "crash_id") -> str:
    """``value`` if it is a crash id (Socorro's shape, a real date), else the 400 Socorro gives.

    Checked before storage is touched: a malformed id never reaches a key, and the message echoes only the
    parameter's name, never the (attacker-chosen) value.
    """
    if not isinstance(value, str) or not is_crash_id(value):
        raise bad_argument(f"Bad value for parameter(s) '{param}'")
    return value


def storable(values: list[str]) -> list[str]:
    """The values a text column can hold: PostgreSQL refuses NUL in text (an error, not a miss), and no
    signature or product contains one, so such a value can only match nothing and is dropped here."""
    return [value for value in values if "\x00" not in value]


@functools.cache
def schemas(extra_fields: Path | None) -> Schemas:
    """The deployment's schemas (built-in plus its extra-fields file), read once per process."""
    return load_schemas(extra_fields)
