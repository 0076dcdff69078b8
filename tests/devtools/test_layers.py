"""The package-map contract on a toy package, and on Crashcart itself, through the real ``lint-imports``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from devtools.layers import package_map, parse_rows, splice_map

from tests.helpers.shared import REPO

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

CONFIG = """
[importlinter]
root_package = toy
contract_types =
    may_import: devtools.layers.MayImportContract

[importlinter:contract:map]
name = toy map
type = may_import
root = toy
foundation = errors
packages =
    low:
    mid: low
    {extra}
"""


def _toy(tmp_path: Path, modules: dict[str, str], extra: str = "") -> subprocess.CompletedProcess[str]:
    root = tmp_path / "toy"
    for name, source in {"__init__": "", "errors": "", **modules}.items():
        path = root / f"{name.replace('.', '/')}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    for package in {p.parent for p in root.rglob("*.py")}:
        (package / "__init__.py").touch()
    (tmp_path / ".importlinter").write_text(CONFIG.format(extra=extra))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_allowed_imports_keep_the_contract(tmp_path: Path) -> None:
    result = _toy(tmp_path, {"low.a": "import toy.errors\n", "mid.b": "from toy.low import a\n"})
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_import_against_the_map_breaks_it(tmp_path: Path) -> None:
    result = _toy(tmp_path, {"low.a": "from toy.mid import b\n", "mid.b": ""})
    assert result.returncode == 1
    assert "low may not import mid" in result.stdout


def test_a_package_without_a_row_breaks_it(tmp_path: Path) -> None:
    result = _toy(tmp_path, {"low.a": "", "mid.b": "", "new.c": ""})
    assert result.returncode == 1
    assert "package toy.new has no row" in result.stdout


def test_a_row_naming_no_package_breaks_it(tmp_path: Path) -> None:
    result = _toy(tmp_path, {"low.a": "", "mid.b": ""}, extra="top: mid nowhere")
    assert result.returncode == 1
    assert "'nowhere', which is not a package" in result.stdout


def test_crashcart_keeps_its_package_map() -> None:
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache"], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout


def test_rows_parse_and_duplicates_are_refused() -> None:
    assert parse_rows(["a: b c", "b:"]) == {"a": {"b", "c"}, "b": set()}
    with pytest.raises(ValueError, match="two rows"):
        parse_rows(["a:", "a: b"])
    with pytest.raises(ValueError, match="allowed packages"):
        parse_rows(["a b"])


def test_docs_architecture_shows_the_current_map() -> None:
    page = REPO / "docs" / "architecture.md"
    text = page.read_text()
    assert splice_map(text) == text, "docs/architecture.md is stale: run `make docs`"
    _, table = package_map()
    for name in table:
        assert f"| `{name}` |" in text
