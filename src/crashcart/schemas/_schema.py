"""Field definitions for raw and processed crashes, loaded from the YAML files in this package.

The YAML files are the one definition: the processor's copy rule, API redaction, search permissions and the
data-dictionary page all read the frozen ``Schema`` objects built here. Loading
validates every entry and names the offending field in the error, so a typo in a deployment's extra-fields
file stops the process at start instead of leaking or dropping data later.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast

import yaml

FieldType = Literal["string", "integer", "number", "boolean", "object", "array", "datetime"]
Permission = Literal["public", "protected"]
SchemaKind = Literal["raw_crash", "processed_crash"]

FIELD_TYPES: tuple[FieldType, ...] = ("string", "integer", "number", "boolean", "object", "array", "datetime")
PERMISSIONS: tuple[Permission, ...] = ("public", "protected")
SCHEMA_KINDS: tuple[SchemaKind, ...] = ("raw_crash", "processed_crash")

_SCALAR_TYPES = frozenset({"string", "integer", "number", "boolean", "datetime"})
_FIELD_KEYS = frozenset(
    {
        "type",
        "description",
        "permission",
        "source_annotation",
        "default",
        "nullable",
        "searchable",
        "deprecated",
        "protected_paths",
        "override",
    }
)
# Raw annotation names come from clients (letters, digits, `_`, `-`, `.`); processed names are snake_case.
_NAME_RE: Mapping[SchemaKind, re.Pattern[str]] = {
    "raw_crash": re.compile(r"[A-Za-z0-9_.\-]{1,100}"),
    "processed_crash": re.compile(r"[a-z][a-z0-9_]{0,99}"),
}
_PATH_STEP_RE = re.compile(r"[A-Za-z0-9_]+(\[\])?")
_MAX_FILE_BYTES = 4 * 1024 * 1024


class SchemaError(ValueError):
    """A schema file is malformed; the message names the file and the field."""


@dataclass(frozen=True)
class FieldSpec:
    """One field of a raw or processed crash."""

    name: str
    type: FieldType
    description: str
    permission: Permission
    source_annotation: str | None = None
    #: Applied by the copy rule when the source annotation is absent; ``None`` means no default.
    default: Any = None
    nullable: bool = False
    searchable: bool = False
    deprecated: bool = False
    #: Dotted sub-paths of an object field that stay protected in a public view (``[]`` steps into lists).
    protected_paths: tuple[str, ...] = ()

    @property
    def is_public(self) -> bool:
        return self.permission == "public"


@dataclass(frozen=True)
class Schema:
    """All known fields of one document kind; anything not listed is protected."""

    kind: SchemaKind
    fields: Mapping[str, FieldSpec] = field(default_factory=lambda: MappingProxyType({}))

    def get(self, name: str) -> FieldSpec | None:
        return self.fields.get(name)

    def is_public(self, name: str) -> bool:
        spec = self.fields.get(name)
        return spec is not None and spec.is_public

    def copied_fields(self) -> tuple[FieldSpec, ...]:
        """Fields filled from an annotation by the copy rule, in schema order."""
        return tuple(spec for spec in self.fields.values() if spec.source_annotation)

    def public_names(self) -> frozenset[str]:
        return frozenset(name for name, spec in self.fields.items() if spec.is_public)


@dataclass(frozen=True)
class Schemas:
    raw_crash: Schema
    processed_crash: Schema

    def __getitem__(self, kind: SchemaKind) -> Schema:
        return self.raw_crash if kind == "raw_crash" else self.processed_crash


def is_public(field_name: str, schema: Schema) -> bool:
    """Whether ``field_name`` is declared public in ``schema`` (undeclared fields are protected)."""
    return schema.is_public(field_name)


def public_view(document: Mapping[str, Any], schema: Schema) -> dict[str, Any]:
    """A copy of ``document`` holding only fields declared public, with protected sub-paths removed.

    Unknown fields are dropped (they are protected). Nested values are copied, never shared, so a caller
    may change the view without touching the stored document.
    """
    view: dict[str, Any] = {}
    for name, value in document.items():
        spec = schema.get(name) if isinstance(name, str) else None
        if spec is None or not spec.is_public:
            continue
        copied = _deep_copy(value)
        for path in spec.protected_paths:
            _remove_path(copied, path.split("."))
        view[name] = copied
    return view


def _deep_copy(value: Any, depth: int = 0) -> Any:
    # JSON-shaped data only; the depth cap keeps hostile nesting from exhausting the stack.
    if depth > 64:
        return None
    if isinstance(value, dict):
        return {k: _deep_copy(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v, depth + 1) for v in value]
    return value


def _remove_path(node: Any, steps: list[str]) -> None:
    if not steps or not isinstance(node, dict):
        return
    step, rest = steps[0], steps[1:]
    into_list = step.endswith("[]")
    key = step[:-2] if into_list else step
    if key not in node:
        return
    if not rest and not into_list:
        del node[key]
        return
    child = node[key]
    if into_list:
        if isinstance(child, list):
            for item in child:
                _remove_path(item, rest)
    else:
        _remove_path(child, rest)


# --- loading ----------------------------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a mapping with a repeated key (YAML would silently keep the last)."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise SchemaError(f"duplicate key {key!r} at line {key_node.start_mark.line + 1}")
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


def _read_yaml(text: str, source: str) -> Any:
    if len(text.encode()) > _MAX_FILE_BYTES:
        raise SchemaError(f"{source}: larger than {_MAX_FILE_BYTES} bytes")
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except SchemaError as exc:
        raise SchemaError(f"{source}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise SchemaError(f"{source}: not valid YAML: {exc}") from exc


def _default_matches(kind: FieldType, value: Any) -> bool:
    if kind in {"string", "datetime"}:
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "object":
        return isinstance(value, dict)
    return isinstance(value, list)


def _parse_field(kind: SchemaKind, name: Any, entry: Any, source: str) -> tuple[FieldSpec, bool]:
    """Validate one entry; returns the spec and its ``override`` flag."""
    if not isinstance(name, str) or not _NAME_RE[kind].fullmatch(name):
        raise SchemaError(f"{source}: {kind} field name {name!r} is not a valid name")
    where = f"{source}: {kind} field {name!r}"
    if not isinstance(entry, dict):
        raise SchemaError(f"{where}: must be a mapping of field keys")
    unknown = sorted(str(key) for key in entry if key not in _FIELD_KEYS)
    if unknown:
        raise SchemaError(f"{where}: unknown key(s) {', '.join(unknown)}")
    type_ = entry.get("type")
    if type_ not in FIELD_TYPES:
        raise SchemaError(f"{where}: type {type_!r} is not one of {', '.join(FIELD_TYPES)}")
    permission = entry.get("permission")
    if permission not in PERMISSIONS:
        raise SchemaError(f"{where}: permission {permission!r} is not one of {', '.join(PERMISSIONS)}")
    description = entry.get("description")
    if not isinstance(description, str) or not description.strip():
        raise SchemaError(f"{where}: description must be a non-empty string")
    source_annotation = entry.get("source_annotation")
    if source_annotation is not None:
        if kind != "processed_crash":
            raise SchemaError(f"{where}: source_annotation is only for processed_crash fields")
        if not isinstance(source_annotation, str) or not _NAME_RE["raw_crash"].fullmatch(source_annotation):
            raise SchemaError(f"{where}: source_annotation {source_annotation!r} is not an annotation name")
    flags: dict[str, bool] = {}
    for key in ("nullable", "searchable", "deprecated", "override"):
        value = entry.get(key, False if key != "searchable" else type_ in _SCALAR_TYPES)
        if not isinstance(value, bool):
            raise SchemaError(f"{where}: {key} must be true or false")
        flags[key] = value
    default = entry.get("default")
    if default is not None and not _default_matches(cast(FieldType, type_), default):
        raise SchemaError(f"{where}: default {default!r} does not match type {type_}")
    paths = entry.get("protected_paths", [])
    if not isinstance(paths, list) or not all(
        isinstance(p, str) and all(_PATH_STEP_RE.fullmatch(s) for s in p.split(".")) for p in paths
    ):
        raise SchemaError(f"{where}: protected_paths must be a list of dotted paths (a.b[].c)")
    if paths and type_ != "object":
        raise SchemaError(f"{where}: protected_paths is only for object fields")
    spec = FieldSpec(
        name=name,
        type=cast(FieldType, type_),
        description=description.strip(),
        permission=cast(Permission, permission),
        source_annotation=source_annotation,
        default=default,
        nullable=flags["nullable"],
        searchable=flags["searchable"],
        deprecated=flags["deprecated"],
        protected_paths=tuple(paths),
    )
    return spec, flags["override"]


def _parse_fields(kind: SchemaKind, fields: Any, source: str) -> dict[str, tuple[FieldSpec, bool]]:
    if not isinstance(fields, dict):
        raise SchemaError(f"{source}: {kind}.fields must be a mapping of field name to definition")
    return {str(name): _parse_field(kind, name, entry, source) for name, entry in fields.items()}


def _parse_builtin(kind: SchemaKind, text: str, source: str) -> Schema:
    doc = _read_yaml(text, source)
    if not isinstance(doc, dict) or doc.get("schema") != kind or set(doc) != {"schema", "fields"}:
        raise SchemaError(f"{source}: expected top-level keys schema: {kind} and fields")
    parsed = _parse_fields(kind, doc["fields"], source)
    overridden = [name for name, (_, override) in parsed.items() if override]
    if overridden:
        raise SchemaError(f"{source}: override is only for a deployment's extra fields ({', '.join(overridden)})")
    return Schema(kind, MappingProxyType({name: spec for name, (spec, _) in parsed.items()}))


def _merge(base: Schema, extra: dict[str, tuple[FieldSpec, bool]], source: str) -> Schema:
    merged = dict(base.fields)
    for name, (spec, override) in extra.items():
        builtin = base.fields.get(name)
        if builtin is not None and not override:
            hint = " and would make it public" if spec.is_public and not builtin.is_public else ""
            raise SchemaError(
                f"{source}: {base.kind} field {name!r} is built in; redefining it{hint} needs override: true"
            )
        merged[name] = spec
    return Schema(base.kind, MappingProxyType(merged))


@functools.cache
def builtin_schemas() -> Schemas:
    """The schemas shipped in this package (read once per process)."""
    package = resources.files(__package__ or "crashcart.schemas")
    loaded = {
        kind: _parse_builtin(kind, (package / f"{kind}.yaml").read_text(encoding="utf-8"), f"{kind}.yaml")
        for kind in SCHEMA_KINDS
    }
    return Schemas(raw_crash=loaded["raw_crash"], processed_crash=loaded["processed_crash"])


def load_schemas(extra_fields_file: Path | None = None) -> Schemas:
    """The built-in schemas, plus a deployment's own fields from ``extra_fields_file`` when given.

    The extra file has optional top-level ``raw_crash:`` and ``processed_crash:`` keys, each holding
    ``fields:`` in the same shape as the built-in files. Redefining a built-in field needs ``override: true``
    on that entry, so a deployment cannot make a protected field public by accident.
    """
    schemas = builtin_schemas()
    if extra_fields_file is None:
        return schemas
    source = str(extra_fields_file)
    try:
        text = extra_fields_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaError(f"{source}: cannot read: {exc}") from exc
    doc = _read_yaml(text, source)
    if doc is None:
        return schemas
    if not isinstance(doc, dict) or not set(doc) <= set(SCHEMA_KINDS):
        raise SchemaError(f"{source}: top-level keys must be raw_crash and/or processed_crash")
    result = {kind: schemas[kind] for kind in SCHEMA_KINDS}
    for kind in SCHEMA_KINDS:
        section = doc.get(kind)
        if section is None:
            continue
        if not isinstance(section, dict) or set(section) != {"fields"}:
            raise SchemaError(f"{source}: {kind} must hold exactly one key, fields")
        result[kind] = _merge(schemas[kind], _parse_fields(kind, section["fields"], source), source)
    return Schemas(raw_crash=result["raw_crash"], processed_crash=result["processed_crash"])
