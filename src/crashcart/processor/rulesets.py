"""Named rulesets: which rules run, in which order, for ``default`` processing and for reprocessing.

A ruleset is a tuple of rule names; a factory per name builds the rule from a ``RuleConfig``. This module
owns the general rules' factories (``RULE_FACTORIES``); rules living elsewhere (stack walk, signature, …)
are handed to ``build_ruleset`` through ``factories=`` by the composition root, so nothing registers itself
at import time (STYLE.md §1). A name listed in a ruleset without a factory is an error at start, not a
silently skipped step. Optional rules (Mozilla-only behaviour) sit at their place in the order and run only
when named in ``RuleConfig.optional_rules``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from crashcart.processor.rules.base import Rule
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
from crashcart.processor.rules.versions import (
    ESRVersionRewriteRule,
    FenixVersionRewriteRule,
    MajorVersionRule,
    ProcessTypeRule,
)
from crashcart.schemas import Schemas, builtin_schemas


class RulesetError(ValueError):
    """A ruleset cannot be built: unknown ruleset, unknown optional rule, or a rule without a factory."""


@dataclass(frozen=True)
class RuleConfig:
    """What rule factories may use: the schemas, the deployment's choice of optional rules, and the
    optional rules' own inputs (``beta_versions_file``: the product/channel/build id → version table the
    ``beta_version`` rule reads, from ``CRASHCART_BETA_VERSIONS_FILE``)."""

    schemas: Schemas = field(default_factory=builtin_schemas)
    optional_rules: frozenset[str] = frozenset()
    beta_versions_file: Path | None = None


RuleFactory = Callable[[RuleConfig], Rule]

#: Rules supplied by other modules (stack walk, crash facts from json_dump, signature); their factories
#: must be passed to ``build_ruleset(factories=...)``.
PLUGGABLE_RULES: tuple[str, ...] = (
    "minidump_stackwalk",
    "module_url_rewrite",
    "crashing_thread_info",
    "truncate_stacks",
    "possible_bit_flips",
    "crash_inconsistencies",
    "has_guard_page_access",
    "cpu_info",
    "os_info",
    "os_pretty_version",
    "topmost_filenames",
    "modules_in_stack",
    "missing_symbols",
    "thread_count",
    "signature_generator",
)

#: Rules that run only when a deployment switches them on by name (Mozilla-specific behaviour).
OPTIONAL_RULES: frozenset[str] = frozenset(
    {
        "fenix_version_rewrite",
        "esr_version_rewrite",
        "submitted_from",
        "accessibility",
        "addons",
        "out_of_memory_binary",
        "phc",
        "breadcrumbs",
        "moz_crash_reason",
        "utility_actors_name",
        "beta_version",
        "theme_pretty_name",
        "memory_report_extraction",
        "distribution_id",
        "shutdown_hang_crashing_thread",
    }
)

#: Rule order per ruleset (Socorro's DEFAULT_RULESET order, generic rules plus optional ones in place).
RULESETS: Mapping[str, tuple[str, ...]] = {
    "default": (
        "de_null",
        "de_none",
        "crash_report_keys",
        "collector_metadata",
        "copy_from_raw",
        "fenix_version_rewrite",
        "esr_version_rewrite",
        "submitted_from",
        "identifier",
        "minidump_sha256_hash",
        "minidump_stackwalk",
        "module_url_rewrite",
        "crashing_thread_info",
        "truncate_stacks",
        "possible_bit_flips",
        "crash_inconsistencies",
        "has_guard_page_access",
        "major_version",
        "process_type",
        "accessibility",
        "addons",
        "dates_and_times",
        "out_of_memory_binary",
        "phc",
        "breadcrumbs",
        "java_stack_trace",
        "java_exception",
        "moz_crash_reason",
        "utility_actors_name",
        "report_type",
        "cpu_info",
        "distribution_id",
        "os_info",
        "beta_version",
        "os_pretty_version",
        "topmost_filenames",
        "modules_in_stack",
        "missing_symbols",
        "theme_pretty_name",
        "memory_report_extraction",
        "thread_count",
        "signature_generator",
        "shutdown_hang_crashing_thread",
    ),
    "regenerate_signature": ("signature_generator",),
}


def _beta_version_rule(config: RuleConfig) -> Rule:
    if config.beta_versions_file is None:
        raise RulesetError("optional rule beta_version needs a beta versions file (CRASHCART_BETA_VERSIONS_FILE)")
    try:
        lookup = FileVersionLookup(config.beta_versions_file)
    except ValueError as exc:
        raise RulesetError(f"optional rule beta_version: {exc}") from exc
    return BetaVersionRule(lookup)


#: Factories for the rules defined in this package's general rule modules.
RULE_FACTORIES: Mapping[str, RuleFactory] = {
    "de_null": lambda config: DeNullRule(),
    "de_none": lambda config: DeNoneRule(),
    "crash_report_keys": lambda config: CrashReportKeysRule(),
    "collector_metadata": lambda config: CollectorMetadataRule(),
    "copy_from_raw": lambda config: CopyFromRawCrashRule(config.schemas.processed_crash),
    "fenix_version_rewrite": lambda config: FenixVersionRewriteRule(),
    "esr_version_rewrite": lambda config: ESRVersionRewriteRule(),
    "identifier": lambda config: IdentifierRule(),
    "minidump_sha256_hash": lambda config: MinidumpSha256HashRule(),
    "major_version": lambda config: MajorVersionRule(),
    "process_type": lambda config: ProcessTypeRule(),
    "dates_and_times": lambda config: DatesAndTimesRule(),
    "java_stack_trace": lambda config: JavaStackTraceRule(),
    "java_exception": lambda config: JavaExceptionRule(),
    "report_type": lambda config: ReportTypeRule(),
    # Optional (Mozilla) rules: built only when switched on.
    "submitted_from": lambda config: SubmittedFromRule(),
    "accessibility": lambda config: AccessibilityRule(),
    "addons": lambda config: AddonsRule(),
    "out_of_memory_binary": lambda config: OutOfMemoryBinaryRule(),
    "phc": lambda config: PHCRule(),
    "breadcrumbs": lambda config: BreadcrumbsRule(),
    "moz_crash_reason": lambda config: MozCrashReasonRule(),
    "utility_actors_name": lambda config: UtilityActorsNameRule(),
    "distribution_id": lambda config: DistributionIdRule(),
    "beta_version": _beta_version_rule,
    "theme_pretty_name": lambda config: ThemePrettyNameRule(),
    "memory_report_extraction": lambda config: MemoryReportExtractionRule(),
    "shutdown_hang_crashing_thread": lambda config: ShutdownHangCrashingThreadRule(),
}


def ruleset_names() -> tuple[str, ...]:
    """Valid ruleset names (for validating ``<crash id>:<ruleset>`` queue messages and the reprocess API)."""
    return tuple(RULESETS)


def build_ruleset(
    name: str, config: RuleConfig | None = None, *, factories: Mapping[str, RuleFactory] | None = None
) -> list[Rule]:
    """The rules of ruleset ``name`` in order, built with ``config``.

    ``factories`` adds (or replaces) factories by rule name, e.g. the stack-walk and signature rules.
    Raises ``RulesetError`` for an unknown ruleset, an unknown optional rule in ``config``, an enabled
    optional rule nobody implements, or a mandatory rule without a factory.
    """
    config = config or RuleConfig()
    if name not in RULESETS:
        raise RulesetError(f"unknown ruleset {name!r}; known: {', '.join(RULESETS)}")
    unknown_optional = sorted(config.optional_rules - OPTIONAL_RULES)
    if unknown_optional:
        raise RulesetError(
            f"unknown optional rule(s) {', '.join(unknown_optional)}; known: {', '.join(sorted(OPTIONAL_RULES))}"
        )
    available: dict[str, RuleFactory] = {**RULE_FACTORIES, **(factories or {})}
    selected = [rule for rule in RULESETS[name] if rule not in OPTIONAL_RULES or rule in config.optional_rules]
    missing = [rule for rule in selected if rule not in available]
    if missing:
        raise RulesetError(f"ruleset {name!r}: no factory for rule(s) {', '.join(missing)}")
    rules = [available[rule](config) for rule in selected]
    for rule_name, rule in zip(selected, rules, strict=True):
        if rule.name != rule_name:
            raise RulesetError(f"factory for {rule_name!r} built a rule named {rule.name!r}")
    return rules
