"""Throttle rules as data: which incoming crashes to keep, sample, fake-accept or reject.

Antenna's rules are Python callables picked by a dotted path, so changing a product list means a deploy and a
typo surfaces only when a crash reaches the rule. Here the rules are a YAML file kept in version control,
validated completely at start (a bad file stops the collector with a message naming the rule, the field and
the problem) and compiled once into plain objects, so ``ThrottleRules.decide`` parses nothing per request.

The format is described in ``docs/throttle-rules.md``; ``config/throttle-rules.example.yaml`` uses every
condition. In short::

    default: accept                  # when no rule decides (accept, defer, reject or fakeaccept)
    rules:                           # tried in order; the first decisive rule wins
      - name: reject_old_builds
        when: {BuildID: {build_age_days_gt: 730}}
        result: reject
      - name: sample_release
        when: {ReleaseChannel: {equals: release}}
        sample: {percent: 10, then: accept, else: reject}
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import math
import operator
import os
import random
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from crashcart.crashid import Throttle
from crashcart.errors import ConfigError

MAX_FILE_BYTES = 1024 * 1024
MAX_RULES = 1000
# A regex sees at most this many characters of a value: the backstop against slow patterns on hostile input.
REGEX_INPUT_LIMIT = 10 * 1024
# Longer values are never numbers or versions; bounding them keeps int()/float() cheap.
NUMBER_INPUT_LIMIT = 64
VERSION_INPUT_LIMIT = 64

NO_MATCH_RULE = "no_match"
ACCEPT_EVERYTHING_RULE = "accept_everything"
RULE_NAME_PATTERN = r"^[a-z0-9_]+$"

ResultName = Literal["accept", "defer", "reject", "fakeaccept", "continue"]
FinalResultName = Literal["accept", "defer", "reject", "fakeaccept"]

_RESULTS: dict[str, Throttle | None] = {
    "accept": Throttle.ACCEPT,
    "defer": Throttle.DEFER,
    "reject": Throttle.REJECT,
    "fakeaccept": Throttle.FAKEACCEPT,
    "continue": None,
}

_MISSING = object()


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


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one crash: the result, the deciding rule, and its sampling percent if it sampled."""

    result: Throttle
    rule: str
    percent: float | None = None


# --- operands in the file -------------------------------------------------------------------------------


def _operand_text(value: object) -> object:
    """Accept strings and integers; refuse YAML's silent conversions, which would compare wrongly."""
    if isinstance(value, bool):
        raise ValueError(  # noqa: TRY004 (pydantic reports only ValueError as a validation error)
            "YAML read this as a boolean (true/false/yes/no/on/off); quote it to compare text"
        )
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        raise ValueError(  # noqa: TRY004 (as above)
            f"YAML read this as the number {value!r} (1.10 reads as 1.1); quote it to compare text"
        )
    return value


def _operand_number(value: object) -> object:
    """Accept int or float; refuse booleans and strings so ``gt: "10"`` or ``gt: yes`` is caught at load."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}")  # noqa: TRY004 (as above)
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


def _check_version(value: str) -> str:
    if version_key(value) is None:
        raise ValueError(f"not a version: {value!r} (expected digits and dots, like 120.0.1 or 120.0b3)")
    return value


def _check_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {value!r}: {exc}") from exc
    if _has_nested_quantifier(value):
        raise ValueError(
            f"regular expression {value!r} repeats a part that itself repeats, like (a+)+, which can take "
            "exponential time; rewrite it, or make the inner part atomic (?>...) or possessive (a++)"
        )
    return value


Text = Annotated[str, BeforeValidator(_operand_text)]
Number = Annotated[int | float, BeforeValidator(_operand_number)]  # ints stay exact past 2**53
Days = Annotated[float, BeforeValidator(_operand_number), Field(ge=0)]
VersionText = Annotated[str, BeforeValidator(_operand_text), AfterValidator(_check_version)]
RegexText = Annotated[str, BeforeValidator(_operand_text), AfterValidator(_check_regex)]


# --- the file's schema ----------------------------------------------------------------------------------


class ConditionSpec(BaseModel):
    """Tests on one annotation; all must hold. Every test except ``missing: true`` needs the key present."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    equals: Text | None = None
    not_equals: Text | None = None
    in_: list[Text] | None = Field(default=None, alias="in", min_length=1)
    not_in: list[Text] | None = Field(default=None, min_length=1)
    regex: RegexText | None = None
    not_regex: RegexText | None = None
    missing: StrictBool | None = None
    exists: StrictBool | None = None
    gt: Number | None = None
    ge: Number | None = None
    lt: Number | None = None
    le: Number | None = None
    version_lt: VersionText | None = None
    version_le: VersionText | None = None
    version_gt: VersionText | None = None
    version_ge: VersionText | None = None
    build_age_days_gt: Days | None = None
    build_age_days_lt: Days | None = None
    case_insensitive: StrictBool = False

    @model_validator(mode="after")
    def _coherent(self) -> ConditionSpec:
        tests = self.model_fields_set - {"case_insensitive", "missing", "exists"}
        if self.missing is not None and self.exists is not None and self.missing == self.exists:
            raise ValueError("'missing' and 'exists' contradict each other")
        if self.required_presence() is False and tests:
            raise ValueError(f"a missing key has no value to test; drop {sorted(tests)} or 'missing: true'")
        if not tests and self.required_presence() is None:
            raise ValueError("no condition given (e.g. equals, in, regex, missing, gt, version_lt)")
        return self

    def required_presence(self) -> bool | None:
        """True: the key must be present; False: it must be absent; None: either (value tests decide)."""
        if self.missing is not None:
            return not self.missing
        return self.exists


class SampleSpec(BaseModel):
    """Keep ``percent`` % of matching crashes with ``then``; the rest get ``else``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    percent: Annotated[float, BeforeValidator(_operand_number), Field(ge=0, le=100)]
    then: ResultName
    else_: ResultName = Field(alias="else")


def _none_is_empty(value: object) -> object:
    return {} if value is None else value


class RuleSpec(BaseModel):
    """One rule: a name, conditions on annotations, and either a fixed ``result`` or a ``sample``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=RULE_NAME_PATTERN, max_length=100)
    when: Annotated[dict[str, ConditionSpec], BeforeValidator(_none_is_empty)] = Field(default_factory=dict)
    result: ResultName | None = None
    sample: SampleSpec | None = None

    @field_validator("when")
    @classmethod
    def _keys_not_empty(cls, value: dict[str, ConditionSpec]) -> dict[str, ConditionSpec]:
        if "" in value:
            raise ValueError("an annotation key must not be empty")
        return value

    @model_validator(mode="after")
    def _one_outcome(self) -> RuleSpec:
        if (self.result is None) == (self.sample is None):
            raise ValueError("give exactly one of 'result' or 'sample'")
        return self


class RulesFileSpec(BaseModel):
    """The whole file: an optional format version, the no-match default, and the ordered rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    default: FinalResultName = "accept"
    rules: list[RuleSpec] = Field(max_length=MAX_RULES)


# --- reading values at decision time --------------------------------------------------------------------


def _as_text(value: object) -> str | None:
    """The text a string test sees, or None if the value cannot be rendered.

    Non-strings come from JSON ``extra`` parts, so they get JSON spelling (``true``, ``null``, ``{"a":1}``)
    rather than Python's (``True``, ``None``): a rule written against the wire text matches either way.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    try:
        if isinstance(value, int | float):
            return str(value)  # ValueError past int's 4300-digit str() limit
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    except (ValueError, TypeError, RecursionError):
        return None


_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER_RE = re.compile(r"[+-]?[0-9]+")


def _as_number(value: object) -> float | None:
    """A number from an int, float or decimal string; None otherwise (so the comparison is false)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if not isinstance(value, str) or len(value) > NUMBER_INPUT_LIMIT:
        return None
    text = value.strip()
    if _INTEGER_RE.fullmatch(text):
        return int(text)
    if _NUMBER_RE.fullmatch(text):
        return float(text)
    return None


VersionKey = tuple[tuple[int, ...], tuple[int, int, int, str]]

_VERSION_RE = re.compile(r"v?([0-9]+(?:\.[0-9]+)*)(.*)", re.DOTALL)
_PRERELEASE_RE = re.compile(r"([a-z]*)[-._]?([0-9]{0,18})(.*)", re.DOTALL)
_PRERELEASE_RANK = {"dev": 1, "a": 2, "alpha": 2, "b": 3, "beta": 3, "pre": 4, "c": 4, "rc": 4}
_RELEASE_LABELS = frozenset({"", "esr"})
_RELEASE = (1, 0, 0, "")


def version_key(text: str) -> VersionKey | None:
    """A sortable key for a dotted version, or None if ``text`` does not start like one.

    ``120`` == ``120.0`` < ``120.0.1``; a pre-release sorts before its release: ``120.0a1`` < ``120.0b3`` <
    ``120.0rc1`` < ``120.0``, and ``1.2.3-beta`` < ``1.2.3``. ``esr`` marks a release (Firefox ``115.0esr``),
    ``+build`` metadata is ignored (semver), and unknown labels sort before alpha.
    """
    if len(text) > VERSION_INPUT_LIMIT:
        return None
    match = _VERSION_RE.fullmatch(text.strip().lower().split("+", 1)[0])
    if match is None:
        return None
    parts = [int(part) for part in match.group(1).split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    label = match.group(2).lstrip("-._")
    if label in _RELEASE_LABELS:
        return tuple(parts), _RELEASE
    pre = _PRERELEASE_RE.fullmatch(label)
    if pre is None:  # cannot happen: every part of the pattern may be empty
        return None
    tag, number, rest = pre.groups()
    return tuple(parts), (0, _PRERELEASE_RANK.get(tag, 0), int(number) if number else 0, rest)


_BUILD_ID_RE = re.compile(r"[0-9]{14}")


def _build_time(value: object) -> dt.datetime | None:
    """A ``YYYYMMDDhhmmss`` BuildID as a naive UTC datetime; None if it is not one."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**14:
        value = str(value)
    if not isinstance(value, str) or len(value) != 14 or not _BUILD_ID_RE.fullmatch(value):
        return None
    try:
        return dt.datetime(  # naive UTC, like the now it meets
            int(value[0:4]),
            int(value[4:6]),
            int(value[6:8]),
            int(value[8:10]),
            int(value[10:12]),
            int(value[12:14]),
        )
    except ValueError:
        return None


def _naive_utc(now: dt.datetime) -> dt.datetime:
    return now if now.tzinfo is None else now.astimezone(dt.UTC).replace(tzinfo=None)


# --- regex safety ---------------------------------------------------------------------------------------

try:  # private, but the only parser of Python's own regex syntax; without it the input bound still applies
    _sre_parser: Any = importlib.import_module("re._parser")
except ImportError:  # pragma: no cover - a future Python
    _sre_parser = None

_SOLID, _REPEATS, _VANISHES = "solid", "repeats", "vanishes"


def _has_nested_quantifier(pattern: str) -> bool:
    """True for the classic exponential shape: a repeated part made only of repeats, like (a+)+, (\\w+|x)*."""
    if _sre_parser is None:  # pragma: no cover
        return False
    try:
        tree = _sre_parser.parse(pattern)
    except Exception:  # re.compile accepted it; a private-API change must not fail the load
        return False
    return _scan(tree)


def _scan(items: Any) -> bool:
    for op, arg in items:
        if str(op) in ("MAX_REPEAT", "MIN_REPEAT") and arg[1] > 1 and _shape(arg[2]) == _REPEATS:
            return True
        if any(_scan(child) for child in _subpatterns(arg)):
            return True
    return False


def _subpatterns(arg: Any) -> Iterator[Any]:
    if isinstance(arg, _sre_parser.SubPattern):
        yield arg
    elif isinstance(arg, tuple | list):
        for item in arg:
            yield from _subpatterns(item)


def _shape(items: Any) -> str:
    """How a sequence consumes input: ``solid`` (something fixed), ``repeats`` (only repeats and optional
    parts) or ``vanishes`` (only the empty string). Repeating a ``repeats`` body backtracks exponentially."""
    shapes = set()
    for op, arg in items:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT"):
            shapes.add(_REPEATS if arg[1] > 1 else _VANISHES)
        elif name == "SUBPATTERN":
            shapes.add(_shape(arg[3]))
        elif name == "BRANCH":
            branches = {_shape(branch) for branch in arg[1]}
            shapes.add(_REPEATS if _REPEATS in branches else _VANISHES if _VANISHES in branches else _SOLID)
        elif name in ("AT", "ASSERT", "ASSERT_NOT"):
            shapes.add(_VANISHES)
        else:
            shapes.add(_SOLID)
    if _SOLID in shapes:
        return _SOLID
    return _REPEATS if _REPEATS in shapes else _VANISHES


# --- compiled rules -------------------------------------------------------------------------------------

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}


def _same(text: str) -> str:
    return text


def _not_member(values: frozenset[str]) -> Callable[[str], bool]:
    return lambda text: text not in values


class _KeyCheck:
    """The compiled tests on one annotation key; ``holds`` is the hot path."""

    __slots__ = (
        "age_tests",
        "fold",
        "key",
        "number_tests",
        "presence",
        "regex_tests",
        "text_tests",
        "version_tests",
    )

    def __init__(self, key: str, spec: ConditionSpec) -> None:
        self.key = key
        self.presence = spec.required_presence()
        self.fold = spec.case_insensitive
        fold: Callable[[str], str] = str.casefold if spec.case_insensitive else _same

        self.text_tests: tuple[Callable[[str], bool], ...] = tuple(
            test
            for test in (
                fold(spec.equals).__eq__ if spec.equals is not None else None,
                fold(spec.not_equals).__ne__ if spec.not_equals is not None else None,
                frozenset(map(fold, spec.in_)).__contains__ if spec.in_ is not None else None,
                _not_member(frozenset(map(fold, spec.not_in))) if spec.not_in is not None else None,
            )
            if test is not None
        )
        flags = re.IGNORECASE if spec.case_insensitive else 0
        self.regex_tests = tuple(
            (re.compile(pattern, flags), wanted)
            for pattern, wanted in ((spec.regex, True), (spec.not_regex, False))
            if pattern is not None
        )
        self.number_tests = tuple(
            (_COMPARE[op], operand)
            for op, operand in (("gt", spec.gt), ("ge", spec.ge), ("lt", spec.lt), ("le", spec.le))
            if operand is not None
        )
        versions = (
            ("lt", spec.version_lt),
            ("le", spec.version_le),
            ("gt", spec.version_gt),
            ("ge", spec.version_ge),
        )
        self.version_tests = tuple((_COMPARE[op], version_key(text)) for op, text in versions if text is not None)
        ages = (("gt", spec.build_age_days_gt), ("lt", spec.build_age_days_lt))
        self.age_tests = tuple((_COMPARE[op], days * 86400.0) for op, days in ages if days is not None)

    @property
    def uses_now(self) -> bool:
        return bool(self.age_tests)

    def holds(self, annotations: Mapping[str, object], now: dt.datetime | None) -> bool:
        value = annotations.get(self.key, _MISSING)
        if value is _MISSING:
            return self.presence is False
        if self.presence is False:
            return False
        if self.text_tests or self.regex_tests:
            text = _as_text(value)
            if text is None:
                return False
            if self.regex_tests:
                head = text[:REGEX_INPUT_LIMIT]
                for pattern, wanted in self.regex_tests:
                    if (pattern.fullmatch(head) is not None) is not wanted:
                        return False
            if self.text_tests:
                if self.fold:
                    text = text.casefold()
                for test in self.text_tests:
                    if not test(text):
                        return False
        if self.number_tests:
            number = _as_number(value)
            if number is None:
                return False
            for compare, operand in self.number_tests:
                if not compare(number, operand):
                    return False
        if self.version_tests:
            text = _as_text(value)
            key = version_key(text) if text is not None else None
            if key is None:
                return False
            for compare, version in self.version_tests:
                if not compare(key, version):
                    return False
        if self.age_tests:
            built = _build_time(value)
            if built is None or now is None:
                return False
            age = (now - built).total_seconds()
            for compare, seconds in self.age_tests:
                if not compare(age, seconds):
                    return False
        return True


class _CompiledRule:
    """A rule ready to run: its key checks and precomputed decisions (None means continue)."""

    __slots__ = ("checks", "decision", "else_decision", "fraction", "name", "sampled", "then_decision")

    def __init__(self, spec: RuleSpec) -> None:
        self.name = spec.name
        self.checks = tuple(_KeyCheck(key, condition) for key, condition in spec.when.items())
        self.sampled = spec.sample is not None
        self.decision: Decision | None = None
        self.then_decision: Decision | None = None
        self.else_decision: Decision | None = None
        self.fraction = 1.0
        if spec.sample is None:
            self.decision = self._decision(spec.result or "continue", None)
        else:
            percent = spec.sample.percent
            self.fraction = percent / 100.0
            self.then_decision = self._decision(spec.sample.then, percent)
            self.else_decision = self._decision(spec.sample.else_, percent)

    def _decision(self, result: str, percent: float | None) -> Decision | None:
        throttle = _RESULTS[result]
        return None if throttle is None else Decision(throttle, self.name, percent)


class ThrottleRules:
    """Compiled throttle rules: make with ``load``, ``from_dict`` or ``accept_everything``; run ``decide``."""

    __slots__ = ("_default", "_rules", "_uses_now", "source")

    def __init__(self, spec: RulesFileSpec, source: str) -> None:
        self.source = source
        self._rules = tuple(_CompiledRule(rule) for rule in spec.rules)
        default = _RESULTS[spec.default]
        assert default is not None  # FinalResultName has no "continue"
        self._default = Decision(default, NO_MATCH_RULE, None)
        self._uses_now = any(check.uses_now for rule in self._rules for check in rule.checks)

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None) -> ThrottleRules:
        """Read and validate a rules file; ``None`` (nothing configured) accepts everything.

        A configured path that cannot be read is an error, not a silent accept-everything.
        """
        if path is None:
            return cls.accept_everything()
        source = os.fspath(path)
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
            data = yaml.load(text, Loader=_RulesLoader)  # noqa: S506 (_RulesLoader is a SafeLoader)
        except yaml.YAMLError as exc:
            raise ThrottleRulesError(source, [f"not valid YAML: {exc}"]) from exc
        return cls.from_dict(data, source=source)

    @classmethod
    def from_dict(cls, data: object, *, source: str = "<dict>") -> ThrottleRules:
        """Validate already-parsed rules (a mapping shaped like the YAML file)."""
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
        return cls(spec, source)

    @classmethod
    def accept_everything(cls) -> ThrottleRules:
        """The rules used when none are configured: one rule, ``accept_everything``."""
        spec = RulesFileSpec(rules=[RuleSpec(name=ACCEPT_EVERYTHING_RULE, result="accept")])
        return cls(spec, "<built-in: accept everything>")

    @property
    def rule_names(self) -> tuple[str, ...]:
        return tuple(rule.name for rule in self._rules)

    @property
    def default(self) -> Throttle:
        return self._default.result

    def __repr__(self) -> str:
        return f"<ThrottleRules {self.source} rules={len(self._rules)} default={self._default.result.name}>"

    def decide(self, annotations: Mapping[str, object], now: dt.datetime, rng: random.Random | None = None) -> Decision:
        """The first decisive rule's decision for a crash with these annotations, submitted at ``now``.

        Pure apart from drawing from ``rng`` (the ``random`` module's generator if None) when a sampling rule
        matches. Never raises for any annotation values: a value a test cannot read makes that test false.
        """
        now_utc = _naive_utc(now) if self._uses_now else None
        for rule in self._rules:
            for check in rule.checks:
                if not check.holds(annotations, now_utc):
                    break
            else:
                if not rule.sampled:
                    if rule.decision is not None:
                        return rule.decision
                    continue
                draw = rng.random() if rng is not None else random.random()  # noqa: S311 (sampling, not secrets)
                decision = rule.then_decision if draw < rule.fraction else rule.else_decision
                if decision is not None:
                    return decision
        return self._default


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
