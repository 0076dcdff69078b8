"""MiscInfoStream (15): process id, process times, processor power, time zone, build strings, xstate.

The stream grew over five versions (24, 44, 232, 832, 1364 bytes). A field is present only when the stream is
long enough *and* its ``flags1`` bit is set; otherwise it is None.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from crashcart.minidump import errors
from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, ParseContext, unpack, utf16
from crashcart.minidump.errors import MinidumpError
from crashcart.minidump.streams._base import Stream


@dataclass(frozen=True)
class SystemTime:
    year: int
    month: int
    day_of_week: int
    day: int
    hour: int
    minute: int
    second: int
    milliseconds: int


@dataclass(frozen=True)
class TimeZone:
    bias: int
    standard_name: str
    standard_date: SystemTime
    standard_bias: int
    daylight_name: str
    daylight_date: SystemTime
    daylight_bias: int


@dataclass(frozen=True)
class XStateFeature:
    index: int
    offset: int
    size: int


@dataclass(frozen=True)
class XStateConfig:
    size_of_info: int
    context_size: int
    enabled_features: int
    #: The enabled features only.
    features: tuple[XStateFeature, ...]


@dataclass(frozen=True)
class MiscInfo(Stream):
    STREAM_TYPE: ClassVar[int] = fmt.StreamType.MISC_INFO

    size_of_info: int
    flags1: int
    process_id: int | None = None
    #: Seconds since the epoch when the process started.
    process_create_time: int | None = None
    process_user_time: int | None = None
    process_kernel_time: int | None = None
    processor_max_mhz: int | None = None
    processor_current_mhz: int | None = None
    processor_mhz_limit: int | None = None
    processor_max_idle_state: int | None = None
    processor_current_idle_state: int | None = None
    process_integrity_level: int | None = None
    process_execute_flags: int | None = None
    protected_process: int | None = None
    time_zone_id: int | None = None
    time_zone: TimeZone | None = None
    build_string: str | None = None
    dbg_bld_str: str | None = None
    xstate: XStateConfig | None = None
    process_cookie: int | None = None

    @classmethod
    def parse(cls, data: Buffer, ctx: ParseContext) -> MiscInfo:
        if len(data) < fmt.MISC_INFO_1_SIZE:
            raise MinidumpError(
                errors.TRUNCATED, f"misc info needs {fmt.MISC_INFO_1_SIZE} bytes, stream has {len(data)}"
            )
        size_of_info, flags, pid, create, user, kernel = unpack(fmt.MISC_INFO_1, data, 0, "misc info")
        # Trust the smaller of the declared and the actual size.
        size = min(size_of_info, len(data))
        info = cls(size_of_info, flags)
        if flags & fmt.MISC_FLAGS1_PROCESS_ID:
            info = replace(info, process_id=pid)
        if flags & fmt.MISC_FLAGS1_PROCESS_TIMES:
            info = replace(info, process_create_time=create, process_user_time=user, process_kernel_time=kernel)
        if size >= fmt.MISC_INFO_2_SIZE and flags & fmt.MISC_FLAGS1_PROCESSOR_POWER_INFO:
            max_mhz, cur_mhz, limit, max_idle, cur_idle = fmt.MISC_INFO_2_EXTRA.unpack_from(data, fmt.MISC_INFO_1_SIZE)
            info = replace(
                info,
                processor_max_mhz=max_mhz,
                processor_current_mhz=cur_mhz,
                processor_mhz_limit=limit,
                processor_max_idle_state=max_idle,
                processor_current_idle_state=cur_idle,
            )
        if size >= fmt.MISC_INFO_3_SIZE:
            integrity, execute, protected, tz_id = fmt.MISC_INFO_3_EXTRA.unpack_from(data, fmt.MISC_INFO_2_SIZE)
            if flags & fmt.MISC_FLAGS1_PROCESS_INTEGRITY:
                info = replace(info, process_integrity_level=integrity)
            if flags & fmt.MISC_FLAGS1_PROCESS_EXECUTE_FLAGS:
                info = replace(info, process_execute_flags=execute)
            if flags & fmt.MISC_FLAGS1_PROTECTED_PROCESS:
                info = replace(info, protected_process=protected)
            if flags & fmt.MISC_FLAGS1_TIMEZONE:
                time_zone = _time_zone(data, fmt.MISC_INFO_2_SIZE + fmt.MISC_INFO_3_EXTRA.size)
                info = replace(info, time_zone_id=tz_id, time_zone=time_zone)
        if size >= fmt.MISC_INFO_4_SIZE and flags & fmt.MISC_FLAGS1_BUILDSTRING:
            build, dbg = fmt.MISC_INFO_4_EXTRA.unpack_from(data, fmt.MISC_INFO_3_SIZE)
            info = replace(info, build_string=utf16(build), dbg_bld_str=utf16(dbg))
        if size >= fmt.MISC_INFO_5_SIZE:
            info = replace(info, xstate=_xstate(data, fmt.MISC_INFO_4_SIZE))
            if flags & fmt.MISC_FLAGS1_PROCESS_COOKIE:
                (cookie,) = fmt.U32.unpack_from(data, fmt.MISC_INFO_5_SIZE - 4)
                info = replace(info, process_cookie=cookie)
        return info


def _time_zone(data: Buffer, offset: int) -> TimeZone:
    v = fmt.TIME_ZONE_INFORMATION.unpack_from(data, offset)
    return TimeZone(v[0], utf16(v[1]), SystemTime(*v[2:10]), v[10], utf16(v[11]), SystemTime(*v[12:20]), v[20])


def _xstate(data: Buffer, offset: int) -> XStateConfig:
    size_of_info, context_size, enabled = fmt.XSTATE_CONFIG_HEADER.unpack_from(data, offset)
    features = []
    base = offset + fmt.XSTATE_CONFIG_HEADER.size
    for index in range(fmt.XSTATE_MAX_FEATURES):
        if enabled & (1 << index):
            feat_offset, feat_size = fmt.XSTATE_FEATURE.unpack_from(data, base + index * fmt.XSTATE_FEATURE.size)
            features.append(XStateFeature(index, feat_offset, feat_size))
    return XStateConfig(size_of_info, context_size, enabled, tuple(features))
