"""MD_ASSERTION_INFO_STREAM (0x47670002): an MSVC CRT assertion (invalid parameter, pure virtual call)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, ParseContext, unpack, utf16
from crashcart.minidump.streams._base import Stream


@dataclass(frozen=True)
class AssertionInfo(Stream):
    STREAM_TYPE: ClassVar[int] = fmt.StreamType.ASSERTION_INFO

    expression: str
    function: str
    file: str
    line: int
    type: int

    @property
    def description(self) -> str:
        """The assertion as Breakpad prints it (``Assertion:`` line), e.g. ``Invalid parameter passed to
        library function a != b in function f, in file x.c at line 12``."""
        if self.type == fmt.ASSERTION_TYPE_INVALID_PARAMETER:
            text = "Invalid parameter passed to library function"
        elif self.type == fmt.ASSERTION_TYPE_PURE_VIRTUAL_CALL:
            text = "Pure virtual function called"
        else:
            text = f"Unknown assertion type 0x{self.type:08x}"
        if self.expression:
            text += f" {self.expression}"
        if self.function:
            text += f" in function {self.function}"
        if self.file:
            text += f", in file {self.file}"
        if self.line:
            text += f" at line {self.line}"
        return text

    @classmethod
    def parse(cls, data: Buffer, ctx: ParseContext) -> AssertionInfo:
        expression, function, file, line, kind = unpack(fmt.ASSERTION_INFO, data, 0, "assertion info")
        return cls(utf16(expression), utf16(function), utf16(file), line, kind)
