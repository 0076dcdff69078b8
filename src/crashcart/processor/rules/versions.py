"""Version and process-type rules, plus the optional Mozilla version rewrites (off unless switched on)."""

from __future__ import annotations

import re
from typing import ClassVar

from crashcart.processor.context import CrashContext
from crashcart.processor.rules.base import Rule

_MAJOR_RE = re.compile(r"\d{1,9}")


class MajorVersionRule(Rule):
    """``major_version``: the leading integer of ``version`` (the Version annotation), 0 when there is none."""

    name: ClassVar[str] = "major_version"

    def action(self, ctx: CrashContext) -> None:
        version = ctx.processed.get("version", ctx.raw_crash.get("Version", ""))
        major = 0
        if isinstance(version, str):
            first = version[:32].split(".", 1)[0].strip()
            if _MAJOR_RE.fullmatch(first):
                major = int(first)
        ctx.processed["major_version"] = major


class ProcessTypeRule(Rule):
    """``process_type``: the ProcessType annotation, ``parent`` when absent (``main`` is an alias of it)."""

    name: ClassVar[str] = "process_type"
    MAX_LENGTH: ClassVar[int] = 100

    def action(self, ctx: CrashContext) -> None:
        value = ctx.raw_crash.get("ProcessType", "parent")
        if not isinstance(value, str) or not value.strip() or len(value) > self.MAX_LENGTH:
            ctx.note("ProcessType has a malformed value; process_type set to parent")
            value = "parent"
        value = value.strip()
        ctx.processed["process_type"] = "parent" if value == "main" else value


class ESRVersionRewriteRule(Rule):
    """Optional (Mozilla): append ``esr`` to ``version`` on the esr release channel."""

    name: ClassVar[str] = "esr_version_rewrite"

    def predicate(self, ctx: CrashContext) -> bool:
        return ctx.processed.get("release_channel") == "esr" and isinstance(ctx.processed.get("version"), str)

    def action(self, ctx: CrashContext) -> None:
        if not ctx.processed["version"].endswith("esr"):
            ctx.processed["version"] += "esr"


class FenixVersionRewriteRule(Rule):
    """Optional (Mozilla): Fenix nightlies report ``Nightly <date>`` as version; rewrite to ``0.0a1``."""

    name: ClassVar[str] = "fenix_version_rewrite"

    def predicate(self, ctx: CrashContext) -> bool:
        version = ctx.processed.get("version")
        return ctx.processed.get("product") == "Fenix" and isinstance(version, str) and version.startswith("Nightly ")

    def action(self, ctx: CrashContext) -> None:
        ctx.processed["version"] = "0.0a1"
        ctx.note("fenix_version_rewrite: version rewritten to 0.0a1")
