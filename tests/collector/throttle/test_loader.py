"""Reading a rules file: size limits, YAML foot-guns, rule-name checks, and every problem reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from crashcart.collector.throttle import (
    MAX_FILE_BYTES,
    MAX_RULES,
    NO_MATCH_RULE,
    Decision,
    ThrottleRules,
    ThrottleRulesError,
)
from crashcart.crashid import Throttle
from tests.collector.throttle import NOW, error_for


def test_duplicate_name_is_named() -> None:
    message = error_for(
        {
            "rules": [
                {"name": "a", "result": "accept"},
                {"name": "b", "result": "accept"},
                {"name": "a", "result": "reject"},
            ]
        }
    )
    assert "rules[2] 'a': name: duplicate rule name (also rules[0])" in message


def test_file_too_large(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("rules: []\n" + "#" * MAX_FILE_BYTES, encoding="utf-8")
    with pytest.raises(ThrottleRulesError) as info:
        ThrottleRules.load(path)
    assert str(path) in str(info.value)
    assert "larger than 1048576 bytes" in str(info.value)


def test_too_many_rules() -> None:
    rules = [{"name": f"r{i}", "result": "accept"} for i in range(MAX_RULES + 1)]
    assert f"more than the limit of {MAX_RULES}" in error_for({"rules": rules})
    ThrottleRules.from_dict({"rules": rules[:MAX_RULES]})


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(ThrottleRulesError) as info:
        ThrottleRules.from_dict(
            {
                "rules": [
                    {"name": "a", "result": "nope"},
                    {"name": "b", "when": {"K": {"bogus": 1}}, "result": "accept"},
                ]
            }
        )
    assert len(info.value.problems) == 2
    assert info.value.code == "throttle_rules_invalid"


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "rules.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rules: [", "not valid YAML"),
        ("", "expected a mapping"),
        ("- a\n- b\n", "expected a mapping"),
        (
            "rules:\n  - name: a\n    when:\n      K: {equals: '1'}\n      K: {equals: '2'}\n    result: accept\n",
            "found duplicate key 'K'",
        ),
        (
            "products: &p [a, b]\nrules:\n  - name: a\n    when: {K: {in: *p}}\n    result: accept\n",
            "aliases (*name) are not allowed",
        ),
        ("rules: []\n---\nrules: []\n", "not valid YAML"),
        ("rules:\n  - name: a\n    result: !!python/object:os.system x\n", "not valid YAML"),
        (b"rules: []\n# \xff\xfe\n", "not UTF-8"),
    ],
)
def test_file_problems(tmp_path: Path, text: str | bytes, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ThrottleRulesError) as info:
        ThrottleRules.load(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def test_yaml_error_gives_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "rules:\n  - name: a\n    result: accept\n  - name: b\n    when: {K: {in: [a, b}}\n")
    with pytest.raises(ThrottleRulesError, match="line 5"):
        ThrottleRules.load(path)


def test_missing_configured_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ThrottleRulesError, match="cannot read the file"):
        ThrottleRules.load(tmp_path / "nope.yaml")


def test_file_round_trip(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "default: reject\nrules:\n  - name: keep_zero\n"
        "    when:\n      Throttleable: {equals: 0}\n    result: accept\n",
    )
    rules = ThrottleRules.load(str(path))
    assert rules.decide({"Throttleable": "0"}, NOW) == Decision(Throttle.ACCEPT, "keep_zero", None)
    assert rules.decide({"Throttleable": "1"}, NOW) == Decision(Throttle.REJECT, NO_MATCH_RULE, None)
    assert "rules=1" in repr(rules)
