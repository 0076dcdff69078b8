"""The rule registry: every processing rule, declared once, with how it is built.

Each entry names a rule class (its ``name`` is the registry key, so the name is not written twice), whether
it is optional (Mozilla-only behaviour a deployment switches on by name), and, when the rule needs more than
``cls()``, a factory that takes its dependencies from the typed :class:`RuleConfig`. The collaborators a rule
needs (the stack-walk rule's walker, the signature rule's generator) travel in that configuration too: the
composition root builds them once per worker and every ruleset's rules receive the same objects, so there is
no second wiring path. Named rulesets (``rulesets.py``) only list names from here; a test fails when a rule
class in ``processor/rules/`` is missing from the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from siggen.generator import SignatureGenerator  # type: ignore[import-untyped]

from crashcart.processor.rules.base import Rule
from crashcart.processor.rules.crashing_thread import CrashingThreadInfoRule
from crashcart.processor.rules.dates import DatesAndTimesRule
from crashcart.processor.rules.general import (
    CollectorMetadataRule,
    CrashReportKeysRule,
    DeNoneRule,
    DeNullRule,
    IdentifierRule,
    MinidumpSha256HashRule,
    ReportTypeRule,
)
from crashcart.processor.rules.java import JavaExceptionRule, JavaStackTraceRule
from crashcart.processor.rules.memory_report import MemoryReportExtractionRule
from crashcart.processor.rules.modules import ModuleURLRewriteRule
from crashcart.processor.rules.mozilla import (
    AccessibilityRule,
    AddonsRule,
    BetaVersionRule,
    BreadcrumbsRule,
    DistributionIdRule,
    FileVersionLookup,
    MozCrashReasonRule,
    OutOfMemoryBinaryRule,
    PHCRule,
    ShutdownHangCrashingThreadRule,
    SubmittedFromRule,
    ThemePrettyNameRule,
    UtilityActorsNameRule,
)
from crashcart.processor.rules.schema_copy import CopyFromRawCrashRule
from crashcart.processor.rules.signature import SignatureGeneratorRule
from crashcart.processor.rules.stack import (
    CrashInconsistenciesRule,
    HasGuardPageAccessRule,
    MissingSymbolsRule,
    ModulesInStackRule,
    PossibleBitFlipsRule,
    ThreadCountRule,
    TopMostFilesRule,
    TruncateStacksRule,
)
from crashcart.processor.rules.stackwalk import StackwalkRule
from crashcart.processor.rules.system import CPUInfoRule, OSInfoRule, OSPrettyVersionRule
from crashcart.processor.rules.versions import (
    ESRVersionRewriteRule,
    FenixVersionRewriteRule,
    MajorVersionRule,
    ProcessTypeRule,
)
from crashcart.processor.walker import Walker
from crashcart.schemas import Schemas, builtin_schemas


class RulesetError(ValueError):
    """A rule or ruleset cannot be built: unknown name, unknown optional rule, or a missing dependency."""


@dataclass(frozen=True)
class RuleConfig:
    """Everything rule factories may use.

    ``schemas`` (the copy rule's field list); ``optional_rules``, the deployment's choice of optional rules;
    ``beta_versions_file``, the product/channel/build id → version table of ``beta_version``
    (``CRASHCART_BETA_VERSIONS_FILE``); ``walker``, the stack-walk rule's walker, and
    ``signature_generator``, the signature rule's siggen generator — collaborators built once per worker by
    the composition root and shared by every ruleset. A rule whose dependency is None cannot be built.
    """

    schemas: Schemas = field(default_factory=builtin_schemas)
    optional_rules: frozenset[str] = frozenset()
    beta_versions_file: Path | None = None
    walker: Walker | None = None
    signature_generator: SignatureGenerator | None = None


RuleFactory = Callable[[RuleConfig], Rule]


@dataclass(frozen=True)
class RuleSpec:
    """One registered rule: its class, whether it is optional, and its factory (``cls()`` when None)."""

    cls: type[Rule]
    optional: bool = False
    factory: RuleFactory | None = None

    @property
    def name(self) -> str:
        return self.cls.name

    def build(self, config: RuleConfig) -> Rule:
        rule = self.factory(config) if self.factory is not None else self.cls()
        if not isinstance(rule, self.cls) or rule.name != self.name:
            raise RulesetError(f"factory for {self.name!r} built {rule!r}")
        return rule


def _stackwalk(config: RuleConfig) -> Rule:
    if config.walker is None:
        raise RulesetError("rule minidump_stackwalk needs a walker (RuleConfig.walker)")
    return StackwalkRule(config.walker)


def _signature(config: RuleConfig) -> Rule:
    if config.signature_generator is None:
        raise RulesetError("rule signature_generator needs a generator (RuleConfig.signature_generator)")
    return SignatureGeneratorRule(config.signature_generator)


def _beta_version(config: RuleConfig) -> Rule:
    if config.beta_versions_file is None:
        raise RulesetError("optional rule beta_version needs a beta versions file (CRASHCART_BETA_VERSIONS_FILE)")
    try:
        lookup = FileVersionLookup(config.beta_versions_file)
    except ValueError as exc:
        raise RulesetError(f"optional rule beta_version: {exc}") from exc
    return BetaVersionRule(lookup)


def _optional(cls: type[Rule], factory: RuleFactory | None = None) -> RuleSpec:
    return RuleSpec(cls, optional=True, factory=factory)


_SPECS: tuple[RuleSpec, ...] = (
    # Annotations and collector metadata.
    RuleSpec(DeNullRule),
    RuleSpec(DeNoneRule),
    RuleSpec(CrashReportKeysRule),
    RuleSpec(CollectorMetadataRule),
    RuleSpec(CopyFromRawCrashRule, factory=lambda config: CopyFromRawCrashRule(config.schemas.processed_crash)),
    RuleSpec(IdentifierRule),
    RuleSpec(MinidumpSha256HashRule),
    RuleSpec(MajorVersionRule),
    RuleSpec(ProcessTypeRule),
    RuleSpec(DatesAndTimesRule),
    RuleSpec(JavaStackTraceRule),
    RuleSpec(JavaExceptionRule),
    RuleSpec(ReportTypeRule),
    # The stack walk and the facts read from its json_dump.
    RuleSpec(StackwalkRule, factory=_stackwalk),
    RuleSpec(ModuleURLRewriteRule),
    RuleSpec(CrashingThreadInfoRule),
    RuleSpec(TruncateStacksRule),
    RuleSpec(PossibleBitFlipsRule),
    RuleSpec(CrashInconsistenciesRule),
    RuleSpec(HasGuardPageAccessRule),
    RuleSpec(CPUInfoRule),
    RuleSpec(OSInfoRule),
    RuleSpec(OSPrettyVersionRule),
    RuleSpec(TopMostFilesRule),
    RuleSpec(ModulesInStackRule),
    RuleSpec(MissingSymbolsRule),
    RuleSpec(ThreadCountRule),
    # The signature.
    RuleSpec(SignatureGeneratorRule, factory=_signature),
    # Optional (Mozilla) rules: built only when a deployment names them.
    _optional(FenixVersionRewriteRule),
    _optional(ESRVersionRewriteRule),
    _optional(SubmittedFromRule),
    _optional(AccessibilityRule),
    _optional(AddonsRule),
    _optional(OutOfMemoryBinaryRule),
    _optional(PHCRule),
    _optional(BreadcrumbsRule),
    _optional(MozCrashReasonRule),
    _optional(UtilityActorsNameRule),
    _optional(DistributionIdRule),
    _optional(BetaVersionRule, _beta_version),
    _optional(ThemePrettyNameRule),
    _optional(MemoryReportExtractionRule),
    _optional(ShutdownHangCrashingThreadRule),
)


def _index(specs: tuple[RuleSpec, ...]) -> dict[str, RuleSpec]:
    registry: dict[str, RuleSpec] = {}
    for spec in specs:
        if spec.name in registry:
            raise RuntimeError(f"rule {spec.name!r} is registered twice")
        registry[spec.name] = spec
    return registry


#: Every processing rule by name.
REGISTRY: Mapping[str, RuleSpec] = _index(_SPECS)

#: Rules that run only when a deployment switches them on by name (Mozilla-specific behaviour).
OPTIONAL_RULES: frozenset[str] = frozenset(name for name, spec in REGISTRY.items() if spec.optional)


def build_rule(name: str, config: RuleConfig) -> Rule:
    """The registered rule ``name`` built with ``config``; ``RulesetError`` if unknown or a dependency lacks."""
    spec = REGISTRY.get(name)
    if spec is None:
        raise RulesetError(f"no rule named {name!r} is registered")
    return spec.build(config)
