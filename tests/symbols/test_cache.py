from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from crashcart.symbols.cache import VERSION_DIR, SymbolCache
from crashcart.symbols.interfaces import SymbolMalformed, SymbolNotFound, SymbolSourceUnavailable
from crashcart.symbols.symfile import SymLimits
from tests.symbols.conftest import STORE, TEST_FILE, TEST_ID, TEST_SYM, Clock, Fetcher

REPO = Path(__file__).resolve().parents[2]


def test_converts_once_and_later_loads_from_disk(tmp_path: Path) -> None:
    fetch = Fetcher(TEST_SYM)
    module = SymbolCache(tmp_path).load(TEST_FILE, TEST_ID, fetch)
    assert module.meta["code_id"] == "5F3A1B2C9000"
    assert module.symcache.lookup(0x3000)[0].function == "second_function"
    entry = tmp_path / VERSION_DIR / TEST_FILE / TEST_ID
    assert sorted(p.name for p in entry.iterdir()) == ["cfi", "meta.json", "symcache"]
    again = SymbolCache(tmp_path).load(TEST_FILE, TEST_ID, fetch)  # a fresh instance, as another process
    assert again.cfi.cfi_rules(0x3001) is not None
    assert fetch.calls == 1
    assert TEST_SYM.exists()  # a source's own file is never consumed


def test_downloaded_bytes_are_converted_and_not_kept(tmp_path: Path) -> None:
    cache = SymbolCache(tmp_path)
    cache.load(TEST_FILE, TEST_ID, Fetcher(TEST_SYM.read_bytes()))
    assert not list((tmp_path / VERSION_DIR / TEST_FILE).glob("**/*.sym"))


def test_missing_is_cached_for_the_ttl(tmp_path: Path) -> None:
    clock = Clock()
    cache = SymbolCache(tmp_path, missing_ttl=60, clock=clock)
    fetch = Fetcher(SymbolNotFound("nope"))
    for _ in range(2):
        with pytest.raises(SymbolNotFound):
            cache.load(TEST_FILE, TEST_ID, fetch)
    assert fetch.calls == 1
    clock.now += 61
    fetch.result = TEST_SYM
    cache.load(TEST_FILE, TEST_ID, fetch)
    assert fetch.calls == 2
    assert not (tmp_path / VERSION_DIR / TEST_FILE / f"{TEST_ID}.missing").exists()


def test_unavailable_is_not_cached(tmp_path: Path) -> None:
    cache = SymbolCache(tmp_path)
    fetch = Fetcher(SymbolSourceUnavailable("down"))
    for _ in range(2):
        with pytest.raises(SymbolSourceUnavailable):
            cache.load(TEST_FILE, TEST_ID, fetch)
    assert fetch.calls == 2


def test_malformed_is_cached_on_disk_and_until_restart(tmp_path: Path) -> None:
    clock = Clock()
    fetch = Fetcher(b"MODULE Linux x86_64 ZZZ broken\nFUNC what\n")
    cache = SymbolCache(tmp_path, malformed_ttl=100, clock=clock)
    with pytest.raises(SymbolMalformed, match="symbolic cannot read"):
        cache.load(TEST_FILE, TEST_ID, fetch)
    other = SymbolCache(tmp_path, malformed_ttl=100, clock=clock)  # another process: sees the marker
    with pytest.raises(SymbolMalformed, match="cached"):
        other.load(TEST_FILE, TEST_ID, fetch)
    clock.now += 101
    with pytest.raises(SymbolMalformed, match="remembered"):  # this process remembers until restart
        cache.load(TEST_FILE, TEST_ID, fetch)
    fetch.result = TEST_SYM
    SymbolCache(tmp_path, malformed_ttl=100, clock=clock).load(TEST_FILE, TEST_ID, fetch)  # a restart retries
    assert fetch.calls == 2


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00" * 1000,
        b"MODULE Linux x86_64 ABCDEF0123456789ABCDEF01234567890 t\n" + b"A" * 10_000,
        b"MODULE Linux x86_64 ABCDEF0123456789ABCDEF01234567890 t\n" + b"PUBLIC 1 0 x\n" * 2000,
    ],
)
def test_hostile_files_are_malformed(tmp_path: Path, data: bytes) -> None:
    cache = SymbolCache(tmp_path, limits=SymLimits(max_line_length=4096, max_records=1000))
    with pytest.raises(SymbolMalformed):
        cache.load(TEST_FILE, TEST_ID, Fetcher(data))
    # nothing half-written is left behind (and the lock, free, went with the eviction walk the miss started)
    leftovers = [p.name for p in (tmp_path / VERSION_DIR / TEST_FILE).iterdir()]
    assert sorted(leftovers) == [f"{TEST_ID}.malformed"]


def test_unusable_identifiers_are_not_found(tmp_path: Path) -> None:
    with pytest.raises(SymbolNotFound):
        SymbolCache(tmp_path).load("a/..", TEST_ID, Fetcher(TEST_SYM))


def test_vanished_or_damaged_entries_are_rebuilt(tmp_path: Path) -> None:
    fetch = Fetcher(TEST_SYM)
    cache = SymbolCache(tmp_path)
    cache.load(TEST_FILE, TEST_ID, fetch)
    entry = cache.entry_dir(TEST_FILE, TEST_ID)
    (entry / "cfi").write_bytes(b"garbage")
    assert cache.load(TEST_FILE, TEST_ID, fetch).cfi.has_cfi
    cache.evict()  # under the cap: nothing goes
    assert entry.exists()
    cache.max_size = 0
    cache.evict()  # another process's janitor
    assert not entry.exists()
    cache.max_size = 10**9
    assert cache.load(TEST_FILE, TEST_ID, fetch).cfi.has_cfi
    assert fetch.calls == 3


def test_concurrent_processes_convert_once(tmp_path: Path) -> None:
    counter = tmp_path / "fetches"
    script = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from crashcart.symbols.cache import SymbolCache

        def fetch():
            with open({str(counter)!r}, "a") as out:
                out.write("fetch\\n")
            time.sleep(0.3)
            return Path({str(TEST_SYM)!r})

        module = SymbolCache(Path({str(tmp_path / "cache")!r})).load({TEST_FILE!r}, {TEST_ID!r}, fetch)
        assert module.symcache.lookup(0x3000)[0].function == "second_function"
        print("ok")
        """
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True) for _ in range(4)
    ]
    outputs = [p.communicate(timeout=60)[0].strip() for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0, 0]
    assert outputs == ["ok"] * 4
    assert counter.read_text().count("fetch") == 1


def test_files_symbolic_refuses_are_normalized(tmp_path: Path) -> None:
    # FILE records out of order and repeated (old Mac dump_syms output): symbolic needs them sorted
    data = (
        b"MODULE mac x86_64 DFB8E43AF2423D73A453AEB6A777EF750 crash_macos\n"
        b"FILE 14 /src/crash.cpp\nFILE 0 /src/a.h\nFILE 14 /src/crash.cpp\n"
        b"FUNC 19b0 18 0 CrashFunction()\n19b0 7 9 14\n19b7 11 10 14\n"
    )
    module = SymbolCache(tmp_path).load("crash_macos", "DFB8E43AF2423D73A453AEB6A777EF750", Fetcher(data))
    [location] = module.symcache.lookup(0x19B8)
    assert (location.function, location.file, location.line) == ("CrashFunction()", "/src/crash.cpp", 10)


def test_old_inline_format_keeps_functions_and_lines(tmp_path: Path) -> None:
    old = STORE.parent / "old-inline" / "linux_inline" / "BBA6FA10B8AAB33D00000000000000000" / "linux_inline.sym"
    module = SymbolCache(tmp_path).load("linux_inline", "BBA6FA10B8AAB33D00000000000000000", Fetcher(old))
    [location] = module.symcache.lookup(0x15B90)  # inline frames are lost, the function and line are not
    assert (location.function, location.function_address, location.line) == ("main", 0x15B30, 9)


def test_local_source_is_asked_before_the_lock_and_leaves_no_marker(tmp_path: Path) -> None:
    """``local=True`` (a ``file://`` source): a miss writes nothing (no lock file, no ``.missing``), and a file
    added to the directory later is found on the next load."""
    cache = SymbolCache(tmp_path / "cache")
    fetch = Fetcher(SymbolNotFound("not in the directory"))
    for _ in range(2):
        with pytest.raises(SymbolNotFound):
            cache.load(TEST_FILE, TEST_ID, fetch, local=True)
    assert fetch.calls == 2
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").rglob("*"))
    fetch.result = TEST_SYM
    assert cache.load(TEST_FILE, TEST_ID, fetch, local=True).symcache.lookup(0x3000)
    assert fetch.calls == 3
