"""The shape every CPU context shares: registers by name, which ones are valid, and ip/sp/fp accessors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar


@dataclass(frozen=True)
class CpuContext:
    """A thread's registers as the dump recorded them.

    ``values`` follows the class's ``REGISTERS`` order; ``valid`` names the registers whose group bit is
    set in ``context_flags`` (a stack walker may still treat a context frame as fully valid, as Breakpad
    does). ``raw`` is the whole record, floating-point and vector state included, for whoever needs it.
    """

    CPU: ClassVar[str] = "unknown"
    POINTER_SIZE: ClassVar[int] = 8
    #: General-purpose (and status/segment) registers, in the order stack walkers print them.
    REGISTERS: ClassVar[tuple[str, ...]] = ()
    #: Other names accepted by :meth:`get` (``r13`` → ``sp``).
    ALIASES: ClassVar[Mapping[str, str]] = {}
    IP: ClassVar[str] = ""
    SP: ClassVar[str] = ""
    FP: ClassVar[str] = ""
    _INDEX: ClassVar[Mapping[str, int]] = {}

    context_flags: int
    values: tuple[int, ...]
    valid: frozenset[str]
    raw: bytes = field(default=b"", repr=False, compare=False)

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls._INDEX = {name: i for i, name in enumerate(cls.REGISTERS)}

    def get(self, name: str) -> int | None:
        """The register called ``name`` (or an alias of it), None if this CPU has no such register."""
        index = self._INDEX.get(self.ALIASES.get(name, name))
        return None if index is None else self.values[index]

    def __getitem__(self, name: str) -> int:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def is_valid(self, name: str) -> bool:
        """Whether the dump marked register ``name`` as captured."""
        return self.ALIASES.get(name, name) in self.valid

    @property
    def registers(self) -> dict[str, int]:
        """All registers by name, in ``REGISTERS`` order."""
        return dict(zip(self.REGISTERS, self.values, strict=True))

    @property
    def frame_pointer_register(self) -> str:
        """The register holding the frame pointer on this CPU (and OS)."""
        return self.FP

    @property
    def instruction_pointer(self) -> int:
        return self[self.IP]

    @property
    def stack_pointer(self) -> int:
        return self[self.SP]

    @property
    def frame_pointer(self) -> int:
        return self[self.frame_pointer_register]


def group_validity(flags: int, groups: Mapping[int, tuple[str, ...]]) -> frozenset[str]:
    """The registers whose group bit is set in ``flags``."""
    names: set[str] = set()
    for bit, members in groups.items():
        if flags & bit:
            names.update(members)
    return frozenset(names)
