"""The one error the minidump reader raises, with a small closed set of stable codes.

Whatever bytes it is given, the reader either returns a result or raises :class:`MinidumpError`. The ``code``
is stable (logs, metric tags, processor notes use it); the message says what was wrong and where.
"""

from __future__ import annotations

from crashcart.errors import CrashcartError

#: The file could not be opened or mapped.
IO_ERROR = "io_error"
#: Too short for a header, or the signature is not ``MDMP``.
NOT_A_MINIDUMP = "not_a_minidump"
#: A byte-swapped (``PMDM``) dump: big-endian dumps are not supported.
BIG_ENDIAN = "big_endian"
#: The header's version word is not ``0xa793``.
BAD_VERSION = "bad_version"
#: The stream directory is out of bounds or has too many entries.
BAD_DIRECTORY = "bad_directory"
#: A structure is cut short by the end of its stream or record.
TRUNCATED = "truncated"
#: An RVA or location points outside the file.
OUT_OF_BOUNDS = "out_of_bounds"
#: A count is larger than the reader accepts.
TOO_MANY = "too_many"
#: A string is malformed (odd UTF-16 length, longer than the limit, missing terminator).
BAD_STRING = "bad_string"
#: A CPU context is of an unknown kind, the wrong size, or disagrees with the system info.
BAD_CONTEXT = "bad_context"
#: A stream is internally inconsistent (entry sizes, versions, sizes that do not add up).
BAD_STREAM = "bad_stream"
#: Decoding would exceed the per-dump work budget (strings and records decoded, relative to the file size).
LIMIT_EXCEEDED = "limit_exceeded"
#: The minidump was closed and its bytes are no longer readable.
CLOSED = "closed"

ERROR_CODES = frozenset(
    {
        IO_ERROR,
        NOT_A_MINIDUMP,
        BIG_ENDIAN,
        BAD_VERSION,
        BAD_DIRECTORY,
        TRUNCATED,
        OUT_OF_BOUNDS,
        TOO_MANY,
        BAD_STRING,
        BAD_CONTEXT,
        BAD_STREAM,
        LIMIT_EXCEEDED,
        CLOSED,
    }
)


class MinidumpError(CrashcartError):
    """A minidump (or one of its streams) cannot be read; ``code`` is one of :data:`ERROR_CODES`."""

    def __init__(self, code: str, message: str) -> None:
        if code not in ERROR_CODES:  # a programming error, caught by the tests
            raise ValueError(f"unknown minidump error code {code!r}")
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
