"""An import-linter contract for Crashcart's package map: which top-level package may import which.

The map is one table in ``pyproject.toml`` (``[[tool.importlinter.contracts]]`` of type ``may_import``), read by
``make lint`` through this contract and rendered into ``docs/architecture.md`` by ``make docs``. Stock
``forbidden`` contracts would need the complement of every row written out, and a new package would be allowed
everything until someone remembered to forbid it; here every package must have a row, and any direct import
between two packages that its row does not name breaks the contract.

A row reads ``"package: allowed other packages"``. ``foundation`` lists modules every package may import
(errors, ids, logging, metrics). Only direct imports are checked: ``processor`` reaches ``symbols`` through
``stackwalk``, which is the point of the map.
"""

from __future__ import annotations

from dataclasses import dataclass

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


@dataclass(frozen=True)
class Arrow:
    importer: str
    imported: str
    line_number: int
    line_contents: str


def parse_rows(rows: list[str]) -> dict[str, set[str]]:
    """``["a: b c", "b:"]`` → ``{"a": {"b", "c"}, "b": set()}``; a package listed twice is an error."""
    table: dict[str, set[str]] = {}
    for row in rows:
        name, sep, allowed = row.partition(":")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"a package-map row reads 'package: allowed packages', not {row!r}")
        if name in table:
            raise ValueError(f"package {name!r} has two rows in the package map")
        table[name] = set(allowed.split())
    return table


class MayImportContract(Contract):
    type_name = "may_import"

    root = fields.StringField()
    foundation = fields.ListField(subfield=fields.StringField())
    packages = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        root = str(self.root)
        foundation = {str(name) for name in self.foundation}  # type: ignore[attr-defined]
        table = parse_rows([str(row) for row in self.packages])  # type: ignore[attr-defined]
        present = {child.rsplit(".", 1)[1] for child in graph.find_children(root)}
        undeclared = sorted(present - set(table) - foundation)
        unknown = sorted(
            name for allowed in table.values() for name in allowed if name not in table and name not in foundation
        )
        bad: list[Arrow] = []
        for module in sorted(graph.modules):
            parts = module.split(".")
            if len(parts) < 2 or parts[0] != root or parts[1] in foundation:
                continue
            package = parts[1]
            allowed = table.get(package, set()) | foundation | {package}
            for imported in sorted(graph.find_modules_directly_imported_by(module)):
                other = imported.split(".")
                if other[0] != root or len(other) < 2 or other[1] in allowed:
                    continue
                for detail in graph.get_import_details(importer=module, imported=imported) or [
                    {"line_number": 0, "line_contents": ""}
                ]:
                    bad.append(Arrow(module, imported, int(detail["line_number"]), str(detail["line_contents"])))
        return ContractCheck(
            kept=not (bad or undeclared or unknown),
            metadata={
                "arrows": bad,
                "undeclared": undeclared,
                "unknown": unknown,
            },
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        for name in check.metadata["undeclared"]:
            output.print_error(f"package {self.root}.{name} has no row in the package map")
            output.new_line()
        for name in check.metadata["unknown"]:
            output.print_error(f"the package map allows importing {name!r}, which is not a package")
            output.new_line()
        for arrow in check.metadata["arrows"]:
            importer, imported = arrow.importer.split(".")[1], arrow.imported.split(".")[1]
            output.print_error(
                f"{arrow.importer} -> {arrow.imported} (l. {arrow.line_number}: {arrow.line_contents.strip()}): "
                f"{importer} may not import {imported}"
            )
            output.new_line()
