"""ModuleListStream (4): loaded executables and libraries, their debug and code identifiers, and lookup.

Identifiers follow the conventions symbol stores use:

* ``debug_id``, as Breakpad prints it: PDB 7.0 (``RSDS``, also what Breakpad/Crashpad write for Mach-O
  UUIDs) → ``%08X%04X%04X`` + 8 × ``%02X`` of the GUID + ``%x`` of the age; PDB 2.0 (``NB10``) →
  ``%08X%x`` of signature and age; ELF build id (``BpEL``) → its first 16 bytes (zero-padded) read as a
  little-endian GUID, so bytes 0-3, 4-5 and 6-7 swap, + age ``0``. Empty without a CodeView record.
* ``code_id``, as rust-minidump's JSON has it (lowercase): Windows → ``%08X%x`` of TimeDateStamp and
  SizeOfImage; ELF → the whole build id in hex (None when it is all zeros: fonts, shared memory);
  macOS/iOS → the Mach-O UUID (the PDB 7.0 GUID) in hex.
* ``debug_file``: the PDB path for PDB records, the module's own path for ELF, else the IMAGE_DEBUG_MISC
  name; ``debug_filename`` / ``filename`` are basenames (``/`` and ``\\`` both separate).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar, overload

from crashcart.minidump import errors
from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, ParseContext, list_entries, unpack
from crashcart.minidump.errors import MinidumpError
from crashcart.minidump.format import PlatformId
from crashcart.minidump.streams._base import Location, Stream

MAX_MODULES = 100_000
#: Largest CodeView / misc record read (Breakpad's limit).
MAX_CV_RECORD = 32 * 1024

_WINDOWS = (PlatformId.WIN32_NT, PlatformId.WIN32_WINDOWS)
_APPLE = (PlatformId.MAC_OS_X, PlatformId.IOS)
#: Platforms whose overlapping module ranges Breakpad resolves by truncating the lower one.
_TRUNCATE_LOWER = (PlatformId.LINUX, PlatformId.ANDROID)


_T = TypeVar("_T")


class _computed_once(Generic[_T]):  # noqa: N801 (used like ``property``)
    """A read-only property computed on first access and kept in the instance's ``__dict__`` (which then wins,
    as this is a non-data descriptor). ``functools.cached_property`` takes a lock on every first access, which
    costs more than the basenames below; frozen dataclasses are fine, as ``__dict__`` is written directly."""

    def __init__(self, func: Callable[[Any], _T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> _computed_once[_T]: ...

    @overload
    def __get__(self, obj: object, owner: type | None = None) -> _T: ...

    def __get__(self, obj: object | None, owner: type | None = None) -> _T | _computed_once[_T]:
        if obj is None:
            return self
        value = self.func(obj)
        obj.__dict__[self.name] = value
        return value


def basename(path: str) -> str:
    """The part after the last ``/`` or ``\\`` (paths in dumps come from every OS)."""
    return path[max(path.rfind("/"), path.rfind("\\")) + 1 :]


def guid_hex(data1: int, data2: int, data3: int, data4: bytes) -> str:
    """A GUID as 32 uppercase hex digits, fields in their natural (host) order."""
    return f"{data1:08X}{data2:04X}{data3:04X}{data4.hex().upper()}"


@dataclass(frozen=True)
class VersionInfo:
    """VS_FIXEDFILEINFO."""

    signature: int
    struct_version: int
    file_version_hi: int
    file_version_lo: int
    product_version_hi: int
    product_version_lo: int
    file_flags_mask: int
    file_flags: int
    file_os: int
    file_type: int
    file_subtype: int
    file_date_hi: int
    file_date_lo: int

    @property
    def valid(self) -> bool:
        """The signature is right and the struct version has the 1.0 bit (Breakpad's test)."""
        return self.signature == fmt.VS_FFI_SIGNATURE and bool(self.struct_version & fmt.VS_FFI_STRUCVERSION)

    @property
    def file_version(self) -> str | None:
        """``a.b.c.d`` from the file version, None when the record is not valid."""
        if not self.valid:
            return None
        hi, lo = self.file_version_hi, self.file_version_lo
        return f"{hi >> 16}.{hi & 0xFFFF}.{lo >> 16}.{lo & 0xFFFF}"


@dataclass(frozen=True)
class CodeViewPdb70:
    """``RSDS``: a PDB 7.0 reference (or a Mach-O UUID written the same way)."""

    data1: int
    data2: int
    data3: int
    data4: bytes
    age: int
    pdb_file_name: str

    @property
    def guid(self) -> str:
        return guid_hex(self.data1, self.data2, self.data3, self.data4)


@dataclass(frozen=True)
class CodeViewPdb20:
    """``NB10``: a PDB 2.0 reference."""

    offset: int
    signature: int
    age: int
    pdb_file_name: str


@dataclass(frozen=True)
class CodeViewElf:
    """``BpEL``: an ELF build id (any length; 20 bytes for GNU ld's SHA-1)."""

    build_id: bytes


@dataclass(frozen=True)
class CodeViewUnknown:
    """Any other CodeView signature (CodeView 4.1/5.0 records carry the debug data inline)."""

    signature: int
    data: bytes = field(repr=False)


CodeView = CodeViewPdb70 | CodeViewPdb20 | CodeViewElf | CodeViewUnknown
_PDB = (CodeViewPdb70, CodeViewPdb20)  # a tuple: ``isinstance`` with it is quicker than with a union


@dataclass(frozen=True)
class Module:
    index: int
    base_address: int
    size: int
    checksum: int
    time_date_stamp: int
    #: The module's path as the dump names it (the "code file").
    name: str
    version_info: VersionInfo
    codeview: CodeView | None
    cv_record: Location
    misc_record: Location
    debug_file: str
    debug_id: str
    code_id: str | None

    @property
    def end_address(self) -> int:
        """One past the last address (rust-minidump's ``end_addr``; Breakpad prints ``end_address - 1``)."""
        return self.base_address + self.size

    @property
    def code_file(self) -> str:
        return self.name

    @_computed_once
    def filename(self) -> str:
        """Basename of the code file (the output names a frame's module by it)."""
        return basename(self.name)

    @_computed_once
    def debug_filename(self) -> str:
        """Basename of the debug file (what symbol stores are keyed by)."""
        return basename(self.debug_file)

    @property
    def version(self) -> str | None:
        """``a.b.c.d`` from VS_FIXEDFILEINFO, if the dump has a valid one."""
        return self.version_info.file_version

    def contains(self, address: int) -> bool:
        return self.base_address <= address < self.end_address


def _parse_codeview(raw: bytes) -> CodeView:
    if len(raw) < 4:
        raise MinidumpError(errors.TRUNCATED, f"CodeView record of {len(raw)} bytes has no signature")
    (signature,) = fmt.U32.unpack_from(raw, 0)
    if signature == fmt.CV_SIGNATURE_PDB70:
        _sig, data1, data2, data3, data4, age = unpack(fmt.CV_PDB70, raw, 0, "PDB 7.0 CodeView record")
        name = raw[fmt.CV_PDB70.size :].split(b"\0", 1)[0].decode("utf-8", errors="replace")
        return CodeViewPdb70(data1, data2, data3, data4, age, name)
    if signature == fmt.CV_SIGNATURE_PDB20:
        _sig, offset, pdb_signature, age = unpack(fmt.CV_PDB20, raw, 0, "PDB 2.0 CodeView record")
        name = raw[fmt.CV_PDB20.size :].split(b"\0", 1)[0].decode("utf-8", errors="replace")
        return CodeViewPdb20(offset, pdb_signature, age, name)
    if signature == fmt.CV_SIGNATURE_ELF:
        return CodeViewElf(raw[4:])
    return CodeViewUnknown(signature, raw[4:])


def _debug_record(ctx: ParseContext, location: Location, what: str) -> bytes:
    if location.data_size > MAX_CV_RECORD:
        raise MinidumpError(errors.TOO_MANY, f"{what} of {location.data_size} bytes is over {MAX_CV_RECORD}")
    return ctx.read_bytes(location.rva, location.data_size, what)


def _misc_debug_file(raw: bytes) -> str:
    """The file name in an IMAGE_DEBUG_MISC record (8-bit or UTF-16 per its ``Unicode`` flag)."""
    _type, _length, unicode, _reserved = unpack(fmt.IMAGE_DEBUG_MISC, raw, 0, "misc debug record")
    data = raw[fmt.IMAGE_DEBUG_MISC.size :]
    if unicode:
        if len(data) % 2:
            raise MinidumpError(errors.BAD_STRING, "misc debug record has an odd UTF-16 length")
        text = data.decode("utf-16-le", errors="replace")
    else:
        text = data.decode("utf-8", errors="replace")
    return text.split("\0", 1)[0]


def debug_identifier(codeview: CodeView | None, guid: str | None = None) -> str:
    """The Breakpad debug id of a CodeView record (empty without one); ``guid``: ``codeview.guid``, if known."""
    if isinstance(codeview, CodeViewPdb70):
        return f"{codeview.guid if guid is None else guid}{codeview.age:x}"
    if isinstance(codeview, CodeViewPdb20):
        return f"{codeview.signature:08X}{codeview.age:x}"
    if isinstance(codeview, CodeViewElf):
        first16 = codeview.build_id[:16].ljust(16, b"\0")
        data1, data2, data3, data4 = fmt.GUID.unpack(first16)
        return f"{guid_hex(data1, data2, data3, data4)}0"
    return ""


def code_identifier(
    codeview: CodeView | None, platform_id: int | None, time_date_stamp: int, size: int, guid: str | None = None
) -> str | None:
    """The code id (lowercase) rust-minidump reports for a module; ``guid``: ``codeview.guid``, if known."""
    if isinstance(codeview, CodeViewElf):
        return None if not any(codeview.build_id) else codeview.build_id.hex()
    if isinstance(codeview, CodeViewPdb70) and platform_id in _APPLE:
        return (codeview.guid if guid is None else guid).lower()
    if isinstance(codeview, _PDB) or (codeview is None and platform_id in _WINDOWS):
        return f"{time_date_stamp:08x}{size:x}"
    return None


@dataclass(frozen=True)
class ModuleList(Stream):
    STREAM_TYPE: ClassVar[int] = fmt.StreamType.MODULE_LIST

    modules: tuple[Module, ...]
    #: Disjoint address segments ``[start, end)`` and the index of the module owning each, for lookup.
    _starts: tuple[int, ...] = field(default=(), repr=False, compare=False)
    _ends: tuple[int, ...] = field(default=(), repr=False, compare=False)
    _owners: tuple[int, ...] = field(default=(), repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.modules)

    @property
    def main_module(self) -> Module | None:
        """The first module of the list (the executable, by the writers' convention)."""
        return self.modules[0] if self.modules else None

    def by_address(self) -> tuple[Module, ...]:
        """The modules sorted by base address (then list order)."""
        return tuple(sorted(self.modules, key=lambda m: (m.base_address, m.index)))

    def module_at(self, address: int) -> Module | None:
        """The module whose range contains ``address``, by Breakpad's rules where ranges overlap. O(log n).

        Linux and Android dumps (:meth:`from_modules` with ``truncate_lower``): a module's range ends where the
        next higher module begins, and the part above that is nobody's; elsewhere the module with the
        highest base address containing ``address`` wins.
        """
        pos = bisect.bisect_right(self._starts, address) - 1
        if pos >= 0 and address < self._ends[pos]:
            return self.modules[self._owners[pos]]
        return None

    @classmethod
    def from_modules(cls, modules: tuple[Module, ...], *, truncate_lower: bool = False) -> ModuleList:
        """Build the list and its lookup segments.

        ``truncate_lower`` is Breakpad's ``MergeRangeStrategy::kTruncateLower``, which its module map
        (``BasicCodeModules``, built from ``MinidumpModuleList``) uses for Linux and Android dumps: where two
        ranges overlap, the one with the lower base is cut at the other's base and does not resume above it;
        of modules with the same base only the first in list order is stored. It matters for Android, whose
        maps put small mappings (``ashmem``) inside a library's range: an address above such a mapping is
        in no module for Breakpad, so a scan rejects it (corpus ``android-arm`` thread 76 ends 5 frames
        earlier for that). Without it, the innermost (highest-base) module containing an address wins.
        """
        if truncate_lower:
            return cls._truncate_lower(modules)
        starts: list[int] = []
        ends: list[int] = []
        owners: list[int] = []
        stack: list[tuple[int, int]] = []  # (end, module index); the top is the innermost open module
        pos = 0

        def advance(to: int) -> None:
            nonlocal pos
            while stack and pos < to:
                end, owner = stack[-1]
                if end <= pos:
                    stack.pop()
                    continue
                seg_end = min(end, to)
                if owners and owners[-1] == owner and ends[-1] == pos:
                    ends[-1] = seg_end
                else:
                    starts.append(pos)
                    ends.append(seg_end)
                    owners.append(owner)
                pos = seg_end
                if end <= to:
                    stack.pop()
            pos = max(pos, to)

        for module in sorted(modules, key=lambda m: (m.base_address, -m.index)):
            if module.size == 0:
                continue
            advance(module.base_address)
            stack.append((module.end_address, module.index))
        advance(max((m.end_address for m in modules), default=0))
        return cls(modules, tuple(starts), tuple(ends), tuple(owners))

    @classmethod
    def _truncate_lower(cls, modules: tuple[Module, ...]) -> ModuleList:
        # The end state of Breakpad's insertions does not depend on their order, except that a second module
        # with an already stored base fails to insert: so keep the first per base, then cut each at the next.
        first: dict[int, Module] = {}
        for module in modules:
            if module.size == 0 or module.end_address > 1 << 64:
                continue  # Breakpad's RangeMap refuses empty and overflowing ranges
            first.setdefault(module.base_address, module)
        bases = sorted(first)
        starts: list[int] = []
        ends: list[int] = []
        owners: list[int] = []
        for i, base in enumerate(bases):
            module = first[base]
            end = module.end_address if i + 1 == len(bases) else min(module.end_address, bases[i + 1])
            starts.append(base)
            ends.append(end)
            owners.append(module.index)
        return cls(modules, tuple(starts), tuple(ends), tuple(owners))

    @classmethod
    def parse(cls, data: Buffer, ctx: ParseContext) -> ModuleList:
        count, offset = list_entries(data, fmt.MODULE_SIZE, MAX_MODULES, "module list")
        platform_id = ctx.platform_id
        modules = []
        for index in range(count):
            v = fmt.MODULE.unpack_from(data, offset + index * fmt.MODULE_SIZE)
            base, size, checksum, stamp, name_rva = v[0:5]
            version_info = VersionInfo(*v[5:18])
            cv_loc, misc_loc = Location(v[18], v[19]), Location(v[20], v[21])
            modules.append(
                _module(ctx, index, base, size, checksum, stamp, name_rva, version_info, cv_loc, misc_loc, platform_id)
            )
        return cls.from_modules(tuple(modules), truncate_lower=platform_id in _TRUNCATE_LOWER)


def _module(
    ctx: ParseContext,
    index: int,
    base: int,
    size: int,
    checksum: int,
    stamp: int,
    name_rva: int,
    version_info: VersionInfo,
    cv_loc: Location,
    misc_loc: Location,
    platform_id: int | None,
) -> Module:
    stream = fmt.StreamType.MODULE_LIST
    try:
        name = ctx.string(name_rva, f"name of module {index}")
    except MinidumpError as exc:
        ctx.recover(exc, stream)
        name = ""
    if size == 0:
        ctx.note(errors.BAD_STREAM, f"module {index} ({name}) has size 0", stream)
    codeview: CodeView | None = None
    if cv_loc.data_size:
        try:
            codeview = _parse_codeview(_debug_record(ctx, cv_loc, "CodeView record"))
        except MinidumpError as exc:
            ctx.recover(exc, stream, f"module {index} ({name}): ")
    debug_file = ""
    if isinstance(codeview, _PDB):
        debug_file = codeview.pdb_file_name
    elif isinstance(codeview, CodeViewElf):
        debug_file = name
    if not debug_file and misc_loc.data_size:
        try:
            debug_file = _misc_debug_file(_debug_record(ctx, misc_loc, "misc debug record"))
        except MinidumpError as exc:
            ctx.recover(exc, stream, f"module {index} ({name}): ")
    guid = codeview.guid if isinstance(codeview, CodeViewPdb70) else None  # formatted once for both ids
    return Module(
        index,
        base,
        size,
        checksum,
        stamp,
        name,
        version_info,
        codeview,
        cv_loc,
        misc_loc,
        debug_file,
        debug_identifier(codeview, guid),
        code_identifier(codeview, platform_id, stamp, size, guid),
    )
