from __future__ import annotations

from pathlib import Path

import pytest

from crashcart.schemas import (
    SchemaError,
    builtin_schemas,
    is_public,
    load_schemas,
    public_view,
    render_data_dictionary,
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "extra.yaml"
    path.write_text(text)
    return path


def test_builtin_schemas_cover_socorro_names() -> None:
    schemas = load_schemas()
    raw, processed = schemas.raw_crash, schemas.processed_crash
    for name in ("ProductName", "Version", "ReleaseChannel", "BuildID", "CrashTime", "InstallTime", "StartupTime"):
        assert raw.is_public(name), name
    for name in ("URL", "Email", "Comments", "UserComments", "JavaStackTrace", "metadata"):
        assert raw.get(name) is not None and not raw.is_public(name), name
    for name in (
        "signature",
        "product",
        "version",
        "release_channel",
        "build",
        "date_processed",
        "crash_time",
        "install_age",
        "uptime",
        "last_crash",
        "os_name",
        "os_version",
        "cpu_arch",
        "cpu_info",
        "reason",
        "address",
        "crashing_thread",
        "json_dump",
        "processor_notes",
        "major_version",
    ):
        assert processed.is_public(name), name
    for name in ("url", "user_comments", "email", "collector_metadata", "java_stack_trace_raw", "signature_debug"):
        assert not processed.is_public(name), name
    assert processed.fields["product"].source_annotation == "ProductName"
    assert processed.fields["user_comments"].source_annotation == "Comments"


def test_every_source_annotation_is_a_known_raw_field() -> None:
    schemas = builtin_schemas()
    for spec in schemas.processed_crash.copied_fields():
        assert schemas.raw_crash.get(spec.source_annotation or "") is not None, spec.name


def test_searchable_defaults_to_scalars() -> None:
    processed = builtin_schemas().processed_crash
    assert processed.fields["signature"].searchable
    assert not processed.fields["json_dump"].searchable
    assert processed.fields["crash_report_keys"].searchable


def test_schemas_are_frozen() -> None:
    schemas = builtin_schemas()
    with pytest.raises(TypeError):
        schemas.processed_crash.fields["x"] = schemas.processed_crash.fields["signature"]  # type: ignore[index]


def test_is_public_unknown_is_protected() -> None:
    processed = builtin_schemas().processed_crash
    assert is_public("signature", processed)
    assert not is_public("url", processed)
    assert not is_public("NotDeclaredAnywhere", processed)


def test_public_view_drops_protected_and_unknown_and_nested_paths() -> None:
    processed = builtin_schemas().processed_crash
    doc = {
        "signature": "foo",
        "url": "https://secret.example",
        "mystery": 1,
        "json_dump": {
            "threads": [{"frames": [{"function": "f", "registers": {"rip": "0x1"}}]}],
            "crashing_thread": {"frames": [{"registers": {}, "function": "g"}]},
            "mac_boot_args": "-v",
            "crash_info": {"memory_accesses": [{"address": "0x0", "is_likely_guard_page": True}]},
        },
    }
    view = public_view(doc, processed)
    assert set(view) == {"signature", "json_dump"}
    assert view["json_dump"]["threads"][0]["frames"][0] == {"function": "f"}
    assert view["json_dump"]["crashing_thread"]["frames"][0] == {"function": "g"}
    assert "mac_boot_args" not in view["json_dump"]
    assert view["json_dump"]["crash_info"]["memory_accesses"] == [{"address": "0x0"}]
    # the stored document is untouched
    assert doc["json_dump"]["threads"][0]["frames"][0]["registers"] == {"rip": "0x1"}  # type: ignore[index]


def test_extra_fields_are_merged(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
raw_crash:
  fields:
    GameLevel: {type: integer, permission: public, description: Level being played.}
processed_crash:
  fields:
    game_level: {type: integer, permission: public, description: Level., source_annotation: GameLevel}
""",
    )
    schemas = load_schemas(path)
    assert schemas.raw_crash.is_public("GameLevel")
    assert schemas.processed_crash.fields["game_level"].source_annotation == "GameLevel"
    assert schemas.processed_crash.fields["game_level"].searchable
    assert "signature" in schemas.processed_crash.fields
    assert "game_level" not in builtin_schemas().processed_crash.fields


def test_extra_fields_cannot_silently_make_builtin_public(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "processed_crash:\n  fields:\n    url: {type: string, permission: public, description: x}\n",
    )
    with pytest.raises(SchemaError, match=r"'url' is built in.*would make it public.*override: true"):
        load_schemas(path)


def test_extra_fields_override_is_explicit(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "processed_crash:\n  fields:\n    url: {type: string, permission: public, description: x, override: true}\n",
    )
    assert load_schemas(path).processed_crash.is_public("url")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{type: text, permission: public, description: x}", r"'Foo'.*type 'text'"),
        ("{type: string, permission: secret, description: x}", r"'Foo'.*permission 'secret'"),
        ("{type: string, permission: public}", r"'Foo'.*description"),
        ("{type: string, permisson: public, description: x}", r"'Foo'.*unknown key.*permisson"),
        ("{type: integer, permission: public, description: x, default: 'a'}", r"'Foo'.*default"),
        ("{type: string, permission: public, description: x, source_annotation: A}", r"'Foo'.*source_annotation"),
        ("{type: string, permission: public, description: x, searchable: 1}", r"'Foo'.*searchable"),
    ],
)
def test_bad_fields_name_the_field(tmp_path: Path, entry: str, message: str) -> None:
    path = write(tmp_path, f"raw_crash:\n  fields:\n    Foo: {entry}\n")
    with pytest.raises(SchemaError, match=message):
        load_schemas(path)


@pytest.mark.parametrize(
    "text",
    [
        "raw_crash: [1]\n",
        "other: {fields: {}}\n",
        "raw_crash:\n  fields:\n    Foo: {type: string, permission: public, description: a}\n"
        "    Foo: {type: string, permission: public, description: b}\n",
        "raw_crash: {fields: {'bad name!': {type: string, permission: public, description: x}}}\n",
        "processed_crash: {fields: {Bad: {type: string, permission: public, description: x}}}\n",
        ": : :\n",
    ],
)
def test_malformed_extra_files_are_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(SchemaError, match=r"extra\.yaml"):
        load_schemas(write(tmp_path, text))


def test_missing_extra_file(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="cannot read"):
        load_schemas(tmp_path / "nope.yaml")


def test_empty_extra_file_is_builtin(tmp_path: Path) -> None:
    assert load_schemas(write(tmp_path, "")) == builtin_schemas()


def test_data_dictionary_lists_every_field() -> None:
    page = render_data_dictionary()
    schemas = builtin_schemas()
    for name in [*schemas.raw_crash.fields, *schemas.processed_crash.fields]:
        assert f"| `{name}` |" in page
    assert "| `url` | string | protected | `URL` |" in page
