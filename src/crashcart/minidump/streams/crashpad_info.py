"""MD_CRASHPAD_INFO_STREAM (0x43500001): Crashpad's report/client ids and annotations.

Annotations come at two levels: process-wide ``simple_annotations`` (string → string), and per module
(``module_infos``): a list of strings, a string → string dictionary, and typed annotation objects (name,
type, bytes; type 1 is a string). Every part is read best-effort: an unreadable part is skipped with a note.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar, TypeVar

from crashcart.minidump import errors
from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, ParseContext, list_entries, unpack
from crashcart.minidump.errors import MinidumpError
from crashcart.minidump.streams._base import Location, Stream

#: Most annotations (per dictionary, list or object list) and module entries read.
MAX_ANNOTATIONS = 10_000
MAX_MODULE_INFOS = 100_000

T = TypeVar("T")


def guid_string(raw: bytes) -> str:
    """A 16-byte little-endian GUID as ``xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx``."""
    data1, data2, data3, data4 = fmt.GUID.unpack(raw)
    return f"{data1:08x}-{data2:04x}-{data3:04x}-{data4[:2].hex()}-{data4[2:].hex()}"


@dataclass(frozen=True)
class Annotation:
    name: str
    type: int
    value: bytes

    @property
    def text(self) -> str | None:
        """The value decoded as UTF-8 when the annotation is a string (type 1), else None."""
        if self.type != fmt.ANNOTATION_TYPE_STRING:
            return None
        return self.value.split(b"\0", 1)[0].decode("utf-8", errors="replace")


@dataclass(frozen=True)
class ModuleCrashpadInfo:
    #: Index into the module list.
    module_index: int
    version: int
    list_annotations: tuple[str, ...]
    simple_annotations: Mapping[str, str] = field(hash=False)
    annotation_objects: tuple[Annotation, ...]


@dataclass(frozen=True)
class CrashpadInfo(Stream):
    STREAM_TYPE: ClassVar[int] = fmt.StreamType.CRASHPAD_INFO

    version: int
    report_id: str
    client_id: str
    simple_annotations: Mapping[str, str] = field(hash=False)
    module_infos: tuple[ModuleCrashpadInfo, ...]
    #: Pointer-authentication mask (arm64e) when the writer recorded one.
    address_mask: int | None = None

    @classmethod
    def parse(cls, data: Buffer, ctx: ParseContext) -> CrashpadInfo:
        version, report_id, client_id, simple_size, simple_rva, modules_size, modules_rva = unpack(
            fmt.CRASHPAD_INFO, data, 0, "Crashpad info"
        )
        address_mask = None
        if len(data) >= fmt.CRASHPAD_INFO.size + fmt.CRASHPAD_INFO_ADDRESS_MASK.size:
            _reserved, mask = fmt.CRASHPAD_INFO_ADDRESS_MASK.unpack_from(data, fmt.CRASHPAD_INFO.size)
            address_mask = mask or None
        simple: dict[str, str] = _best_effort(
            ctx, {}, lambda: _dictionary(ctx, Location(simple_size, simple_rva), "simple annotations")
        )
        module_infos: tuple[ModuleCrashpadInfo, ...] = _best_effort(
            ctx, (), lambda: _module_infos(ctx, Location(modules_size, modules_rva))
        )
        return cls(version, guid_string(report_id), guid_string(client_id), simple, module_infos, address_mask)


def _best_effort(ctx: ParseContext, default: T, read: Callable[[], T]) -> T:
    try:
        return read()
    except MinidumpError as exc:
        ctx.recover(exc, fmt.StreamType.CRASHPAD_INFO)
        return default


def _location(ctx: ParseContext, location: Location, what: str) -> bytes:
    return ctx.read_bytes(location.rva, location.data_size, what)


def _dictionary(ctx: ParseContext, location: Location, what: str) -> dict[str, str]:
    if location.data_size == 0:
        return {}
    data = _location(ctx, location, what)
    count, offset = list_entries(data, fmt.SIMPLE_STRING_DICTIONARY_ENTRY.size, MAX_ANNOTATIONS, what)
    result: dict[str, str] = {}
    for i in range(count):
        key_rva, value_rva = fmt.SIMPLE_STRING_DICTIONARY_ENTRY.unpack_from(
            data, offset + i * fmt.SIMPLE_STRING_DICTIONARY_ENTRY.size
        )
        result[ctx.utf8_string(key_rva, f"{what} key")] = ctx.utf8_string(value_rva, f"{what} value")
    return result


def _string_list(ctx: ParseContext, location: Location, what: str) -> tuple[str, ...]:
    if location.data_size == 0:
        return ()
    data = _location(ctx, location, what)
    count, offset = list_entries(data, 4, MAX_ANNOTATIONS, what)
    rvas = (fmt.U32.unpack_from(data, offset + 4 * i)[0] for i in range(count))
    return tuple(ctx.utf8_string(rva, what) for rva in rvas)


def _annotation_objects(ctx: ParseContext, location: Location, what: str) -> tuple[Annotation, ...]:
    if location.data_size == 0:
        return ()
    data = _location(ctx, location, what)
    count, offset = list_entries(data, fmt.ANNOTATION.size, MAX_ANNOTATIONS, what)
    objects = []
    for i in range(count):
        name_rva, kind, _reserved, value_rva = fmt.ANNOTATION.unpack_from(data, offset + i * fmt.ANNOTATION.size)
        objects.append(
            Annotation(ctx.utf8_string(name_rva, f"{what} name"), kind, ctx.byte_array(value_rva, f"{what} value"))
        )
    return tuple(objects)


def _module_infos(ctx: ParseContext, location: Location) -> tuple[ModuleCrashpadInfo, ...]:
    if location.data_size == 0:
        return ()
    data = _location(ctx, location, "Crashpad module list")
    count, offset = list_entries(data, fmt.MODULE_CRASHPAD_INFO_LINK.size, MAX_MODULE_INFOS, "Crashpad module list")
    infos = []
    for i in range(count):
        index, size, rva = fmt.MODULE_CRASHPAD_INFO_LINK.unpack_from(
            data, offset + i * fmt.MODULE_CRASHPAD_INFO_LINK.size
        )
        try:
            infos.append(_module_info(ctx, index, Location(size, rva)))
        except MinidumpError as exc:
            ctx.recover(exc, fmt.StreamType.CRASHPAD_INFO, f"Crashpad info of module {index}: ")
    return tuple(infos)


def _module_info(ctx: ParseContext, module_index: int, location: Location) -> ModuleCrashpadInfo:
    data = _location(ctx, location, "Crashpad module info")
    if len(data) < 4:
        raise MinidumpError(errors.TRUNCATED, f"module info of {len(data)} bytes has no version")
    (version,) = fmt.U32.unpack_from(data, 0)
    # Version 1 has three locations; a shorter record simply has fewer of them.
    padded = data.ljust(fmt.MODULE_CRASHPAD_INFO.size, b"\0")
    _v, list_size, list_rva, simple_size, simple_rva, obj_size, obj_rva = fmt.MODULE_CRASHPAD_INFO.unpack_from(padded)
    what = f"module {module_index}"
    return ModuleCrashpadInfo(
        module_index,
        version,
        _best_effort(ctx, (), lambda: _string_list(ctx, Location(list_size, list_rva), f"{what} list annotations")),
        _best_effort(
            ctx, {}, lambda: _dictionary(ctx, Location(simple_size, simple_rva), f"{what} simple annotations")
        ),
        _best_effort(
            ctx, (), lambda: _annotation_objects(ctx, Location(obj_size, obj_rva), f"{what} annotation objects")
        ),
    )
