"""The walker's output types: frames with their trust, per-thread stacks, and the walk result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from crashcart.minidump import Module

#: Recorded on every processed crash (``processor_history``); bump when output can change for the same input.
WALKER_VERSION = "crashcart-stackwalk 0.2"


class Trust(StrEnum):
    """How a frame was found, best first (rust-minidump's JSON names)."""

    CONTEXT = "context"
    PREWALKED = "prewalked"
    CFI = "cfi"
    FRAME_POINTER = "frame_pointer"
    CFI_SCAN = "cfi_scan"
    SCAN = "scan"
    NONE = "none"


@dataclass(frozen=True)
class Frame:
    """One stack frame.

    ``offset`` is the address Breakpad prints for the frame: the raw return address on x86/amd64, the
    adjusted instruction (``pc - 2`` on arm, ``pc - 4`` on arm64) elsewhere; frame 0 prints its pc.
    ``instruction`` is the address used for module, symbol and CFI lookup (``return address - 1`` on
    x86/amd64). ``module_offset`` is ``offset - module.base_address`` (None outside every module).
    ``registers`` holds only the registers known to be valid in this frame, by the context's names.
    """

    trust: Trust
    offset: int
    instruction: int
    module: Module | None
    module_offset: int | None
    registers: Mapping[str, int] = field(repr=False)
    function: str | None = None

    @property
    def module_name(self) -> str | None:
        return None if self.module is None else self.module.filename


@dataclass(frozen=True)
class ThreadStack:
    """The frames of one thread; ``index`` numbers threads as Breakpad does (the dump-writing thread skipped)."""

    index: int
    thread_id: int
    frames: tuple[Frame, ...]
    #: Why the walk stopped early, if it did (``frame_limit``, ``time_budget``, ``no_context``, ``no_stack``).
    truncated: str | None = None


@dataclass(frozen=True)
class WalkResult:
    cpu: str
    os: str
    threads: tuple[ThreadStack, ...]
    crashing_thread: int | None
    #: ``ok``, ``partial`` (a limit was hit, see notes), or ``failed`` (nothing could be walked).
    status: str
    notes: tuple[str, ...] = ()
    version: str = WALKER_VERSION

    def thread(self, index: int) -> ThreadStack | None:
        for stack in self.threads:
            if stack.index == index:
                return stack
        return None

    @property
    def crashing_stack(self) -> ThreadStack | None:
        return None if self.crashing_thread is None else self.thread(self.crashing_thread)
