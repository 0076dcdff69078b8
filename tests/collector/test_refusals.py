"""The refusal table is the only place a ``Discarded=`` reason is spelled; every entry is used and documented."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from crashcart.collector.multipart import MAX_BOUNDARY_LENGTH
from crashcart.collector.refusals import Malformed, Refusal, TooLarge
from crashcart.docgen import render_refusals

COLLECTOR = Path(__file__).resolve().parents[2] / "src" / "crashcart" / "collector"
TABLE = COLLECTOR / "refusals.py"
REASON_WORDS = {r.reason for r in Refusal}


def _sources() -> list[Path]:
    paths = sorted(path for path in COLLECTOR.rglob("*.py") if path != TABLE)
    assert len(paths) > 10, "the collector's sources were not found"
    return paths


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (prose may quote reasons)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            for statement in body:
                if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                    out.add(id(statement.value))
    return out


def _string_literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    docstrings = _docstrings(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_no_reason_is_spelled_outside_the_table() -> None:
    """A refusal added as a string in the handler or parser fails here: it must be a ``Refusal`` member."""
    found = []
    for path in _sources():
        for line, text in _string_literals(path):
            if (
                "Discarded=" in text
                or re.fullmatch(r"(malformed|too_large|rule)_[a-z_]*", text)
                or text in REASON_WORDS
            ):
                found.append(f"{path.relative_to(COLLECTOR)}:{line}: {text!r}")
    assert found == []


def test_the_scan_sees_a_reason_spelled_as_a_string(tmp_path: Path) -> None:
    """The scan above would catch the old style (``_refuse(send, 400, "malformed_x", b"Discarded=...")``)."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Docstring: Discarded=malformed_ok."""\nrespond(400, b"Discarded=malformed_x", "body_timeout")\n'
    )
    literals = [text for _, text in _string_literals(sample)]
    assert literals == ["body_timeout"]  # bytes are not str; the docstring is prose
    assert "body_timeout" in REASON_WORDS


def test_every_entry_is_used_by_the_collector() -> None:
    """An entry nobody raises any more would be documented for nothing."""
    text = "\n".join(path.read_text() for path in _sources())
    unused = [member.name for member in Refusal if not re.search(rf"\bRefusal\.{member.name}\b", text)]
    assert unused == []


def test_entries_are_well_formed() -> None:
    reasons = [r.reason for r in Refusal]
    assert len(reasons) == len(set(reasons))
    for refusal in Refusal:
        assert re.fullmatch(r"[a-z][a-z_]*(\{[a-z]+\})?", refusal.reason), refusal
        assert refusal.description.endswith("."), refusal
        # STYLE §6: a refusal is never a 500; a 5xx (only for storage) is the one the client retries.
        assert refusal.status in {200, 400, 401, 408, 413, 431, 503}, refusal
        if refusal.status == 400:
            assert refusal.reason.startswith("malformed_"), refusal
        if refusal.status == 413:
            assert refusal.reason.startswith("too_large_"), refusal
    assert [r for r in Refusal if r.status >= 500] == [Refusal.STORAGE_UNAVAILABLE]
    assert str(MAX_BOUNDARY_LENGTH) in Refusal.BAD_BOUNDARY.description


def test_reasons_and_bodies() -> None:
    assert Refusal.THROTTLED.discarded(rule="old_builds") == "rule_old_builds"
    assert Refusal.body(Refusal.THROTTLED.discarded(rule="x")) == b"Discarded=rule_x"
    assert Refusal.body(Refusal.BAD_GZIP.discarded()) == b"Discarded=malformed_bad_gzip"
    assert Refusal.BAD_GZIP.code == "bad_gzip"
    assert Refusal.TOO_LARGE_JSON.code == "json"
    assert Refusal.THROTTLED.pattern == "rule_<rule>"


def test_exceptions_take_only_their_family() -> None:
    assert Malformed(Refusal.TRUNCATED, "x").code == "truncated"
    assert TooLarge(Refusal.TOO_LARGE_REQUEST).limit == "request"
    with pytest.raises(ValueError, match="not a 400"):
        Malformed(Refusal.TOO_LARGE_JSON)
    with pytest.raises(ValueError, match="not a 413"):
        TooLarge(Refusal.BAD_GZIP)


def test_the_page_lists_every_entry_with_its_status() -> None:
    page = render_refusals()
    for refusal in Refusal:
        assert f"`{refusal.pattern}` | {refusal.description}" in page, refusal
        if refusal.status not in (400, 413):
            assert f"| {refusal.status} | `{refusal.pattern}` |" in page, refusal
