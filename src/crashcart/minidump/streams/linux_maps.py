"""MD_LINUX_MAPS (0x47670009): a copy of ``/proc/<pid>/maps``, one mapping per line."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import ClassVar

from crashcart.minidump import format as fmt
from crashcart.minidump._parse import Buffer, ParseContext
from crashcart.minidump.streams._base import Stream
from crashcart.minidump.streams._text import decode


@dataclass(frozen=True)
class MapEntry:
    start: int
    end: int
    #: ``rwxp``-style permissions.
    permissions: str
    offset: int
    device: str
    inode: int
    #: The mapped file, ``[stack]``-style pseudo path, or empty for anonymous memory.
    path: str

    @property
    def is_executable(self) -> bool:
        return "x" in self.permissions

    @property
    def is_writable(self) -> bool:
        return "w" in self.permissions

    @property
    def is_readable(self) -> bool:
        return "r" in self.permissions


def parse_line(line: str) -> MapEntry | None:
    """One ``start-end perms offset dev inode [path]`` line; None if it does not have that shape."""
    parts = line.split(None, 5)
    if len(parts) < 5:
        return None
    start, sep, end = parts[0].partition("-")
    try:
        return MapEntry(
            int(start, 16),
            int(end, 16) if sep else 0,
            parts[1],
            int(parts[2], 16),
            parts[3],
            int(parts[4]),
            parts[5].strip() if len(parts) > 5 else "",
        )
    except ValueError:
        return None


@dataclass(frozen=True)
class LinuxMaps(Stream):
    STREAM_TYPE: ClassVar[int] = fmt.StreamType.LINUX_MAPS

    entries: tuple[MapEntry, ...]
    #: Lines that did not parse (kept out of ``entries``).
    bad_lines: int = 0
    _starts: tuple[int, ...] = field(default=(), repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.entries)

    def entry_at(self, address: int) -> MapEntry | None:
        """The mapping containing ``address`` (maps are sorted and disjoint in real dumps)."""
        pos = bisect.bisect_right(self._starts, address) - 1
        if pos >= 0 and self.entries[pos].start <= address < self.entries[pos].end:
            return self.entries[pos]
        return None

    @classmethod
    def parse(cls, data: Buffer, ctx: ParseContext) -> LinuxMaps:
        entries = []
        bad = 0
        for line in decode(data).splitlines():
            if not line.strip():
                continue
            entry = parse_line(line)
            if entry is None:
                bad += 1
            else:
                entries.append(entry)
        entries.sort(key=lambda e: e.start)
        return cls(tuple(entries), bad, tuple(e.start for e in entries))
