"""The reader against Google Breakpad's reference output for the real dumps in ``tests/fixtures/minidump``."""

from __future__ import annotations

from pathlib import Path

import pytest

from crashcart.minidump import (
    ExceptionStream,
    LinuxLsbRelease,
    LinuxMaps,
    LinuxProcStatus,
    Minidump,
    MiscInfo,
    ModuleList,
    SystemInfo,
    ThreadList,
    ThreadNames,
)
from devtools import breakpad_reference

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "minidump"
NAMES = ["linux-mini", "minidump2", "pipeline-inlines-macos-segv", "tiny-exe-fastfail", "thread_name_list"]

# Code ids from rust-minidump's snapshots (see tests/fixtures/minidump/SOURCES.md).
CODE_IDS = {
    "linux-mini": {
        "crash": "f1c3bcc0279865fe3058404b2831d9e64135386c",
        "libm-2.23.so": "dfb85de42daffd09640c8fe377d572de3e168920",
        "libc-2.23.so": "b5381a457906d279073822a5ceb24c4bfef94ddb",
        "libgcc_s.so.1": "68220ae2c65d65c1b6aaa12fa6765a6ec2f5f434",
        "libstdc++.so.6.0.21": "cb93c881929b523c01acef171b52d5261f026029",
        "libpthread-2.23.so": "ce17e023542265fc11d9bc8f534bb4f070493d30",
        "ld-2.23.so": "5d7b6259552275a3c17bd4c3fd05f5a6bf40caa5",
        "linux-gate.so": "6c5f1875b9048fb4b8dfd832e74ad31a9aafb38f",
    },
    "minidump2": {
        "test_app.exe": "45d35f6c2d000",
        "ntdll.dll": "411096b4b0000",
        "kernel32.dll": "44ab9a84f4000",
        "ole32.dll": "42e5be9313d000",
        "advapi32.dll": "411096a79b000",
        "rpcrt4.dll": "411096ae91000",
        "gdi32.dll": "43b34feb47000",
        "user32.dll": "4226015990000",
        "msvcrt.dll": "4110975258000",
        "imm32.dll": "411096ae1d000",
        "dbghelp.dll": "4110969aa1000",
        "version.dll": "411096b78000",
        "psapi.dll": "411096cab000",
    },
    "pipeline-inlines-macos-segv": {
        "crash-client": "509c0610949836f7b70bd88bcf03e540",
        "libsystem_blocks.dylib": "4df6d8f5d9c23a968de45e99d6b73dc8",
        "libxpc.dylib": "0397fc9fbd1131fc882e9edaa1e5ca65",
        "libsystem_trace.dylib": "0a24eb90539636b0a7e6e9288702856d",
        "libcorecrypto.dylib": "57e7471e39603398891820df446ea99b",
        "libsystem_malloc.dylib": "10c22fd0fc7b3325852efec4e88d2bc5",
        "libdispatch.dylib": "ba7ad614f2c23e89904343dd548ae5b1",
        "libobjc.A.dylib": "a598da89ff7137bfb95426277541d859",
    },
}


@pytest.fixture(params=NAMES)
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def load(name: str) -> tuple[Minidump, breakpad_reference.Reference]:
    dump = Minidump.from_path(FIXTURES / f"{name}.dmp")
    reference = breakpad_reference.parse((FIXTURES / f"{name}.breakpad.m").read_text())
    return dump, reference


def test_crash_reason_address_and_thread(name: str) -> None:
    dump, reference = load(name)
    with dump:
        ours = breakpad_reference.ours(dump)
        assert (ours.crash_reason, ours.crash_address, ours.crashing_thread) == (
            reference.crash_reason,
            reference.crash_address,
            reference.crashing_thread,
        )
        assert dump.notes == []


def test_system_info(name: str) -> None:
    dump, reference = load(name)
    with dump:
        ours = breakpad_reference.ours(dump)
        assert (ours.os, ours.os_version, ours.cpu, ours.cpu_info, ours.cpu_count) == (
            reference.os,
            reference.os_version,
            reference.cpu,
            reference.cpu_info,
            reference.cpu_count,
        )


def test_module_list(name: str) -> None:
    dump, reference = load(name)
    with dump:
        ours = breakpad_reference.ours(dump)
        assert len(ours.modules) == len(reference.modules)
        for mine, theirs in zip(ours.modules, reference.modules, strict=True):
            assert mine == theirs
        modules = dump.get_stream(ModuleList)
        assert modules is not None
        for filename, code_id in CODE_IDS.get(name, {}).items():
            matching = [m for m in modules.modules if m.filename == filename]
            assert [m.code_id for m in matching] == [code_id], filename


def test_thread_count(name: str) -> None:
    dump, reference = load(name)
    with dump:
        ours = breakpad_reference.ours(dump)
        assert ours.threads_with_frames == reference.threads_with_frames
        threads = dump.get_stream(ThreadList)
        assert threads is not None
        for thread in threads.threads:
            assert dump.thread_stack(thread) is not None


def test_module_lookup_finds_the_crashing_instruction(name: str) -> None:
    dump, _ = load(name)
    with dump:
        exception = dump.get_stream(ExceptionStream)
        assert exception is not None
        context = exception.context
        assert context is not None
        module = dump.module_at(context.instruction_pointer)
        assert module is not None and module.contains(context.instruction_pointer)


def test_linux_mini_details() -> None:
    with Minidump.from_path(FIXTURES / "linux-mini.dmp") as dump:
        status = dump.get_stream(LinuxProcStatus)
        maps = dump.get_stream(LinuxMaps)
        lsb = dump.get_stream(LinuxLsbRelease)
        assert status is not None and status.pid == 1304
        assert maps is not None and len(maps) == 35  # rust-minidump's linux_memory_map_count
        assert lsb is not None and (lsb.id, lsb.release, lsb.codename, lsb.description) == (
            "Ubuntu",
            "16.04",
            "xenial",
            "Ubuntu 16.04.3 LTS",
        )


def test_minidump2_details() -> None:
    with Minidump.from_path(FIXTURES / "minidump2.dmp") as dump:
        misc = dump.get_stream(MiscInfo)
        threads = dump.get_stream(ThreadList)
        assert misc is not None and misc.process_id == 3932
        assert threads is not None and len(threads) == 2  # Breakpad skips the dump thread: one processed thread
        info = dump.get_stream(SystemInfo)
        assert info is not None and info.csd_version == "Service Pack 2"


def test_thread_names() -> None:
    with Minidump.from_path(FIXTURES / "thread_name_list.dmp") as dump:
        names = dump.get_stream(ThreadNames)
        assert names is not None
        assert [n.name for n in names.names] == ["main thread", "sleep thread", "overflow thread"]
    with Minidump.from_path(FIXTURES / "pipeline-inlines-macos-segv.dmp") as dump:
        names = dump.get_stream(ThreadNames)
        threads = dump.get_stream(ThreadList)
        assert names is not None and threads is not None and len(threads) == 11
        assert names.get(threads.threads[0].thread_id) == "main"
