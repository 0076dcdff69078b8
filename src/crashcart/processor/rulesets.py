"""Named rulesets: which registered rules run, in which order, for ``default`` processing and reprocessing.

A ruleset is a tuple of rule names from the registry (:mod:`crashcart.processor.registry`, where every rule is
declared once with how it is built); ``build_ruleset`` builds the listed rules from one ``RuleConfig``, so
every ruleset of a worker shares the collaborators in it (the walker, the signature generator). Optional
rules (Mozilla-only behaviour) sit at their place in the order and run only when named in
``RuleConfig.optional_rules``. Nothing registers itself at import time: the worker's composition root builds
every ruleset from ``registry.py``.
"""

from __future__ import annotations

from collections.abc import Mapping

from crashcart.processor.registry import OPTIONAL_RULES, REGISTRY, RuleConfig, RuleFactory, RulesetError
from crashcart.processor.rules.base import Rule

__all__ = ["RULESETS", "build_ruleset", "ruleset_names"]

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


def ruleset_names() -> tuple[str, ...]:
    """Valid ruleset names (for validating ``<crash id>:<ruleset>`` queue messages and the reprocess API)."""
    return tuple(RULESETS)


def build_ruleset(
    name: str, config: RuleConfig | None = None, *, overrides: Mapping[str, RuleFactory] | None = None
) -> list[Rule]:
    """The rules of ruleset ``name`` in order, built from the registry with ``config``.

    ``overrides`` replaces the factory of registered rules by name (tests put stand-ins in place of the
    walk or the signature); it cannot add a rule. Raises ``RulesetError`` for an unknown ruleset, an unknown
    optional rule in ``config``, an unknown override, or a rule whose dependency ``config`` lacks.
    """
    config = config or RuleConfig()
    overrides = overrides or {}
    if name not in RULESETS:
        raise RulesetError(f"unknown ruleset {name!r}; known: {', '.join(RULESETS)}")
    unknown_optional = sorted(config.optional_rules - OPTIONAL_RULES)
    if unknown_optional:
        raise RulesetError(
            f"unknown optional rule(s) {', '.join(unknown_optional)}; known: {', '.join(sorted(OPTIONAL_RULES))}"
        )
    unknown_overrides = sorted(set(overrides) - set(REGISTRY))
    if unknown_overrides:
        raise RulesetError(f"override(s) for unregistered rule(s) {', '.join(unknown_overrides)}")
    unregistered = [rule for rule in RULESETS[name] if rule not in REGISTRY]
    if unregistered:
        raise RulesetError(f"ruleset {name!r} lists unregistered rule(s) {', '.join(unregistered)}")
    selected = [rule for rule in RULESETS[name] if rule not in OPTIONAL_RULES or rule in config.optional_rules]
    rules: list[Rule] = []
    for rule_name in selected:
        override = overrides.get(rule_name)
        rule = override(config) if override is not None else REGISTRY[rule_name].build(config)
        if rule.name != rule_name:
            raise RulesetError(f"factory for {rule_name!r} built a rule named {rule.name!r}")
        rules.append(rule)
    return rules
