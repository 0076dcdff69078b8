"""The siggen adapter: siggen's pipeline with merged lists and a system-library rule.

siggen (Mozilla's signature generation, the library Socorro's ``socorro/signature`` is published as) is used
as it is — its ``SignatureGenerator`` pipeline, frame normalisation and post-processing rules (OOM, abort
message, stack overflow, whitespace, truncation) — with two changes made through its public extension
points (a ruleset of rule *instances* passed to ``SignatureGenerator(ruleset=…)``):

* the first rule's ``CSignatureTool`` uses Crashcart's merged lists (:mod:`.lists`) instead of one directory;
* :class:`SystemLibrarySignatureRule` runs right after it. When the crashing stack starts inside system
  libraries (libc, the C++ runtime, the loader, ntdll, …), it re-signs the crash by the first frame outside
  them, with the kind of termination in front: ``abort | ValidateConfig``, ``std::terminate | ParseInput``,
  or the system module's name for any other fault (``ntdll.dll | ReleaseWidget``).

Why by module and not by function name: a system library shipped without debug information is symbolicated
from its export table, so a frame in glibc's ``__pthread_kill_implementation`` is reported as the nearest
exported symbol, ``pthread_key_delete``; siggen's stock lists then sign every abort on Linux
``pthread_key_delete``. Whether a frame is in a system library is decided by its module, which is always
right; function names are used only as positive evidence of the termination kind, and the crash reason
(``SIGABRT``, ``FAST_FAIL_FATAL_APP_EXIT``, ``Unhandled C++ Exception``) stands in when the library had no
symbols at all.
"""

from __future__ import annotations

import fnmatch
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from siggen.generator import DEFAULT_RULESET, SignatureGenerator  # type: ignore[import-untyped]
from siggen.rules import (  # type: ignore[import-untyped]
    MAXIMUM_FRAMES_TO_CONSIDER,
    CSignatureTool,
)
from siggen.rules import Rule as SiggenRule
from siggen.rules import SignatureGenerationRule as SiggenSignatureGenerationRule

from crashcart.processor.signature.lists import SignatureLists

LOGGER = logging.getLogger(__name__)

#: Signature prefixes for the termination kinds.
ABORT = "abort"
TERMINATE = "std::terminate"

#: Crash reasons meaning the process aborted itself (Linux/macOS signal; Windows ``abort()`` → ``__fastfail``).
ABORT_REASON = re.compile(r".*(SIGABRT|FAST_FAIL_FATAL_APP_EXIT)")
#: Crash reasons meaning an uncaught C++ exception (MSVC's exception code 0xE06D7363, "msc").
CXX_EXCEPTION_REASON = re.compile(r".*(Unhandled C\+\+ Exception|0xe06d7363)", re.IGNORECASE)
#: C++ runtimes: an abort that passes through one of them, without an abort-list function of its own there,
#: is std::terminate (an uncaught exception whose runtime had no symbols).
CXX_RUNTIME_LIBRARIES = (
    "libstdc++.so*",
    "libc++.so*",
    "libc++abi.so*",
    "libc++_shared.so",
    "libcxxrt.so*",
    "libc++abi.dylib",
    "libc++.1.dylib",
)
#: Matches nothing: an empty list must not become the empty regex, which matches everything.
_NEVER = "(?!)"


def _regex(lines: Sequence[str]) -> re.Pattern[str]:
    return re.compile("|".join(lines) if lines else _NEVER)


class ModuleMatcher:
    """Case-insensitive shell globs over module file names (``libc.so*``, ``libsystem_*.dylib``)."""

    def __init__(self, globs: Iterable[str]) -> None:
        patterns = [fnmatch.translate(g.lower()) for g in globs]
        self._re = re.compile("|".join(patterns) if patterns else _NEVER)

    def __call__(self, module: str | None) -> bool:
        return bool(module) and self._re.match(str(module).lower()) is not None


class ListsCSignatureTool(CSignatureTool):  # type: ignore[misc]
    """siggen's C/C++/Rust signature tool reading Crashcart's merged lists.

    siggen loads its four lists in ``__init__`` (from its package, or from one directory holding all four)
    into the attributes replaced here; ``datadir`` is only shown in the debug log.
    """

    def __init__(self, lists: SignatureLists) -> None:
        super().__init__()
        self.datadir = lists.source
        self.irrelevant_signature_re = _regex(lists.irrelevant)
        self.prefix_signature_re = _regex(lists.prefix)
        self.signatures_with_line_numbers_re = _regex(lists.line_numbers)
        self.signature_sentinels = lists.sentinels


class SignatureGenerationRule(SiggenSignatureGenerationRule):  # type: ignore[misc]
    """siggen's ``SignatureGenerationRule`` with the merged-lists tool.

    Same class name as siggen's on purpose: siggen names rules by class name in notes and debug lines
    (``SignatureGenerationRule: …``), which Socorro users search for.
    """

    def __init__(self, tool: ListsCSignatureTool) -> None:
        super().__init__()
        self.c_signature_tool = tool


def _thread_frames(crash_data: dict[str, Any]) -> list[dict[str, Any]]:
    index = crash_data.get("crashing_thread")
    threads = crash_data.get("threads")
    if not isinstance(index, int) or isinstance(index, bool) or not isinstance(threads, list):
        return []
    if not 0 <= index < len(threads) or not isinstance(threads[index], dict):
        return []
    frames = threads[index].get("frames")
    return [f for f in frames if isinstance(f, dict)] if isinstance(frames, list) else []


class SystemLibrarySignatureRule(SiggenRule):  # type: ignore[misc]
    """Re-signs a crash that surfaced in system libraries by the application frame that called into them.

    Runs after ``SignatureGenerationRule``; ``proto_signature`` (all frames) is left as siggen made it.
    Does nothing when the top frame is not in a system library. When no frame is outside them (a thread the
    system started), the signature is ``<kind> | <innermost module>`` if the kind is known, else siggen's.
    """

    def __init__(self, tool: CSignatureTool, lists: SignatureLists) -> None:
        super().__init__()
        self.tool = tool
        self.is_system = ModuleMatcher(lists.system_libraries)
        self.is_cxx_runtime = ModuleMatcher(CXX_RUNTIME_LIBRARIES)
        self.abort_re = _regex(lists.abort_frames)
        self.terminate_re = _regex(lists.terminate_frames)

    def predicate(self, crash_data: dict[str, Any], result: Any) -> bool:
        if crash_data.get("java_stack_trace") or crash_data.get("java_exception"):
            return False
        frames = _thread_frames(crash_data)
        return bool(frames) and self.is_system(frames[0].get("module"))

    def action(self, crash_data: dict[str, Any], result: Any) -> bool:
        frames = _thread_frames(crash_data)[:MAXIMUM_FRAMES_TO_CONSIDER]
        split = next((i for i, f in enumerate(frames) if not self.is_system(f.get("module"))), None)
        windows = crash_data.get("os") == "Windows NT"
        reason = str(crash_data.get("reason") or "")
        if split is None:
            # No application frame (a thread the system started): the kind and the innermost module, if known.
            kind = self.termination_kind(frames, reason, windows)
            if kind is None:
                result.debug(self.name, "every frame is in a system library; signature kept")
            else:
                result.set_signature(self.name, f"{kind} | {self._module_name(frames[0], windows)}")
            return True
        system_frames, app_frames = frames[:split], frames[split:]
        kind = self.termination_kind(system_frames, reason, windows)
        if kind is None:
            kind = self._module_name(system_frames[0], windows)
        app_list = self.tool.create_frame_list({"frames": app_frames}, windows)
        app_signature, notes, debug_notes = self.tool.generate(app_list, crash_data.get("crashing_thread"))
        for note in notes:
            result.info(self.name, note)
        for note in debug_notes:
            result.debug(self.name, note)
        modules = sorted({str(f.get("module")) for f in system_frames})
        result.debug(self.name, "skipped %d system-library frames in %s", split, ", ".join(modules))
        result.extra["system_frames"] = split
        result.set_signature(self.name, f"{kind} | {app_signature}")
        return True

    @staticmethod
    def _module_name(frame: dict[str, Any], windows: bool) -> str:
        module = str(frame.get("module") or "").strip("[]")
        return module.lower() if windows else module

    def termination_kind(self, system_frames: list[dict[str, Any]], reason: str, windows: bool) -> str | None:
        """``std::terminate``, ``abort`` or None, from the system frames' names and modules and the reason."""
        names = self.tool.create_frame_list({"frames": system_frames}, windows)
        if CXX_EXCEPTION_REASON.match(reason) or any(self.terminate_re.match(n) for n in names if n):
            return TERMINATE
        abort_names = any(self.abort_re.match(n) for n in names if n)
        if not abort_names and not ABORT_REASON.match(reason):
            return None
        runtime_frames = [f for f in system_frames if self.is_cxx_runtime(f.get("module"))]
        if runtime_frames:
            runtime_names = self.tool.create_frame_list({"frames": runtime_frames}, windows)
            if not any(self.abort_re.match(n) for n in runtime_names if n):
                return TERMINATE  # an abort from inside the C++ runtime: its terminate handler
        return ABORT


ErrorHandler = Callable[..., None]


def log_rule_error(signature_data: Any, exc_info: Any = None, extra: Any = None) -> None:
    """siggen's error hook: a signature rule that raised is logged with its traceback (operators only); siggen
    carries on and adds a note, which the processor's signature rule trims to the rule's name."""
    rule = extra.get("rule") if isinstance(extra, dict) else None
    LOGGER.error("signature rule %s failed", rule, exc_info=exc_info)


def build_signature_generator(
    lists: SignatureLists, error_handler: ErrorHandler = log_rule_error
) -> SignatureGenerator:
    """siggen's default pipeline with the merged lists and :class:`SystemLibrarySignatureRule` after the first
    rule. ``error_handler(signature_data, exc_info=…, extra={"rule": name})`` is siggen's hook for a rule that
    raised (siggen itself carries on and adds a note); by default the failure is logged."""
    if DEFAULT_RULESET[0] is not SiggenSignatureGenerationRule:  # siggen changed its pipeline: review this adapter
        raise RuntimeError("siggen's DEFAULT_RULESET no longer starts with SignatureGenerationRule")
    tool = ListsCSignatureTool(lists)
    ruleset = [SignatureGenerationRule(tool), SystemLibrarySignatureRule(tool, lists), *DEFAULT_RULESET[1:]]
    return SignatureGenerator(ruleset=ruleset, error_handler=error_handler)
