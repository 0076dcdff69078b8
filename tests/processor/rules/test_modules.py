"""Module URL redaction: no credentials, query strings or loopback URLs in the public json_dump."""

from __future__ import annotations

from typing import Any

import pytest

from crashcart.processor.context import CrashContext
from crashcart.processor.rules.modules import ModuleURLRewriteRule, redact_url


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://symbols.example.com/xul.pdb/ABC/xul.sym", "https://symbols.example.com/xul.pdb/ABC/xul.sym"),
        ("https://symbols.example.com/xul.sym?token=s3cr3t&x=1", "https://symbols.example.com/xul.sym"),
        ("https://user:pass@symbols.example.com:8443/a.sym#frag", "https://symbols.example.com:8443/a.sym"),
        ("http://localhost:8070/a.sym", None),
        ("http://127.0.0.1/a.sym", None),
        ("http://[::1]:80/a.sym", None),
        ("http://symbols.localhost/a.sym", None),
        ("http://[2001:db8::1]:81/a.sym?k=v", "http://[2001:db8::1]:81/a.sym"),
        ("https://host:notaport/a", None),
        ("file:///srv/symbols/a.sym", "file:///srv/symbols/a.sym"),
        ("file:///srv/symbols/a.sym?x", None),
        ("libxul.so", "libxul.so"),
        ("C:\\Windows\\System32\\ntdll.dll", "C:\\Windows\\System32\\ntdll.dll"),
    ],
)
def test_redact_url(value: str, expected: str | None) -> None:
    assert redact_url(value) == expected


def test_rule_redacts_every_dump() -> None:
    main: dict[str, Any] = {
        "modules": [
            {"filename": "xul.dll", "symbol_url": "https://sym.example.com/xul.sym?X-Amz-Signature=abc"},
            {"filename": "app", "symbol_url": "https://sym.example.com/app.sym"},
            {"filename": "local", "symbol_url": "http://localhost:8000/local.sym"},
            {"filename": "plain", "symbol_url": None},
        ],
        "unloaded_modules": [{"filename": "https://cdn.example.com/plugin.dll?sig=1"}],
    }
    other: dict[str, Any] = {"modules": [{"filename": "b", "symbol_url": "https://u:p@sym.example.com/b.sym"}]}
    ctx = CrashContext("c", {}, processed={"json_dump": main, "upload_file_minidump_browser": {"json_dump": other}})
    ModuleURLRewriteRule().action(ctx)
    assert [m["symbol_url"] for m in main["modules"]] == [
        "https://sym.example.com/xul.sym",
        "https://sym.example.com/app.sym",
        None,
        None,
    ]
    assert main["unloaded_modules"][0]["filename"] == "https://cdn.example.com/plugin.dll"
    assert other["modules"][0]["symbol_url"] == "https://sym.example.com/b.sym"
    assert ctx.notes == [
        "module_url_rewrite: redacted symbol_url of module xul.dll",
        "module_url_rewrite: redacted symbol_url of module local",
        "module_url_rewrite: redacted filename of module ?",
        "module_url_rewrite: redacted symbol_url of module b",
    ]
