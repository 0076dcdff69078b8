"""Links from frames to source: Mozilla-style indexed paths and deployment prefixes; hostile paths get none."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crashcart.web.pages.sourcelinks import source_url


@pytest.mark.parametrize(
    ("file", "line", "expected"),
    [
        (
            "hg:hg.mozilla.org/mozilla-central:dom/base/Element.cpp:2b6c0f1a",
            42,
            "https://hg.mozilla.org/mozilla-central/file/2b6c0f1a/dom/base/Element.cpp#l42",
        ),
        (
            "git:github.com/rust-lang/rust:library/core/src/panicking.rs:90b35a6239",
            110,
            "https://github.com/rust-lang/rust/blob/90b35a6239/library/core/src/panicking.rs#L110",
        ),
        (
            "git:gitlab.com/group/app:src/main.c:abc123",
            None,
            "https://gitlab.com/group/app/-/blob/abc123/src/main.c",
        ),
    ],
)
def test_indexed_paths_link_to_the_forge_at_the_revision(file: str, line: int | None, expected: str) -> None:
    assert source_url(file, line, {}) == expected


def test_a_configured_prefix_links_plain_paths() -> None:
    repos = {"/builds/app/": "https://github.com/org/app/blob/v1.2/{path}#L{line}"}
    assert source_url("/builds/app/src/a b.c", 3, repos) is None  # a space: not a plain path
    assert source_url("/builds/app/src/main.c", 3, repos) == "https://github.com/org/app/blob/v1.2/src/main.c#L3"
    assert source_url("/elsewhere/main.c", 3, repos) is None


@pytest.mark.parametrize(
    "file",
    [
        "javascript:alert(1)",
        "hg:hg.mozilla.org/mozilla-central:../../etc/passwd:abc",
        "git:github.com/org/repo:src/<script>.c:abc",
        'git:github.com/org/repo:src/a".c:abc',
        "git:evil.example/org/repo:src/a.c:abc",  # not a forge this knows how to link
        "hg:hg.mozilla.org/a:b c:rev",
        "",
        "x" * 2_000,
    ],
)
def test_hostile_or_unknown_paths_get_no_link(file: str) -> None:
    assert source_url(file, 1, {"/": "javascript:{path}"}) is None


@given(st.text(max_size=300), st.one_of(st.none(), st.integers(min_value=-5, max_value=10**6)))
def test_any_file_name_gives_an_https_link_without_quotes_or_nothing(file: str, line: int | None) -> None:
    url = source_url(file, line, {"/src/": "https://example.org/{path}#L{line}"})
    assert url is None or (url.startswith("https://") and not set(url) & set("\"'<> \\\n"))


def test_the_deployments_source_links_setting_is_checked() -> None:
    from crashcart.settings import SettingsError, load_settings

    good = load_settings(environ={"CRASHCART_SOURCE_LINKS": '{"/b/": "https://example.org/{path}#L{line}"}'})
    assert source_url("/b/src/x.c", 9, good.source_links) == "https://example.org/src/x.c#L9"
    for bad in ('{"/b/": "javascript:{path}"}', "[1]", "not json", '{"": "https://x/{path}"}'):
        with pytest.raises(SettingsError, match="CRASHCART_SOURCE_LINKS"):
            load_settings(environ={"CRASHCART_SOURCE_LINKS": bad})
