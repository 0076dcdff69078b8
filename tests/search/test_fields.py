"""The Super Search field catalogue against the processed-crash schema and Socorro's field list."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

import pytest

from crashcart.schemas import builtin_schemas
from crashcart.search.fields import COLUMNS, VIEW_PII, CatalogueError, build_catalogue, catalogue

SCHEMA = builtin_schemas().processed_crash

#: Socorro's keys of one field in /api/SuperSearchFields/.
SOCORRO_KEYS = {
    "name",
    "namespace",
    "in_database_name",
    "query_type",
    "data_validation_type",
    "form_field_choices",
    "is_exposed",
    "is_returned",
    "has_full_version",
    "permissions_needed",
    "description",
}

#: Socorro's 17 protected Super Search fields (reference, section 4.2).
SOCORRO_PROTECTED = {
    "phc_kind",
    "phc_base_address",
    "phc_usable_size",
    "phc_alloc_stack",
    "phc_free_stack",
    "collector_notes",
    "dumper_error",
    "glean_client_id",
    "gmp_library_path",
    "has_guard_page_access",
    "java_stack_trace_raw",
    "mac_boot_args",
    "moz_crash_reason_raw",
    "remote_type",
    "soft_errors",
    "url",
    "user_comments",
}


def test_every_source_key_exists_in_the_processed_schema() -> None:
    for field in catalogue().fields.values():
        top, _, rest = field.source_key.partition(".")
        spec = SCHEMA.get(top)
        assert spec is not None, field.name
        assert not rest or spec.type == "object", field.name


def test_permission_and_description_come_from_the_schema() -> None:
    for field in catalogue().fields.values():
        spec = SCHEMA.fields[field.source_key.partition(".")[0]]
        assert field.permission == spec.permission, field.name
        assert spec.description in field.description, field.name
    assert {f.name for f in catalogue().fields.values() if not f.is_public} == SOCORRO_PROTECTED


def test_protected_schema_fields_are_protected_in_the_catalogue() -> None:
    protected = {name for name, spec in SCHEMA.fields.items() if not spec.is_public}
    for field in catalogue().fields.values():
        if field.source_key.partition(".")[0] in protected:
            assert not field.is_public and field.name not in catalogue().public_names(), field.name


def test_socorro_renames_and_counts() -> None:
    cat = catalogue()
    assert len(cat) == 152  # Socorro's 156 less has_mac_boot_args and the three NPAPI plugin_* fields
    renames = {
        "date": "date_processed",
        "platform": "os_name",
        "platform_version": "os_version",
        "platform_pretty_version": "os_pretty_version",
        "build_id": "build",
        "uuid": "uuid",
        "collector_notes": "collector_metadata.collector_notes",
        "memory_explicit": "memory_measures.explicit",
        "memory_vsize_max_contiguous": "memory_measures.vsize_max_contiguous",
    }
    for name, source in renames.items():
        field = cat.get(name)
        assert field is not None and field.source_key == source, name
    assert sum(1 for name in cat.fields if name.startswith("memory_")) == 16
    assert cat.get("os_name") is None and cat.get("nonexistent") is None


def test_types_operators_columns_and_lists() -> None:
    cat = catalogue()
    date, signature, uptime, startup = (
        cat.fields["date"],
        cat.fields["signature"],
        cat.fields["uptime"],
        cat.fields["startup_crash"],
    )
    assert date.query_type == "date" and date.histogrammable and "" not in date.operators and ">=" in date.operators
    assert signature.query_type == "string" and {"=", "~", "^", "$", "@", "__null__", ""} <= signature.operators
    assert signature.has_full_version and signature.facetable and not signature.histogrammable
    assert uptime.histogrammable and ">" in uptime.operators and "~" not in uptime.operators
    assert startup.operators == frozenset({"__true__", "__null__"})
    assert cat.fields["addons_checked"].query_type == "enum" and cat.fields["addons_checked"].validation_type == "bool"
    assert cat.fields["uptime_ts"].query_type == "float"
    assert {name for name, f in cat.fields.items() if f.column} == COLUMNS
    assert all(f.column in (None, f.name) for f in cat.fields.values())
    lists = {name for name, f in cat.fields.items() if f.is_list}
    assert {"addons", "crash_report_keys", "modules_in_stack", "missing_symbols", "topmost_filenames"} <= lists
    assert not lists & COLUMNS  # typed columns hold scalars


def test_supersearch_fields_has_socorros_shape() -> None:
    body = catalogue().supersearch_fields()
    assert set(body) == set(catalogue().fields)
    for name, field in body.items():
        assert set(field) == SOCORRO_KEYS, name
        assert field["name"] == name and field["is_exposed"] and field["is_returned"]
        assert field["permissions_needed"] == ([VIEW_PII] if name in SOCORRO_PROTECTED else []), name
        assert field["description"]
    assert body["date"]["in_database_name"] == "date_processed" and body["date"]["namespace"] == "processed_crash"
    assert body["memory_gfx_textures"]["namespace"] == "processed_crash.memory_measures"
    assert body["memory_gfx_textures"]["in_database_name"] == "gfx_textures"
    assert body["collector_notes"]["namespace"] == "processed_crash"
    assert body["process_type"]["form_field_choices"] == [
        "content",
        "gpu",
        "parent",
        "plugin",
        "rdd",
        "socket",
        "utility",
    ]


def test_a_field_missing_from_the_schema_fails_the_build() -> None:
    fields = dict(SCHEMA.fields)
    del fields["os_name"]
    with pytest.raises(CatalogueError, match="'os_name' is not in the processed-crash schema"):
        build_catalogue(replace(SCHEMA, fields=MappingProxyType(fields)))
    not_object = dict(SCHEMA.fields)
    not_object["memory_measures"] = replace(SCHEMA.fields["memory_measures"], type="string")
    with pytest.raises(CatalogueError, match="not an object"):
        build_catalogue(replace(SCHEMA, fields=MappingProxyType(not_object)))


def test_a_deployment_override_of_permission_follows_into_the_catalogue() -> None:
    fields = dict(SCHEMA.fields)
    fields["product"] = replace(SCHEMA.fields["product"], permission="protected")
    cat = build_catalogue(replace(SCHEMA, fields=MappingProxyType(fields)))
    assert cat.fields["product"].permission == "protected"
    assert cat.supersearch_fields()["product"]["permissions_needed"] == [VIEW_PII]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("signature string str - -\nsignature string str - -", "listed twice"),
        ("signature text str - -", "unknown type"),
        ("signature string str - fast", "unknown flag"),
        ("signature string str", "expected 5 columns"),
        ("signature string str - -", "typed columns without a search field"),
    ],
)
def test_malformed_tables_are_refused(table: str, message: str) -> None:
    with pytest.raises(CatalogueError, match=message):
        build_catalogue(SCHEMA, table)


def test_catalogue_is_built_once_and_immutable() -> None:
    assert catalogue() is catalogue()
    with pytest.raises(TypeError):
        catalogue().fields["x"] = catalogue().fields["date"]  # type: ignore[index]


def test_source_roots_are_the_top_level_fields_read() -> None:
    roots = catalogue().source_roots
    assert {"date_processed", "os_name", "build", "memory_measures", "collector_metadata", "uuid"} <= roots
    assert "json_dump" not in roots and "memory_explicit" not in roots
    assert len(roots) < len(catalogue())  # the 16 memory_* fields share one root
