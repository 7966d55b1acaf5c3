"""The clean input border: which characters a line may carry, and how a refused line is kept.

Feeds are read as text with ``errors="surrogateescape"`` (or as bytes), so a byte that is not
valid UTF-8 arrives as a lone surrogate ``\\udcXX``. Such text cannot be written to a database
(``UnicodeEncodeError``), and control characters (NUL above all) corrupt values without
changing an NMEA checksum. :func:`escaped` turns a refused line into text that is safe to
store and show: control characters and undecodable bytes written as ``\\xNN``, long lines cut.
"""
from __future__ import annotations

import re
from typing import Final

__all__ = ["BAD_CHARS", "MAX_RAW_CHARS", "escaped", "first_bad_char"]

#: Longest part of a refused line kept (characters, before escaping).
MAX_RAW_CHARS: Final = 1000

#: Characters no line of text input may carry: C0 controls except tab / line ends, DEL,
#: C1 controls, and surrogates (undecodable bytes under ``surrogateescape``).
BAD_CHARS: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


_NOT_PRINTABLE_ASCII: Final = re.compile(r"[^\t\x20-\x7e]")


def _escape_char(m: re.Match[str]) -> str:
    c = ord(m.group())
    if 0xDC80 <= c <= 0xDCFF:  # an undecodable byte under surrogateescape
        return f"\\x{c - 0xDC00:02x}"
    if c > 0xFF:
        return f"\\u{c:04x}"
    return f"\\x{c:02x}"


def escaped(text: str | bytes, limit: int = MAX_RAW_CHARS) -> str:
    """Storable, printable form of a refused line: bad characters as ``\\xNN``, cut at ``limit``.

    Bytes are taken as UTF-8, undecodable bytes escaped. A cut line ends with
    ``...(<n> chars)`` giving its full length.
    """
    if isinstance(text, (bytes, bytearray, memoryview)):
        text = bytes(text).decode("utf-8", "surrogateescape")
    n = len(text)
    cut = text[:limit] if n > limit else text
    out = BAD_CHARS.sub(_escape_char, cut)
    return f"{out}...({n} chars)" if n > limit else out


def first_bad_char(text: str, *, ascii_only: bool = False) -> str:
    """Describe the first character of ``text`` that :data:`BAD_CHARS` refuses (for a detail).

    ``ascii_only``: any character outside printable ASCII and tab counts as bad (NMEA).
    """
    pattern = _NOT_PRINTABLE_ASCII if ascii_only else BAD_CHARS
    m = pattern.search(text)
    if m is None:
        return ""
    c = ord(m.group())
    shown = _escape_char(m) if BAD_CHARS.match(m.group()) else f"{m.group()!r} (U+{c:04X})"
    return f"{shown} at column {m.start() + 1}"
