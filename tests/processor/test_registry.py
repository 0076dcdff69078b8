"""The rule registry: every rule class declared once, built with the collaborators of one configuration."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path
from typing import Any

import pytest

import crashcart.processor.rules
from crashcart.processor.registry import OPTIONAL_RULES, REGISTRY, RuleConfig, RulesetError, build_rule
from crashcart.processor.rules.base import Rule
from crashcart.processor.rules.signature import SignatureGeneratorRule
from crashcart.processor.rules.stackwalk import StackwalkRule
from crashcart.processor.rulesets import build_ruleset, ruleset_names
from crashcart.processor.signature import build_signature_generator, load_signature_lists
from crashcart.processor.walker import failure_document


def _rule_classes_in_rules_package() -> set[type[Rule]]:
    """Every ``Rule`` subclass defined in a module of ``crashcart.processor.rules`` (imported here, so a new
    module counts even if nothing imports it yet)."""
    found: set[type[Rule]] = set()
    for info in pkgutil.iter_modules(crashcart.processor.rules.__path__):
        module = importlib.import_module(f"crashcart.processor.rules.{info.name}")
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, Rule) and obj is not Rule and obj.__module__ == module.__name__:
                found.add(obj)
    return found


def test_every_rule_class_in_the_rules_package_is_registered() -> None:
    classes = _rule_classes_in_rules_package()
    assert len(classes) > 40  # the scan found the rules (a broken scan must not pass vacuously)
    unregistered = sorted(cls.__qualname__ for cls in classes - {spec.cls for spec in REGISTRY.values()})
    assert not unregistered, f"rule classes missing from processor/registry.py: {', '.join(unregistered)}"


def test_registry_keys_are_the_rules_own_names() -> None:
    for name, spec in REGISTRY.items():
        assert name == spec.cls.name, name
    assert len({spec.cls for spec in REGISTRY.values()}) == len(REGISTRY)


def test_optional_rules_are_the_mozilla_ones() -> None:
    assert "beta_version" in OPTIONAL_RULES and "signature_generator" not in OPTIONAL_RULES
    modules = {REGISTRY[name].cls.__module__.rsplit(".", 1)[1] for name in OPTIONAL_RULES}
    assert modules == {"mozilla", "versions", "memory_report"}


def test_unknown_rule() -> None:
    with pytest.raises(RulesetError, match="no rule named 'nope'"):
        build_rule("nope", RuleConfig())


def _walker(dump: Path, raw: Any) -> dict[str, Any]:
    return failure_document("no_dump")


def test_walker_and_generator_reach_their_rules_through_the_configuration() -> None:
    generator = build_signature_generator(load_signature_lists())
    config = RuleConfig(walker=_walker, signature_generator=generator)
    rules = [rule for name in ruleset_names() for rule in build_ruleset(name, config)]
    walks = [rule for rule in rules if isinstance(rule, StackwalkRule)]
    signs = [rule for rule in rules if isinstance(rule, SignatureGeneratorRule)]
    assert len(walks) == 1 and walks[0].walker is _walker
    assert len(signs) == len(ruleset_names()) == 2  # one per ruleset, one generator for all
    assert all(rule.generator is generator for rule in signs)
