"""Signature generation (Socorro's ``SignatureGeneratorRule``), the whole of the ``regenerate_signature`` ruleset.

The generator (siggen with Crashcart's merged lists, system-library rule and error handler, see
:mod:`crashcart.processor.signature`) is built once per worker by the processor's composition root and reaches
the rule through the rule configuration (:class:`crashcart.processor.registry.RuleConfig`).
"""

from __future__ import annotations

import logging
import re

from siggen.generator import SignatureGenerator  # type: ignore[import-untyped]

from crashcart.processor.context import CrashContext
from crashcart.processor.rules.base import Rule
from crashcart.processor.signature import signature_data

LOGGER = logging.getLogger(__name__)

#: siggen's note for a signature rule that raised carries the exception's message; notes are public, so only
#: the rule name is kept (the message goes to the log).
_RULE_FAILED = re.compile(r"^(\S+): Rule failed: .*", re.DOTALL)


class SignatureGeneratorRule(Rule):
    """Fills ``signature``, ``proto_signature`` and ``signature_debug`` (protected); siggen's notes become notes.

    ``generator`` is built once per worker (``build_signature_generator(load_signature_lists(dir))``) and
    shared by every ruleset; the rule never builds one itself.
    """

    name = "signature_generator"

    def __init__(self, generator: SignatureGenerator) -> None:
        self.generator = generator

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
