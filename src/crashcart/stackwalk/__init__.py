"""Crashcart's stack walker: ``walk(minidump, symbols, options) -> WalkResult``. See ``docs/stackwalk.md``.

The entry point for a minidump file (JSON or text out, production symbols) is
``crashcart.stackwalk.stackwalker.Stackwalker``; it is not imported here, so unwinder users do not load
``crashcart.symbols``.
"""

from __future__ import annotations

from crashcart.stackwalk.cfi import caller_registers, evaluate, run_program
from crashcart.stackwalk.frame import WALKER_VERSION, Frame, ThreadStack, Trust, WalkResult
from crashcart.stackwalk.interfaces import CfiRules, NoSymbols, SymbolLookup, WindowsFrameInfo
from crashcart.stackwalk.walker import WalkOptions, walk, walk_stack

__all__ = [
    "WALKER_VERSION",
    "CfiRules",
    "Frame",
    "NoSymbols",
    "SymbolLookup",
    "ThreadStack",
    "Trust",
    "WalkOptions",
    "WalkResult",
    "WindowsFrameInfo",
    "caller_registers",
    "evaluate",
    "run_program",
    "walk",
    "walk_stack",
]
