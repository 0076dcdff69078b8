"""Module URL redaction (Socorro's ``ModuleURLRewriteRule``, generalised).

``json_dump`` is public, and module records can carry URLs that are not: a symbol server URL with a token in
its query string or ``user:password@`` in its authority, or a localhost symbol server only the processor can
reach. Socorro drops localhost URLs and strips the query of ``symbols.mozilla.org`` URLs; here every URL
loses its credentials, query and fragment, and URLs to loopback hosts are dropped.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

from crashcart.processor.context import CrashContext
from crashcart.processor.rules.base import Rule

#: Module fields holding a URL or path that may be a URL.
URL_FIELDS = ("symbol_url", "filename", "code_file", "debug_file")
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})  # noqa: S104 (compared, not bound)


def redact_url(value: str) -> str | None:
    """``value`` without credentials, query and fragment; None for a loopback URL; unchanged if not a URL."""
    if "://" not in value:
        return value
    try:
        parts = urlsplit(value)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None  # unparseable (bad port, bad IPv6 literal): drop rather than publish
    if host is None:
        return value if not (parts.query or parts.fragment or "@" in parts.netloc) else None
    if host.lower() in LOOPBACK_HOSTS or host.lower().endswith(".localhost"):
        return None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    return urlunsplit(SplitResult(parts.scheme, netloc, parts.path, "", ""))


class ModuleURLRewriteRule(Rule):
    """Redacts module URLs in ``json_dump`` and every additional minidump's ``json_dump``."""

    name = "module_url_rewrite"

    def action(self, ctx: CrashContext) -> None:
        for key, value in ctx.processed.items():
            if key == "json_dump" and isinstance(value, dict):
                self._redact(ctx, value)
            elif isinstance(value, dict) and isinstance(value.get("json_dump"), dict):
                self._redact(ctx, value["json_dump"])

    def _redact(self, ctx: CrashContext, doc: dict[str, Any]) -> None:
        for list_name in ("modules", "unloaded_modules"):
            for module in doc.get(list_name) or []:
                if not isinstance(module, dict):
                    continue
                for field in URL_FIELDS:
                    value = module.get(field)
                    if not isinstance(value, str):
                        continue
                    redacted = redact_url(value)
                    if redacted != value:
                        module[field] = redacted
                        ctx.note(f"module_url_rewrite: redacted {field} of module {_label(module, field)}")


def _label(module: dict[str, Any], field: str) -> str:
    """The module's file name for a note, or ``?`` when the file name itself was the URL being redacted."""
    filename = module.get("filename")
    if field == "filename" or not isinstance(filename, str):
        return "?"
    return redact_url(filename) or "?"
