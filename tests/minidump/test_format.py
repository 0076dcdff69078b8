from __future__ import annotations

from crashcart.minidump import format as fmt


def test_record_sizes_match_the_published_layouts() -> None:
    sizes = {
        fmt.HEADER: 32,
        fmt.DIRECTORY_ENTRY: 12,
        fmt.MEMORY_DESCRIPTOR: 16,
        fmt.THREAD: 48,
        fmt.THREAD_NAME: 12,
        fmt.MODULE: 108,
        fmt.UNLOADED_MODULE: 24,
        fmt.MEMORY_INFO: 48,
        fmt.EXCEPTION_STREAM: 168,
        fmt.ASSERTION_INFO: 776,
        fmt.HANDLE_DESCRIPTOR: 32,
        fmt.HANDLE_DESCRIPTOR_2: 40,
        fmt.DSO_DEBUG_64: 40,
        fmt.LINK_MAP_64: 24,
        fmt.CRASHPAD_INFO: 52,
        fmt.CONTEXT_X86_STRUCT: 716,
        fmt.CONTEXT_AMD64_STRUCT: 1232,
        fmt.CONTEXT_ARM_STRUCT: 368,
        fmt.CONTEXT_ARM64_STRUCT: 912,
        fmt.CONTEXT_ARM64_OLD_STRUCT: 796,
    }
    for layout, size in sizes.items():
        assert layout.size == size, layout.format
    misc = fmt.MISC_INFO_1.size + fmt.MISC_INFO_2_EXTRA.size
    assert misc == fmt.MISC_INFO_2_SIZE
    misc += fmt.MISC_INFO_3_EXTRA.size + fmt.TIME_ZONE_INFORMATION.size
    assert misc == fmt.MISC_INFO_3_SIZE
    misc += fmt.MISC_INFO_4_EXTRA.size
    assert misc == fmt.MISC_INFO_4_SIZE
    misc += fmt.XSTATE_CONFIG_HEADER.size + fmt.XSTATE_MAX_FEATURES * fmt.XSTATE_FEATURE.size + 4
    assert misc == fmt.MISC_INFO_5_SIZE


def test_stream_type_names() -> None:
    assert fmt.stream_type_name(3) == "THREAD_LIST"
    assert fmt.stream_type_name(0x47670009) == "LINUX_MAPS"
    assert fmt.stream_type_name(0x12345678) == "0x12345678"
