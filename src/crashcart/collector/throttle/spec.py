"""The rules file's schema: pydantic models for the file, each rule, its sample and its conditions.

The operand types refuse YAML's silent conversions (``yes`` read as a boolean, ``1.10`` read as ``1.1``) and
check versions and regexes, so every mistake is reported at load with the field it is in.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)

from crashcart.collector.throttle.regex_safety import has_nested_quantifier
from crashcart.collector.throttle.values import version_key

MAX_RULES = 1000
NO_MATCH_RULE = "no_match"
RULE_NAME_PATTERN = r"^[a-z0-9_]+$"

ResultName = Literal["accept", "defer", "reject", "fakeaccept", "continue"]
FinalResultName = Literal["accept", "defer", "reject", "fakeaccept"]


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
    if has_nested_quantifier(value):
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
