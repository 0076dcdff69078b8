"""Pure functions from module identifiers to relative paths in the Breakpad/Tecken symbol-store layout, and
(after those) to native debug files in the layouts symbol servers serve them in.

Identifiers come from hostile minidumps, so every component is checked before it becomes part of a path or
URL: a debug file is reduced to its base name (``/`` and ``\\`` are both separators, as in Breakpad), and
anything that could escape the store (``..``, control characters, over-long names) is refused (``None``).
"""

from __future__ import annotations

import re

MAX_NAME_LENGTH = 255
MAX_ID_LENGTH = 80

_ID_RE = re.compile(r"[0-9A-Za-z]+")


def clean_file_name(name: str) -> str | None:
    """The base name of a module file, or ``None`` when it is unusable as one path component."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if not base or base in (".", "..") or len(base) > MAX_NAME_LENGTH:
        return None
    if any(ord(c) < 0x20 or c == "\x7f" for c in base):
        return None
    return base


def clean_id(identifier: str) -> str | None:
    """A debug or code id (hex/alphanumeric only), or ``None`` when it has anything else."""
    if not identifier or len(identifier) > MAX_ID_LENGTH or not _ID_RE.fullmatch(identifier):
        return None
    return identifier


def sym_stem(debug_file: str) -> str:
    """``foo.pdb`` → ``foo`` (case-insensitive), anything else unchanged: the ``.sym`` file's stem."""
    return debug_file[:-4] if debug_file.lower().endswith(".pdb") else debug_file


def sym_path(debug_file: str, debug_id: str) -> str | None:
    """``<debug_file>/<DEBUG_ID>/<stem>.sym`` (Breakpad ``SimpleSymbolSupplier``, Tecken), or ``None``.

    The debug id is used as given (the reader already formats it as Breakpad does: uppercase GUID,
    lowercase hex age); no case folding, so the path matches stores written by Breakpad's tools.
    """
    name = clean_file_name(debug_file)
    ident = clean_id(debug_id)
    if name is None or ident is None:
        return None
    return f"{name}/{ident}/{sym_stem(name)}.sym"


def code_id_sym_path(code_file: str, code_id: str) -> str | None:
    """``<code_file>/<CODE_ID>/<code_file, .dll → .sym, else + .sym>`` (Tecken / rust-minidump), or ``None``.

    Tecken answers such a request with a redirect to the debug-id path, so an HTTP client that follows
    redirects gets the file; a local store may hold the file at this path directly. The code id is all
    uppercase, unlike symstore's PE folders (``pe_code_id_forms``): Tecken matches it exactly against the
    ``INFO CODE_ID`` of the uploaded ``.sym``, which Breakpad's ``dump_syms`` writes as ``%08X%X``
    (``xul.dll/651C9AF99241000/xul.sym``, ``firefox.exe/650C1B67AE000/firefox.sym`` in Tecken's tests).
    """
    name = clean_file_name(code_file)
    ident = clean_id(code_id)
    if name is None or ident is None:
        return None
    leaf = name[:-4] + ".sym" if name.lower().endswith(".dll") else name + ".sym"
    return f"{name}/{ident.upper()}/{leaf}"


#: What a native file at a path is expected to be: the debug information (a PDB, a dSYM's DWARF file, a split
#: ELF ``.debug`` file), the binary (unwind tables, symbol table), or either (``<debug_file>/<ID>/<debug_file>``).
DEBUG, BINARY, EITHER = "debug", "binary", "either"


def pe_code_id_forms(code_id: str) -> list[str]:
    """A PE code id (``TimeDateStamp`` + ``SizeOfImage``, hex) as symbol stores spell it, most likely first.

    symstore/symsrv write ``%08X%x`` (``chrome.exe/54E3AECFd3000/chrome.exe``), so that comes first; then all
    uppercase (stores that fold case, Breakpad's ``INFO CODE_ID``). One form when both are the same.
    """
    forms = [code_id[:8].upper() + code_id[8:].lower()] if len(code_id) > 8 else []
    if code_id.upper() not in forms:
        forms.append(code_id.upper())
    return forms


def native_candidates(
    debug_file: str, debug_id: str, code_file: str | None = None, code_id: str | None = None
) -> list[tuple[str, str]]:
    """``native_paths`` with what each path is expected to hold (``DEBUG``, ``BINARY`` or ``EITHER``)."""
    paths: list[tuple[str, str]] = []
    name = clean_file_name(debug_file or (code_file or ""))
    ident = clean_id(debug_id)
    own = f"{name}/{ident}/{name}" if name is not None and ident is not None else None
    is_pdb = name is not None and name.lower().endswith(".pdb")
    if own is not None:
        paths.append((own, DEBUG if is_pdb else EITHER))
    code_name = clean_file_name(code_file) if code_file else None
    code = clean_id(code_id) if code_id else None
    if code is None:
        return paths
    if is_pdb:
        if code_name is not None:
            paths += [(f"{code_name}/{form}/{code_name}", BINARY) for form in pe_code_id_forms(code)]
    elif ident is not None and ident.upper() == code.upper() + "0" and len(code) == 32:
        # Mach-O: the dSYM first (lines), even before ``own`` (which may hold either file)
        paths.insert(0, (f"_.dwarf/mach-uuid-sym-{code.lower()}/_.dwarf", DEBUG))
        if code_name is not None:
            paths.append((f"{code_name}/mach-uuid-{code.lower()}/{code_name}", BINARY))
    else:
        paths.append((f"_.debug/elf-buildid-sym-{code.lower()}/_.debug", DEBUG))
        if code_name is not None:
            paths.append((f"{code_name}/elf-buildid-{code.lower()}/{code_name}", BINARY))
    return paths


def native_paths(debug_file: str, debug_id: str, code_file: str | None = None, code_id: str | None = None) -> list[str]:
    """Where symbol servers keep native debug files for this module, most specific first (no ``.sym``).

    * ``<debug_file>/<DEBUG_ID>/<debug_file>``: Microsoft's symbol server and symstore for PDBs
      (``xul.pdb/<GUID><age>/xul.pdb``), and the same layout for any debug file kept next to Breakpad ``.sym``
      files (``libxul.so/<ID>/libxul.so``).
    * PE (the debug file is a ``.pdb``): the executable, ``<code_file>/<TIMESTAMP><size>/<code_file>``
      (symstore writes ``%08X%x``: ``chrome.exe/54E3AECFd3000/chrome.exe``; then all uppercase, see
      ``pe_code_id_forms``); its ``.pdata`` unwind tables give CFI on amd64 and arm64.
    * Mach-O (the debug id is the code id, a UUID, plus age ``0``): SSQP's ``_.dwarf/mach-uuid-sym-<uuid>/_.dwarf``
      (the DWARF file inside a ``.dSYM``) first of all, then the Breakpad-layout path, then SSQP's
      ``<code_file>/mach-uuid-<uuid>/<code_file>`` (the binary: compact unwind and ``__eh_frame``).
    * ELF (any other module with a code id, the GNU build id): SSQP's ``_.debug/elf-buildid-sym-<id>/_.debug``
      (the split debug file), then ``<code_file>/elf-buildid-<id>/<code_file>`` (the binary itself, which has
      a symbol table and ``.eh_frame`` even when stripped of DWARF).

    The kind of module is told from its identifiers only (``ModuleRef`` carries no OS); SSQP ids are
    lowercase. Unsafe identifiers give no path, as for ``.sym`` lookups.
    """
    return [path for path, _ in native_candidates(debug_file, debug_id, code_file, code_id)]


def companion_paths(
    debug_file: str, debug_id: str, code_file: str | None, code_id: str | None, wanted: str
) -> list[str]:
    """The native paths that may hold the file a first one lacks: ``wanted`` is ``BINARY`` (the file found has
    no unwind information: a dSYM, a split ``.debug``, an amd64 PDB) or ``DEBUG`` (it has no debug
    information: a stripped binary). Paths that may hold either kind are included."""
    return [
        path for path, kind in native_candidates(debug_file, debug_id, code_file, code_id) if kind in (wanted, EITHER)
    ]


def candidate_paths(
    debug_file: str,
    debug_id: str,
    code_file: str | None = None,
    code_id: str | None = None,
    *,
    native: bool = True,
) -> list[str]:
    """Paths to try in order: the debug-id ``.sym``, the code-id ``.sym``, then (``native``) the native debug
    files of ``native_paths`` (no duplicates, nothing unsafe).

    An empty ``debug_file`` falls back to the code file's name with the debug id (MinGW PE modules without a
    PDB name, as rust-minidump does). ``.sym`` files come first because they are smaller and carry Breakpad's
    exact CFI; a native file is the fallback for stores that keep only what the compiler produced.
    """
    paths: list[str] = []
    primary = sym_path(debug_file or (code_file or ""), debug_id)
    if primary is not None:
        paths.append(primary)
    if code_file and code_id:
        fallback = code_id_sym_path(code_file, code_id)
        if fallback is not None and fallback not in paths:
            paths.append(fallback)
    if native:
        paths += [path for path in native_paths(debug_file, debug_id, code_file, code_id) if path not in paths]
    return paths
