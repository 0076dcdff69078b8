"""The Super Search field catalogue: every field of the crash index, by Socorro's Super Search name.

One table below says what the schemas cannot: the Super Search name (Socorro's, Appendix A of the reference,
e.g. ``date`` for ``date_processed``, ``platform`` for ``os_name``, ``build_id`` for ``build``), the source key
in the processed crash, Socorro's query and validation types, and whether the field has Socorro's exact-match
``.full`` sub-field or is list-valued. Permission and description are read from ``crashcart.schemas`` when the
catalogue is built, so they are never a second copy; a source key the processed-crash schema does not define
is an error at build time (``CatalogueError``).

The index writer (``search.writer``) stores every field here, public and protected; the query layer enforces
permissions. ``/api/SuperSearchFields/`` serves ``Catalogue.supersearch_fields()``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal, cast, get_args

from crashcart.schemas import Schema, builtin_schemas

QueryType = Literal["string", "enum", "integer", "float", "date", "bool"]
ValidationType = Literal["str", "enum", "int", "float", "datetime", "bool"]

#: Socorro's permission name for protected data (``crashstats.view_pii``).
VIEW_PII = "crashstats.view_pii"

#: Typed columns of ``search.models.Crash`` (named as the catalogue); every other field is in ``Crash.data``.
COLUMNS: frozenset[str] = frozenset(
    {
        "uuid",
        "date",
        "product",
        "version",
        "release_channel",
        "platform",
        "platform_version",
        "cpu_arch",
        "process_type",
        "report_type",
        "signature",
        "reason",
        "address",
        "build_id",
        "major_version",
        "uptime",
        "install_age",
        "install_time",
    }
)

#: Fields whose value is a list: an array in the processed crash, or Socorro's ``semicolon_keywords`` text
#: (``a;b;c``) split into its items. A "has term" filter matches one element.
SEMICOLON_LISTS: frozenset[str] = frozenset(
    {"app_init_dlls", "missing_symbols", "modules_in_stack", "topmost_filenames"}
)

#: Socorro's ``form_field_choices`` (the search form's drop-down); empty for every other field.
_CHOICES: Mapping[str, tuple[str, ...]] = {
    "process_type": ("content", "gpu", "parent", "plugin", "rdd", "socket", "utility"),
}

# Socorro's operator prefixes per validation type ("!" negates any of them). "" is "has terms".
_STRING_OPS = frozenset({"", "=", "~", "^", "$", "@", "__null__"})
_RANGE_OPS = frozenset({"", ">", ">=", "<", "<=", "__null__"})
OPERATORS: Mapping[ValidationType, frozenset[str]] = MappingProxyType(
    {
        "str": _STRING_OPS,
        "enum": frozenset({"", "__null__"}),
        "int": _RANGE_OPS,
        "float": _RANGE_OPS,
        "datetime": frozenset({">", ">=", "<", "<=", "__null__"}),
        "bool": frozenset({"__true__", "__null__"}),
    }
)

# name, query type, validation type, source key ("-": the name), flags ("full": Socorro's exact-match
# sub-field; "list": list-valued). Socorro's 156 fields less the four our processor never writes
# (has_mac_boot_args and the NPAPI plugin_filename/plugin_name/plugin_version).
_TABLE = """
abort_message                       string  str      -                                     full
accessibility                       bool    bool     -                                     -
accessibility_client                string  str      -                                     -
accessibility_in_proc_client        string  str      -                                     -
adapter_device_id                   string  str      -                                     -
adapter_driver_version              string  str      -                                     full
adapter_subsys_id                   string  str      -                                     full
adapter_vendor_id                   string  str      -                                     -
addons                              string  str      -                                     list
addons_checked                      enum    bool     -                                     -
address                             string  str      -                                     -
android_board                       enum    enum     -                                     full
android_brand                       enum    enum     -                                     full
android_cpu_abi                     enum    enum     -                                     -
android_cpu_abi2                    enum    enum     -                                     -
android_device                      enum    enum     -                                     -
android_display                     enum    enum     -                                     full
android_fingerprint                 enum    enum     -                                     full
android_hardware                    enum    enum     -                                     full
android_manufacturer                enum    enum     -                                     -
android_model                       string  str      -                                     full
android_packagename                 string  str      -                                     -
android_version                     string  str      -                                     -
app_init_dlls                       string  str      -                                     list
app_notes                           string  str      -                                     full
application_build_id                integer int      -                                     -
async_shutdown_timeout              string  str      -                                     full
available_page_file                 integer int      -                                     -
available_physical_memory           integer int      -                                     -
available_virtual_memory            integer int      -                                     -
background_task_name                string  str      -                                     -
build_id                            integer int      build                                 -
co_marshal_interface_failure        enum    enum     -                                     full
collector_notes                     string  str      collector_metadata.collector_notes    full
content_sandbox_capabilities        integer int      -                                     -
content_sandbox_capable             bool    bool     -                                     -
content_sandbox_enabled             bool    bool     -                                     -
content_sandbox_level               integer int      -                                     -
cpu_arch                            enum    enum     -                                     -
cpu_count                           integer int      -                                     -
cpu_info                            string  str      -                                     full
cpu_microcode_version               enum    enum     -                                     full
crash_inconsistencies               string  str      -                                     list
crash_report_keys                   string  str      -                                     list
crashing_thread                     integer int      -                                     -
crashing_thread_name                string  str      -                                     -
date                                date    datetime date_processed                        -
distribution_id                     string  str      -                                     -
dom_fission_enabled                 bool    bool     -                                     -
dom_ipc_enabled                     bool    bool     -                                     -
dumper_error                        string  str      -                                     full
em_check_compatibility              bool    bool     -                                     -
glean_client_id                     string  str      -                                     -
gmp_library_path                    string  str      -                                     -
gmp_plugin                          bool    bool     -                                     -
graphics_critical_error             string  str      -                                     full
graphics_startup_test               bool    bool     -                                     -
hang                                string  str      -                                     -
has_device_touch_screen             bool    bool     -                                     -
has_guard_page_access               bool    bool     -                                     -
install_age                         integer int      -                                     -
install_time                        integer int      -                                     -
ipc_channel_error                   string  str      -                                     full
ipc_fatal_error_msg                 string  str      -                                     full
ipc_fatal_error_protocol            string  str      -                                     full
ipc_message_name                    string  str      -                                     full
ipc_message_size                    integer int      -                                     -
ipc_shutdown_state                  enum    enum     -                                     -
ipc_system_error                    integer int      -                                     -
is_garbage_collecting               bool    bool     -                                     -
java_stack_trace                    string  str      -                                     full
java_stack_trace_raw                string  str      -                                     full
js_large_allocation_failure         string  str      -                                     -
last_crash                          integer int      -                                     -
last_error_value                    string  str      -                                     -
mac_available_memory_sysctl         integer int      -                                     -
mac_boot_args                       string  str      -                                     full
mac_crash_info                      string  str      -                                     full
mac_memory_pressure                 string  str      -                                     -
mac_memory_pressure_sysctl          integer int      -                                     -
major_version                       integer int      -                                     -
marionette                          bool    bool     -                                     -
memory_explicit                     integer int      memory_measures.explicit              -
memory_gfx_textures                 integer int      memory_measures.gfx_textures          -
memory_ghost_windows                integer int      memory_measures.ghost_windows         -
memory_heap_allocated               integer int      memory_measures.heap_allocated        -
memory_heap_overhead                integer int      memory_measures.heap_overhead         -
memory_heap_unclassified            integer int      memory_measures.heap_unclassified     -
memory_host_object_urls             integer int      memory_measures.host_object_urls      -
memory_images                       integer int      memory_measures.images                -
memory_js_main_runtime              integer int      memory_measures.js_main_runtime       -
memory_private                      integer int      memory_measures.private               -
memory_resident                     integer int      memory_measures.resident              -
memory_resident_unique              integer int      memory_measures.resident_unique       -
memory_system_heap_allocated        integer int      memory_measures.system_heap_allocated -
memory_top_none_detached            integer int      memory_measures.top_none_detached     -
memory_vsize                        integer int      memory_measures.vsize                 -
memory_vsize_max_contiguous         integer int      memory_measures.vsize_max_contiguous  -
minidump_sha256_hash                string  str      -                                     full
missing_symbols                     string  str      -                                     list
modules_in_stack                    string  str      -                                     list
moz_crash_reason                    string  str      -                                     full
moz_crash_reason_raw                string  str      -                                     full
oom_allocation_size                 integer int      -                                     -
phc_alloc_stack                     string  str      -                                     full
phc_base_address                    string  str      -                                     full
phc_free_stack                      string  str      -                                     full
phc_kind                            string  str      -                                     -
phc_usable_size                     integer int      -                                     -
platform                            enum    enum     os_name                               full
platform_pretty_version             string  str      os_pretty_version                     full
platform_version                    string  str      os_version                            full
possible_bit_flips_max_confidence   integer int      -                                     -
process_type                        string  str      -                                     -
processor_notes                     string  str      -                                     full
product                             enum    enum     -                                     full
productid                           enum    enum     -                                     -
proto_signature                     string  str      -                                     full
quota_manager_shutdown_timeout      string  str      -                                     full
reason                              string  str      -                                     full
release_channel                     enum    enum     -                                     -
remote_agent                        bool    bool     -                                     -
remote_type                         enum    enum     -                                     -
report_type                         string  str      -                                     -
safe_mode                           bool    bool     -                                     -
shutdown_progress                   string  str      -                                     full
shutdown_reason                     string  str      -                                     -
signature                           string  str      -                                     full
soft_errors                         string  str      -                                     -
stackwalk_version                   string  str      -                                     -
startup_crash                       bool    bool     -                                     -
startup_time                        integer int      -                                     -
submitted_from                      string  str      -                                     -
system_memory_use_percentage        integer int      -                                     -
thread_count                        integer int      -                                     -
throttleable                        bool    bool     -                                     -
topmost_filenames                   string  str      -                                     list
total_page_file                     integer int      -                                     -
total_physical_memory               integer int      -                                     -
total_virtual_memory                integer int      -                                     -
uptime                              integer int      -                                     -
uptime_ts                           float   float    -                                     -
url                                 string  str      -                                     -
user_comments                       string  str      -                                     full
useragent_locale                    enum    enum     -                                     -
utility_actors_name                 string  str      -                                     list
utility_process_sandboxing_kind     integer int      -                                     -
uuid                                enum    enum     -                                     -
vendor                              enum    enum     -                                     full
version                             enum    enum     -                                     -
windows_error_reporting             bool    bool     -                                     -
xpcom_spin_event_loop_stack         string  str      -                                     -
"""


class CatalogueError(ValueError):
    """The catalogue table and the processed-crash schema disagree (a missing or malformed field)."""


@dataclass(frozen=True)
class SearchField:
    """One Super Search field."""

    name: str
    #: Dotted path in the processed crash: ``date_processed``, ``os_name``, ``memory_measures.explicit``.
    source_key: str
    query_type: QueryType
    permission: Literal["public", "protected"]
    description: str
    #: Typed column of ``search.models.Crash``, or None: the value is in ``Crash.data[name]``.
    column: str | None
    is_list: bool
    facetable: bool
    histogrammable: bool
    #: Allowed operator prefixes ("" = has terms); "!" negates any of them.
    operators: frozenset[str]
    #: Socorro's ``data_validation_type`` (``addons_checked`` is an enum query validated as a bool).
    validation_type: ValidationType = "str"
    has_full_version: bool = False
    form_field_choices: tuple[str, ...] = ()

    @property
    def is_public(self) -> bool:
        return self.permission == "public"

    @property
    def namespace(self) -> str:
        """Socorro's ``namespace``: ``processed_crash`` plus the parent path of a nested source key."""
        parent = self.source_key.rpartition(".")[0]
        if self.name == "collector_notes":  # Socorro names it in processed_crash, sourced from collector_metadata
            parent = ""
        return "processed_crash" + (f".{parent}" if parent else "")

    @property
    def in_database_name(self) -> str:
        return self.source_key.rpartition(".")[2]

    def supersearch(self) -> dict[str, Any]:
        """This field in ``/api/SuperSearchFields/``'s shape (Socorro's keys)."""
        return {
            "name": self.name,
            "namespace": self.namespace,
            "in_database_name": self.in_database_name,
            "query_type": self.query_type,
            "data_validation_type": self.validation_type,
            "form_field_choices": list(self.form_field_choices),
            "is_exposed": True,
            "is_returned": True,
            "has_full_version": self.has_full_version,
            "permissions_needed": [] if self.is_public else [VIEW_PII],
            "description": self.description,
        }


class Catalogue:
    """Every Super Search field by name, immutable."""

    def __init__(self, fields: Mapping[str, SearchField]) -> None:
        self.fields: Mapping[str, SearchField] = MappingProxyType(dict(fields))

    def get(self, name: str) -> SearchField | None:
        return self.fields.get(name)

    def public_names(self) -> frozenset[str]:
        return frozenset(name for name, spec in self.fields.items() if spec.is_public)

    @functools.cached_property
    def source_roots(self) -> frozenset[str]:
        """The top-level processed-crash fields the catalogue reads (all a reader of storage needs to decode)."""
        return frozenset(spec.source_key.partition(".")[0] for spec in self.fields.values())

    def supersearch_fields(self) -> dict[str, dict[str, Any]]:
        """The body of ``/api/SuperSearchFields/``: ``{name: field}`` in Socorro's shape."""
        return {name: spec.supersearch() for name, spec in self.fields.items()}

    def __len__(self) -> int:
        return len(self.fields)


@dataclass(frozen=True)
class _Row:
    name: str
    query_type: QueryType
    validation_type: ValidationType
    source_key: str
    full: bool
    is_list: bool


def _rows(text: str = _TABLE) -> list[_Row]:
    rows = []
    for number, line in enumerate(text.strip().splitlines(), 1):
        parts = line.split()
        if len(parts) != 5:
            raise CatalogueError(f"catalogue table line {number}: expected 5 columns: {line!r}")
        name, query_type, validation, source, flags = parts
        if query_type not in get_args(QueryType) or validation not in OPERATORS:
            raise CatalogueError(f"catalogue table line {number}: unknown type in {line!r}")
        flag_set = set() if flags == "-" else set(flags.split(","))
        if not flag_set <= {"full", "list"}:
            raise CatalogueError(f"catalogue table line {number}: unknown flag in {line!r}")
        rows.append(
            _Row(
                name=name,
                query_type=cast(QueryType, query_type),
                validation_type=cast(ValidationType, validation),
                source_key=name if source == "-" else source,
                full="full" in flag_set,
                is_list="list" in flag_set,
            )
        )
    return rows


def _describe(source_key: str, schema: Schema) -> tuple[Literal["public", "protected"], str]:
    """Permission and description of ``source_key`` from the schema; a nested key takes its parent's."""
    top, _, rest = source_key.partition(".")
    spec = schema.get(top)
    if spec is None:
        raise CatalogueError(f"search field source {source_key!r}: {top!r} is not in the processed-crash schema")
    if rest and spec.type != "object":
        raise CatalogueError(f"search field source {source_key!r}: {top!r} is a {spec.type}, not an object")
    if not rest:
        return spec.permission, spec.description
    return spec.permission, f"`{rest}` of `{top}`: {spec.description}"


def build_catalogue(schema: Schema, table: str = _TABLE) -> Catalogue:
    """The catalogue for ``schema`` (the processed-crash schema, a deployment's extra fields included)."""
    fields: dict[str, SearchField] = {}
    for row in _rows(table):
        if row.name in fields:
            raise CatalogueError(f"search field {row.name!r} is listed twice")
        permission, description = _describe(row.source_key, schema)
        fields[row.name] = SearchField(
            name=row.name,
            source_key=row.source_key,
            query_type=row.query_type,
            permission=permission,
            description=description,
            column=row.name if row.name in COLUMNS else None,
            is_list=row.is_list,
            facetable=row.query_type != "date",
            histogrammable=row.query_type in ("date", "integer", "float"),
            operators=OPERATORS[row.validation_type],
            validation_type=row.validation_type,
            has_full_version=row.full,
            form_field_choices=_CHOICES.get(row.name, ()),
        )
    missing = COLUMNS - set(fields)
    if missing:
        raise CatalogueError(f"typed columns without a search field: {', '.join(sorted(missing))}")
    return Catalogue(fields)


@functools.cache
def catalogue() -> Catalogue:
    """The catalogue of the built-in schemas, built once per process."""
    return build_catalogue(builtin_schemas().processed_crash)
