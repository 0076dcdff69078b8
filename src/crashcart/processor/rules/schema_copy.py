"""Copy annotations into processed fields as the processed-crash schema says (``source_annotation``)."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from crashcart.processor.context import CrashContext
from crashcart.processor.rules._values import INVALID, json_copy, parse_bool, parse_int, parse_json, parse_number
from crashcart.processor.rules.base import Rule
from crashcart.schemas import FieldSpec, Schema

#: Longest string value kept; longer values are cut (with a note) so one annotation cannot bloat indexes.
MAX_STRING_CHARS = 65536

_ADJECTIVE = {
    "integer": "non-integer",
    "number": "non-numeric",
    "boolean": "non-boolean",
    "string": "non-string",
    "datetime": "non-datetime",
    "object": "malformed object",
    "array": "malformed array",
}


def normalize(spec: FieldSpec, value: Any) -> Any:
    """``value`` converted to ``spec.type``, or ``INVALID``."""
    result: Any
    if spec.type == "string":
        result = value.rstrip() if isinstance(value, str) else INVALID
    elif spec.type == "integer":
        result = parse_int(value)
    elif spec.type == "number":
        result = parse_number(value)
    elif spec.type == "boolean":
        result = parse_bool(value)
    elif spec.type == "datetime":
        result = _parse_datetime(value)
    else:
        decoded = parse_json(value)
        wanted = dict if spec.type == "object" else list
        result = json_copy(decoded) if isinstance(decoded, wanted) else INVALID
    return INVALID if result is None else result


def _parse_datetime(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        stamp = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.astimezone(dt.UTC).isoformat()


class CopyFromRawCrashRule(Rule):
    """Copy every schema field that names a ``source_annotation``, normalized to the field's type.

    A value that does not fit the type is dropped with a public note naming the annotation (never the
    value); an absent annotation gets the field's ``default`` when it has one. Strings are right-stripped
    and cut to ``MAX_STRING_CHARS``.
    """

    name: ClassVar[str] = "copy_from_raw"

    def __init__(self, schema: Schema) -> None:
        self._fields = schema.copied_fields()

    def action(self, ctx: CrashContext) -> None:
        for spec in self._fields:
            annotation = spec.source_annotation
            assert annotation is not None  # copied_fields() only returns fields with one
            if annotation not in ctx.raw_crash:
                if spec.default is not None:
                    ctx.processed[spec.name] = json_copy(spec.default)
                continue
            value = normalize(spec, ctx.raw_crash[annotation])
            if value is INVALID:
                ctx.note(f"{annotation} has a {_ADJECTIVE[spec.type]} value; {spec.name} not set")
                continue
            if isinstance(value, str) and len(value) > MAX_STRING_CHARS:
                value = value[:MAX_STRING_CHARS]
                ctx.note(f"{annotation} is longer than {MAX_STRING_CHARS} characters; {spec.name} truncated")
            ctx.processed[spec.name] = value
