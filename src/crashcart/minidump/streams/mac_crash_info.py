"""Mozilla's MozMacosCrashInfoStream (0x4d7a0001): the ``__DATA,__crash_info`` records of macOS modules
(the messages ``abort()``, ``assert`` and Apple frameworks leave for the crash reporter).

Each record has a fixed part whose fields grew with versions (1: stream type and version; 4: thread and
dialog mode; 5: abort cause), then NUL-terminated strings starting at the header's ``record_start_size``
(4+: module path, message, signature string, backtrace, message 2). All records share that offset, so they
must share a version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from crashcart.minidump import errors
from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, ParseContext, cstring, unpack
from crashcart.minidump.errors import MinidumpError
from crashcart.minidump.streams._base import Stream

#: Largest record read.
MAX_RECORD_SIZE = 64 * 1024


@dataclass(frozen=True)
class MacCrashInfoRecord:
    version: int
    thread: int | None = None
    dialog_mode: int | None = None
    abort_cause: int | None = None
    module_path: str | None = None
    message: str | None = None
    signature_string: str | None = None
    backtrace: str | None = None
    message2: str | None = None


@dataclass(frozen=True)
class MacCrashInfo(Stream):
    STREAM_TYPE: ClassVar[int] = fmt.StreamType.MOZ_MACOS_CRASH_INFO

    records: tuple[MacCrashInfoRecord, ...]

    @classmethod
    def parse(cls, data: Buffer, ctx: ParseContext) -> MacCrashInfo:
        _stream_type, count, strings_offset = unpack(fmt.MAC_CRASH_INFO, data, 0, "mac crash info header")
        records = []
        version = None
        for i in range(min(count, fmt.MAC_CRASH_INFO_MAX_RECORDS)):
            size, rva = ctx.location(
                data, fmt.MAC_CRASH_INFO.size + i * fmt.LOCATION.size, f"mac crash info record {i}"
            )
            if size > MAX_RECORD_SIZE:
                raise MinidumpError(
                    errors.TOO_MANY, f"mac crash info record {i} of {size} bytes is over {MAX_RECORD_SIZE}"
                )
            raw = ctx.read_bytes(rva, size, f"mac crash info record {i}")
            _type, record_version = unpack(fmt.MAC_CRASH_INFO_RECORD_1, raw, 0, f"mac crash info record {i}")
            if version is not None and record_version != version:
                raise MinidumpError(
                    errors.BAD_STREAM, f"mac crash info records have versions {version} and {record_version}"
                )
            version = record_version
            records.append(_record(raw, record_version, strings_offset, i))
        return cls(tuple(records))


def _record(raw: bytes, version: int, strings_offset: int, index: int) -> MacCrashInfoRecord:
    what = f"mac crash info record {index}"
    if version < 4:
        return MacCrashInfoRecord(version)
    fixed = fmt.MAC_CRASH_INFO_RECORD_5 if version >= 5 else fmt.MAC_CRASH_INFO_RECORD_4
    if strings_offset < fixed.size:
        raise MinidumpError(errors.BAD_STREAM, f"{what}: strings start at {strings_offset}, inside the fixed fields")
    values = unpack(fixed, raw, 0, what)
    strings: list[str] = []
    offset = strings_offset
    for name in fmt.MAC_CRASH_INFO_STRINGS:
        text, offset = cstring(raw, offset, fmt.MAC_CRASH_INFO_STRING_MAX, f"{what} {name}")
        strings.append(text)
    module_path, message, signature, backtrace, message2 = strings
    return MacCrashInfoRecord(
        version,
        values[2],
        values[3],
        values[4] if version >= 5 else None,
        module_path,
        message,
        signature,
        backtrace,
        message2,
    )
