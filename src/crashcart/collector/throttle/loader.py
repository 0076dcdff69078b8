"""Reading and validating a rules file, with every problem reported as 'where: what' in one error.

``read_rules_file`` turns a path into parsed YAML (bounded in size, UTF-8, no aliases or duplicate keys);
``validate_rules`` turns parsed data into a ``RulesFileSpec`` or raises ``ThrottleRulesError`` naming each
rule, field and problem in the file's own vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from crashcart.collector.throttle.spec import (
    MAX_RULES,
    NO_MATCH_RULE,
    ConditionSpec,
    RulesFileSpec,
    RuleSpec,
    SampleSpec,
)
from crashcart.errors import ConfigError

MAX_FILE_BYTES = 1024 * 1024


class ThrottleRulesError(ConfigError):
    """The throttle rules file cannot be used; ``problems`` lists each problem with where it is."""

    code = "throttle_rules_invalid"

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        if len(self.problems) == 1:
            message = f"invalid throttle rules in {source}: {self.problems[0]}"
        else:
            listed = "\n".join(f"  - {problem}" for problem in self.problems)
            message = f"invalid throttle rules in {source}:\n{listed}"
        super().__init__(message)


def read_rules_file(source: str) -> object:
    """The parsed YAML of the rules file at ``source``; a file that cannot be read is an error."""
    try:
        with open(source, "rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ThrottleRulesError(source, [f"cannot read the file: {exc.strerror or exc}"]) from exc
    if len(raw) > MAX_FILE_BYTES:
        raise ThrottleRulesError(source, [f"file is larger than {MAX_FILE_BYTES} bytes (1 MiB)"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ThrottleRulesError(source, [f"file is not UTF-8 ({exc.reason} at byte {exc.start})"]) from exc
    try:
        return yaml.load(text, Loader=_RulesLoader)  # noqa: S506 (_RulesLoader is a SafeLoader)
    except yaml.YAMLError as exc:
        raise ThrottleRulesError(source, [f"not valid YAML: {exc}"]) from exc


def validate_rules(data: object, source: str) -> RulesFileSpec:
    """Already-parsed rules (a mapping shaped like the YAML file) checked against the schema."""
    if not isinstance(data, Mapping):
        raise ThrottleRulesError(source, ["expected a mapping with a 'rules' list at the top level"])
    rules = data.get("rules")
    if isinstance(rules, list) and len(rules) > MAX_RULES:
        raise ThrottleRulesError(source, [f"rules: {len(rules)} rules, more than the limit of {MAX_RULES}"])
    try:
        spec = RulesFileSpec.model_validate(data)
    except ValidationError as exc:
        raise ThrottleRulesError(source, _describe(exc, data)) from None
    problems = _name_problems(spec)
    if problems:
        raise ThrottleRulesError(source, problems)
    return spec


def _name_problems(spec: RulesFileSpec) -> list[str]:
    problems = []
    first: dict[str, int] = {}
    for index, rule in enumerate(spec.rules):
        where = f"rules[{index}] {rule.name!r}: name"
        if rule.name == NO_MATCH_RULE:
            problems.append(f"{where}: {NO_MATCH_RULE!r} is reserved for the default decision")
        elif rule.name in first:
            problems.append(f"{where}: duplicate rule name (also rules[{first[rule.name]}])")
        else:
            first[rule.name] = index
    return problems


# --- reading the file -----------------------------------------------------------------------------------


class _RulesLoader(yaml.SafeLoader):
    """YAML's safe loader without two foot-guns for a rules file.

    Aliases are refused: a small file of nested aliases expands into billions of nodes when validated.
    Duplicate keys are refused: PyYAML silently keeps the last one, so a repeated condition key in ``when``
    would drop the first condition without a word.
    """

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event: Any = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in throttle rules", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # unhashable; the base class reports it
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep)


# --- describing validation errors -----------------------------------------------------------------------


def _field_names(model: type[BaseModel]) -> str:
    return ", ".join(field.alias or name for name, field in model.model_fields.items())


def _model_at(loc: tuple[int | str, ...]) -> tuple[str, type[BaseModel]]:
    """Which part of the file a location points into, for 'unknown field' messages."""
    if len(loc) >= 5 and loc[0] == "rules" and loc[2] == "when":
        return "condition", ConditionSpec
    if len(loc) >= 4 and loc[0] == "rules" and loc[2] == "sample":
        return "sample field", SampleSpec
    if len(loc) >= 3 and loc[0] == "rules":
        return "rule field", RuleSpec
    return "top-level field", RulesFileSpec


def _where(loc: tuple[int | str, ...], data: Mapping[Any, Any]) -> str:
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        index = loc[1]
        rules = data.get("rules")
        rule = rules[index] if isinstance(rules, list) and index < len(rules) else None
        name = rule.get("name") if isinstance(rule, Mapping) else None
        head = f"rules[{index}]" + (f" {name!r}" if isinstance(name, str) else "")
        rest = ".".join(str(part) for part in loc[2:])
        return f"{head}: {rest}" if rest else head
    return ".".join(str(part) for part in loc) or "top level"


def _describe(exc: ValidationError, data: Mapping[Any, Any]) -> list[str]:
    """Pydantic's errors as 'where: problem' lines in the file's own vocabulary."""
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        kind = error["type"]
        if kind == "extra_forbidden":
            what, model = _model_at(loc)
            loc, problem = loc[:-1], f"unknown {what} {loc[-1]!r} (expected one of: {_field_names(model)})"
        elif kind == "value_error":
            problem = str(error.get("ctx", {}).get("error", error["msg"]))
        elif kind == "missing":
            problem = "required field is missing"
        elif loc and loc[-1] == "[key]":
            loc, problem = loc[:-1], f"keys must be text; quote it, got {error.get('input')!r}"
        elif kind in ("model_type", "dict_type"):
            hint = ' of conditions, like {equals: "x"}' if len(loc) == 4 and loc[2] == "when" else ""
            problem = f"expected a mapping{hint}, got {repr(error.get('input'))[:80]}"
        else:
            shown = repr(error.get("input"))
            problem = f"{error['msg']}, got {shown[:80]}"
        problems.append(f"{_where(loc, data)}: {problem}")
    return problems
