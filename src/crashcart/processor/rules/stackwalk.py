"""Walk every minidump of a report (Socorro's ``MinidumpStackwalkRule``).

Socorro shells out to ``minidump-stackwalk`` per dump; here the walk is an in-process call through the
:class:`~crashcart.processor.walker.Walker` given at construction (the worker's ``InProcessWalker`` with warm
symbol caches). As in Socorro, every dump whose name starts with ``upload_file_minidump`` is walked: the main
one fills ``json_dump`` and the top-level ``mdsw_status_string``/``success``/``stackwalk_version``; each other
one (``upload_file_minidump_browser``, …) gets the same keys under ``processed[<dump name>]`` and its name in
``additional_minidumps``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from crashcart.errors import CrashcartError
from crashcart.processor.context import CrashContext
from crashcart.processor.rules.base import Rule
from crashcart.processor.walker import Walker, failure_document

LOGGER = logging.getLogger(__name__)

#: The main dump's name; additional minidumps share it as a prefix (Socorro's ``dump_field``).
MAIN_DUMP = "upload_file_minidump"


class StackwalkRule(Rule):
    """Fills ``json_dump``, ``mdsw_status_string``, ``success``, ``stackwalk_version``, ``additional_minidumps``.

    A dump that cannot be read gives a ``json_dump`` whose ``status`` says why plus a public note; a zero-byte
    dump is not walked (``mdsw_status_string`` ``EmptyMinidump``, as Socorro).
    """

    name = "minidump_stackwalk"

    def __init__(self, walker: Walker, main_dump: str = MAIN_DUMP) -> None:
        self.walker = walker
        self.main_dump = main_dump

    def predicate(self, ctx: CrashContext) -> bool:
        return any(name.startswith(self.main_dump) for name in ctx.dumps)

    def action(self, ctx: CrashContext) -> None:
        additional: list[str] = ctx.processed.setdefault("additional_minidumps", [])
        names = sorted((n for n in ctx.dumps if n.startswith(self.main_dump)), key=lambda n: n != self.main_dump)
        for dump_name in names:
            data = self._walk_one(ctx, dump_name, ctx.dumps[dump_name])
            if dump_name == self.main_dump:
                ctx.processed.update(data)
            else:
                if dump_name not in additional:
                    additional.append(dump_name)
                ctx.processed.setdefault(dump_name, {}).update(data)

    def _walk_one(self, ctx: CrashContext, dump_name: str, path: Path) -> dict[str, Any]:
        try:
            size = path.stat().st_size
        except OSError:
            size = None
        if size == 0:
            ctx.note(f"stackwalk: {dump_name} is empty--skipping minidump processing")
            return {"mdsw_status_string": "EmptyMinidump", "success": False}
        if size is None:
            doc = failure_document("io_error")
        else:
            try:
                doc = self.walker(path, ctx.raw_crash)
            except CrashcartError as exc:  # a walker adapter's own taxonomy (e.g. a remote walker's timeout)
                LOGGER.warning("%s: walking %s failed: %s", ctx.crash_id, dump_name, exc.code)
                doc = failure_document(exc.code)
        if not isinstance(doc, dict):
            ctx.note(f"stackwalk: {dump_name}: walker produced unexpected output")
            doc = failure_document("unexpected_output")
        status = doc.get("status") or "unknown error"
        stackwalker = doc.get("stackwalker")
        if not isinstance(stackwalker, dict):
            stackwalker = {}
        version = stackwalker.get("version")
        if status != "OK":
            ctx.note(f"stackwalk: {dump_name}: failed: {status}")
        elif stackwalker.get("status") == "partial":
            reasons = ", ".join(str(n) for n in stackwalker.get("notes") or []) or "limit reached"
            ctx.note(f"stackwalk: {dump_name}: partial: {reasons}")
        return {
            "json_dump": doc,
            "mdsw_status_string": status,
            "success": status == "OK",
            "stackwalk_version": version if isinstance(version, str) else None,
        }
