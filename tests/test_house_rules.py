"""House rules that no linter checks: what a checkout may assume about the machine it runs on."""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers.shared import REPO

#: Where code, tests, benchmarks and scripts live (prose under docs/ is for people and may quote paths).
CHECKED = ("src", "tests", "bench", "scripts", "fuzz", ".ci", "Makefile", "config")
SUFFIXES = {".py", ".sh", ".toml", ".yaml", ".yml", ".md", ".tsv", ".cfg", ""}

# An absolute path to a folder named ``shared`` or into it, such as the root-anchored form of ``../shared/corpus``.
_ABSOLUTE_SHARED = re.compile(r"(?<![\w.~])/(?:[\w.-]+/)+" + "shared" + r"(?:/|\b)")


def _checked_files() -> list[Path]:
    files: list[Path] = []
    for name in CHECKED:
        root = REPO / name
        if root.is_file():
            files.append(root)
        elif root.is_dir():
            files += [
                p for p in root.rglob("*") if p.is_file() and p.suffix in SUFFIXES and "__pycache__" not in p.parts
            ]
    return files


def test_the_files_scanned_include_this_one() -> None:
    assert Path(__file__).resolve() in {p.resolve() for p in _checked_files()}


def test_no_file_names_an_absolute_path_to_shared() -> None:
    """Tests find ``../shared`` relative to the repository (``tests/helpers/shared.py``): a path of one machine
    makes every test that needs the corpus skip everywhere else."""
    offenders = []
    for path in _checked_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if _ABSOLUTE_SHARED.search(line):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not offenders, "absolute paths to shared/:\n" + "\n".join(offenders)


def test_the_pattern_catches_what_it_should() -> None:
    # The offending paths are assembled here so that this file names none itself.
    rooted = "/".join(["", "srv", "checkout", "shared", "corpus"])
    assert _ABSOLUTE_SHARED.search(f'CORPUS = Path("{rooted}")')
    assert _ABSOLUTE_SHARED.search("see " + "/".join(["", "opt", "ci", "shared"]) + " for it")
    assert not _ABSOLUTE_SHARED.search('SHARED = REPO.parent / "shared"')
    assert not _ABSOLUTE_SHARED.search("`../shared/corpus` beside the repository")


#: A file of the repository named in source text: ``docs/x.md``, ``tests/a/b.py``, ``bench/c/run.sh``, ...
_REPO_FILE = re.compile(
    r"(?<![\w/.-])((?:docs|tests|bench|scripts|config|devtools|fuzz)/[\w./-]*\.(?:md|py|sh|yaml|tsv))"
)
#: Files that live outside the repository (the team's shared notes): code must not send a reader there.
_OUTSIDE = re.compile(r"STYLE\.md|DESIGN\.md|\.\./shared/reference|shared/reference")


def test_source_points_only_at_files_in_the_repository() -> None:
    """Docstrings and comments are read by people with a checkout and nothing else: every file they name must be
    in the checkout, and none may point at notes outside it."""
    offenders = []
    for path in sorted([*(REPO / "src").rglob("*.py"), *(REPO / "devtools").rglob("*.py")]):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            where = f"{path.relative_to(REPO)}:{number}"
            if _OUTSIDE.search(line):
                offenders.append(f"{where}: points outside the repository: {line.strip()}")
            offenders += [
                f"{where}: names {name}, which does not exist"
                for name in _REPO_FILE.findall(line)
                if not (REPO / name.rstrip(".")).exists()
            ]
    assert not offenders, "\n".join(offenders)
