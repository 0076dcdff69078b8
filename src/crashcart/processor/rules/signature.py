"""Signature generation (Socorro's ``SignatureGeneratorRule``) and the ``regenerate_signature`` rules.

The generator (siggen with Crashcart's merged lists and system-library rule, see
:mod:`crashcart.processor.signature`) is built once by the processor's composition root and given to the rule.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from siggen.generator import SignatureGenerator  # type: ignore[import-untyped]

from crashcart.processor.context import CrashContext
from crashcart.processor.rules.base import Rule
from crashcart.processor.signature import build_signature_generator, load_signature_lists, signature_data

LOGGER = logging.getLogger(__name__)

#: siggen's note for a signature rule that raised carries the exception's message; notes are public, so only
#: the rule name is kept (the message goes to the log).
_RULE_FAILED = re.compile(r"^(\S+): Rule failed: .*", re.DOTALL)

#: Names, in order, of the rules of the ``regenerate_signature`` ruleset (see :func:`regenerate_signature_rules`).
REGENERATE_SIGNATURE_RULES = ("signature_generator",)


def _log_rule_error(signature_data: Any, exc_info: Any = None, extra: Any = None) -> None:
    rule = extra.get("rule") if isinstance(extra, dict) else None
    LOGGER.error("signature rule %s failed", rule, exc_info=exc_info)


def default_signature_generator() -> SignatureGenerator:
    """siggen's lists plus Crashcart's, no deployment directory, errors logged."""
    return build_signature_generator(load_signature_lists(), error_handler=_log_rule_error)


class SignatureGeneratorRule(Rule):
    """Fills ``signature``, ``proto_signature`` and ``signature_debug`` (protected); siggen's notes become notes.

    ``generator`` is built by the composition root (``build_signature_generator(load_signature_lists(dir))``)
    so the lists are read once per process; None builds the default one.
    """

    name = "signature_generator"

    def __init__(self, generator: SignatureGenerator | None = None) -> None:
        self.generator = generator if generator is not None else default_signature_generator()

    def action(self, ctx: CrashContext) -> None:
        result = self.generator.generate(signature_data(ctx.processed))
        ctx.processed["signature"] = result.signature
        proto = result.extra.get("proto_signature")
        if proto:
            ctx.processed["proto_signature"] = proto
        else:
            ctx.processed.pop("proto_signature", None)  # reprocessing: do not keep a stale one
        ctx.processed["signature_debug"] = "\n".join(result.debug_log)
        for note in result.notes:
            failed = _RULE_FAILED.match(note)
            if failed:
                LOGGER.warning("%s: signature generation: %s", ctx.crash_id, note)
            ctx.note(f"{failed[1]}: Rule failed" if failed else note)


def regenerate_signature_rules(generator: SignatureGenerator | None = None) -> list[Rule]:
    """The ``regenerate_signature`` ruleset, as Socorro's: the signature alone, from the stored processed crash
    (siggen reads the crashing thread, reason and stacks from its ``json_dump``). Names:
    :data:`REGENERATE_SIGNATURE_RULES`."""
    return [SignatureGeneratorRule(generator)]
