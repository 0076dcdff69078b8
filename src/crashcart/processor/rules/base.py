"""The shape of a processing rule.

A rule is a small object with a stable ``name``, a cheap ``predicate`` (should it run for this crash?) and an
``action`` that reads the context and writes fields of ``ctx.processed`` and public notes. Rules hold only
configuration given at construction (lists, limits, a walker); all per-crash state lives in the context, so
one rule instance serves every crash in a long-lived worker. A rule that raises is caught by the pipeline,
which records a public note naming the rule and the exception class, and processing goes on.
"""

from __future__ import annotations

from typing import ClassVar

from crashcart.processor.context import CrashContext


class Rule:
    """Base class of every processing rule; subclasses set ``name`` and override ``action``."""

    #: Stable identifier used in notes, metrics and logs; snake_case, unique within a ruleset.
    name: ClassVar[str] = "rule"

    def predicate(self, ctx: CrashContext) -> bool:
        """Whether ``action`` should run for this crash; the default is always."""
        return True

    def action(self, ctx: CrashContext) -> None:
        """Do the rule's work on ``ctx``; raising is allowed and becomes a processor note."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
