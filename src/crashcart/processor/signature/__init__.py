"""Signature generation: siggen with layered lists and system-library awareness (issue #4 point 4).

``load_signature_lists(dir)`` → ``build_signature_generator(lists)`` →
``generator.generate(signature_data(processed))``.
"""

from __future__ import annotations

from crashcart.processor.signature.data import signature_data
from crashcart.processor.signature.generator import (
    ABORT,
    TERMINATE,
    ListsCSignatureTool,
    ModuleMatcher,
    SystemLibrarySignatureRule,
    build_signature_generator,
)
from crashcart.processor.signature.lists import (
    CRASHCART_LISTS,
    SIGGEN_LISTS,
    SignatureListError,
    SignatureLists,
    load_signature_lists,
)

__all__ = [
    "ABORT",
    "CRASHCART_LISTS",
    "SIGGEN_LISTS",
    "TERMINATE",
    "ListsCSignatureTool",
    "ModuleMatcher",
    "SignatureListError",
    "SignatureLists",
    "SystemLibrarySignatureRule",
    "build_signature_generator",
    "load_signature_lists",
    "signature_data",
]
