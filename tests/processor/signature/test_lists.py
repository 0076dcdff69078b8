"""Signature lists: siggen's, Crashcart's and a deployment's, layered; bad files fail at load."""

from __future__ import annotations

from pathlib import Path

import pytest
from siggen import siglists_utils  # type: ignore[import-untyped]

from crashcart.errors import ConfigError
from crashcart.processor.signature import CRASHCART_LISTS, SIGGEN_LISTS, SignatureListError, load_signature_lists
from crashcart.processor.signature.lists import BUNDLED_DIR, read_list


def test_defaults_are_siggen_then_crashcart() -> None:
    lists = load_signature_lists()
    siggen_prefix = siglists_utils.get_signature_list_content("prefix_signature_re")
    assert lists.prefix[: len(siggen_prefix)] == siggen_prefix
    assert "libc.so*" in lists.system_libraries
    assert "ntdll.dll" in lists.system_libraries
    assert "libsystem_*.dylib" in lists.system_libraries
    assert any(line.startswith("__cxa_throw") for line in lists.terminate_frames)
    assert any(line.startswith("abort") for line in lists.abort_frames)
    assert lists.source == "siggen+crashcart"


def test_every_bundled_list_exists() -> None:
    for name in SIGGEN_LISTS + CRASHCART_LISTS:
        assert (BUNDLED_DIR / f"{name}.txt").is_file(), name


def test_directory_adds_to_the_defaults(tmp_path: Path) -> None:
    (tmp_path / "irrelevant_signature_re.txt").write_text("# ours\n\nMyLogger::.*\n")
    (tmp_path / "system_libraries.txt").write_text("libplatform.so*\n")
    lists = load_signature_lists(tmp_path)
    assert lists.irrelevant[-1] == "MyLogger::.*"
    assert lists.system_libraries[-1] == "libplatform.so*"
    assert "libc.so*" in lists.system_libraries
    assert lists.source == f"siggen+crashcart+{tmp_path}"


def test_directory_alone_when_defaults_are_off(tmp_path: Path) -> None:
    (tmp_path / "prefix_signature_re.txt").write_text("Only.*\n")
    lists = load_signature_lists(tmp_path, include_defaults=False)
    assert lists.prefix == ("Only.*",)
    assert lists.irrelevant == ()
    assert lists.system_libraries == ()
    assert lists.source == str(tmp_path)


def test_bad_regex_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "prefix_signature_re.txt").write_text("# fine\nok\nbad(\n")
    with pytest.raises(SignatureListError, match=r"prefix_signature_re\.txt:3"):
        load_signature_lists(tmp_path)


def test_globs_and_sentinels_are_not_regexes(tmp_path: Path) -> None:
    (tmp_path / "system_libraries.txt").write_text("libfoo(1).so\n")
    (tmp_path / "signature_sentinels.txt").write_text("Foo::Bar(int*\n")
    lists = load_signature_lists(tmp_path)
    assert lists.system_libraries[-1] == "libfoo(1).so"
    assert lists.sentinels[-1] == "Foo::Bar(int*"


def test_missing_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_signature_lists(tmp_path / "nope")


def test_read_list_strips_comments_and_blanks(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("  a  \n# c\n\n b\n")
    assert read_list(path, regex=False) == ("a", "b")
