"""Strings and binary: writers and readers.

Grammar::

    string ::= x00-x1f <utf8-data>          # 0..31 units
           ::= x30-x33 b0 <utf8-data>       # 0..1023 units, length = (tag - 0x30) << 8 | b0
           ::= 'S' b1 b0 <utf8-data>        # final chunk, 16-bit length
           ::= 'R' b1 b0 <utf8-data> string # non-final chunk, then more string
    binary ::= x20-x2f <data>               # 0..15 bytes
           ::= x34-x37 b0 <data>            # 0..1023 bytes
           ::= 'B' b1 b0 <data>             # final chunk
           ::= 'A' b1 b0 <data> binary      # non-final chunk

String lengths count UTF-16 code units, not bytes and not code points. Each
unit is encoded on its own (CESU-8): a character outside the BMP travels as two
3-byte surrogate sequences, and Java rejects 4-byte UTF-8, so we do too.
hessian-lite writes non-final chunks of exactly 0x8000 units, one fewer when the
chunk would end on a high surrogate, so a pair is never split; a string of
exactly 0x8000 units is one ``S`` chunk.

Binary chunks: hessian-lite's chunk sizes depend on its 8 KiB output buffer; we
write one ``B`` chunk up to 0x8000 bytes and ``A`` chunks of 0x8000 before it,
which every reader accepts and which equals Java's bytes for blobs that fit
Java's buffer.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ._errors import EncodeError

if TYPE_CHECKING:  # annotations only: the decoder imports this module
    from ._decoder import Decoder

_CHUNK = 0x8000
_NON_BMP = re.compile("[\U00010000-\U0010ffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _split_pair(match: re.Match[str]) -> str:
    code = ord(match.group()) - 0x10000
    return chr(0xD800 + (code >> 10)) + chr(0xDC00 + (code & 0x3FF))


def _header(buf: bytearray, units: int) -> None:
    if units <= 31:
        buf.append(units)
    elif units <= 1023:
        buf.append(0x30 + (units >> 8))
        buf.append(units & 0xFF)
    else:
        buf.append(0x53)
        buf.append(units >> 8)
        buf.append(units & 0xFF)


def write_str(buf: bytearray, value: str) -> None:
    if value.isascii():
        units = len(value)
        if units <= _CHUNK:
            _header(buf, units)
            buf += value.encode("ascii")
            return
        text = value
    else:
        text = _NON_BMP.sub(_split_pair, value) if _NON_BMP.search(value) else value
    units = len(text)
    start = 0
    while units - start > _CHUNK:
        size = _CHUNK
        if 0xD800 <= ord(text[start + size - 1]) <= 0xDBFF:
            size -= 1
        buf.append(0x52)
        buf.append(size >> 8)
        buf.append(size & 0xFF)
        buf += text[start : start + size].encode("utf-8", "surrogatepass")
        start += size
    _header(buf, units - start)
    buf += text[start:].encode("utf-8", "surrogatepass")


def write_bytes(buf: bytearray, value: bytes | bytearray | memoryview) -> None:
    size = len(value)
    if size <= 15:
        buf.append(0x20 + size)
        buf += value
        return
    if size <= 1023:
        buf.append(0x34 + (size >> 8))
        buf.append(size & 0xFF)
        buf += value
        return
    view = memoryview(value)
    start = 0
    while size - start > _CHUNK:
        buf += b"A\x80\x00"
        buf += view[start : start + _CHUNK]
        start += _CHUNK
    rest = size - start
    buf.append(0x42)
    buf.append(rest >> 8)
    buf.append(rest & 0xFF)
    buf += view[start:]


def write_view(buf: bytearray, value: memoryview) -> None:
    """A buffer's bytes (``nbytes`` of them, C order), whatever its item size and shape;
    ``len(view)`` counts items, not bytes, so it is cast to bytes first."""
    try:
        contiguous = value.c_contiguous
        data = None if not contiguous else value if value.ndim == 1 and value.itemsize == 1 else value.cast("B")
    except ValueError as exc:  # a released view
        raise EncodeError(f"cannot write this memoryview: {exc}") from None
    if data is None:
        raise EncodeError(
            f"a non-contiguous memoryview (shape {value.shape}) has no single byte sequence: "
            "write bytes(view) or view.tobytes() instead"
        )
    write_bytes(buf, data)


def check_str(value: object) -> str:
    if not isinstance(value, str):
        raise EncodeError(f"expected a str, got {type(value).__name__}")
    return value


# ---------------------------------------------------------------- readers


_CONTINUATION = bytes(range(0x80, 0xC0))
_TWO_BYTE_LEADS = bytes(range(0xC0, 0xE0))
_THREE_BYTE_LEADS = bytes(range(0xE0, 0xF0))
_FOUR_BYTE_LEADS = bytes(range(0xF0, 0x100))  # never in CESU-8: left to the scan, which refuses them


def _units(dec: Decoder, pos: int, units: int) -> str:
    """Decode ``units`` UTF-16 units of CESU-8 starting at ``pos``; move past them."""
    data = dec.data
    stop = pos + units
    if stop <= dec.end:
        raw = data[pos:stop]
        if raw.isascii():
            dec.pos = stop
            return raw.decode("ascii")
    limit = dec.end
    if pos + units > limit:
        dec.fail(f"truncated string: {units} UTF-16 units announced, {limit - pos} bytes left", pos)
    # Where the units end, counted in C: one unit per lead byte (continuation bytes dropped),
    # plus one byte per two-byte lead and two per three-byte lead. The scan below, a Python
    # step per unit, took 4 ms for a 64K-unit chunk; it stays for input the count cannot take,
    # and names its first bad byte.
    leads = data[pos : min(limit, pos + 3 * units)].translate(None, _CONTINUATION)[:units]
    if len(leads) == units and len(leads.translate(None, _FOUR_BYTE_LEADS)) == units:
        index = pos + units + (units - len(leads.translate(None, _TWO_BYTE_LEADS)))
        index += 2 * (units - len(leads.translate(None, _THREE_BYTE_LEADS)))
        if index <= limit:
            try:
                text = data[pos:index].decode("utf-8", "surrogatepass")
            except UnicodeDecodeError:
                pass
            else:
                dec.pos = index
                return text
    index = pos
    for _ in range(units):
        if index >= limit:
            dec.fail(f"truncated string: {units} UTF-16 units announced", pos)
        lead = data[index]
        if lead < 0x80:
            index += 1
        elif 0xC0 <= lead < 0xE0:
            index += 2
        elif 0xE0 <= lead < 0xF0:
            index += 3
        else:
            dec.fail(f"bad UTF-8 lead byte 0x{lead:02x} in a string (Hessian strings are CESU-8)", index)
    if index > limit:
        dec.fail(f"truncated string: {units} UTF-16 units announced", pos)
    try:
        text = data[pos:index].decode("utf-8", "surrogatepass")
    except UnicodeDecodeError as exc:
        dec.fail(f"invalid UTF-8 in a string: {exc.reason}", pos + exc.start)
    dec.pos = index
    return text


def _join_pairs(text: str) -> str:
    """Combine surrogate pairs (as decoded from CESU-8) into code points; keep lone ones."""
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def read_str_direct(dec: Decoder, tag: int) -> str:
    text = _units(dec, dec.pos, tag)
    return text if text.isascii() else _join_pairs(text)


def read_str_short(dec: Decoder, tag: int) -> str:
    pos = dec.pos
    if pos >= dec.end:
        dec.fail("truncated string length", pos)
    text = _units(dec, pos + 1, ((tag - 0x30) << 8) | dec.data[pos])
    return text if text.isascii() else _join_pairs(text)


def read_str_chunked(dec: Decoder, tag: int) -> str:
    parts = []
    while True:
        pos = dec.pos
        if pos >= dec.checkpoint:  # a run of tiny chunks is a long loop
            dec.paused()
        if pos + 2 > dec.end:
            dec.fail("truncated string chunk length", pos)
        units = (dec.data[pos] << 8) | dec.data[pos + 1]
        parts.append(_units(dec, pos + 2, units))
        if tag == 0x53:
            break
        pos = dec.pos
        if pos >= dec.end:
            dec.fail("truncated: string chunk expected", pos)
        tag = dec.data[pos]
        dec.pos = pos + 1
        if tag <= 0x1F:
            parts.append(_units(dec, pos + 1, tag))
            break
        if 0x30 <= tag <= 0x33:
            if pos + 1 >= dec.end:
                dec.fail("truncated string length", pos + 1)
            dec.pos = pos + 2
            parts.append(_units(dec, pos + 2, ((tag - 0x30) << 8) | dec.data[pos + 1]))
            break
        if tag != 0x52 and tag != 0x53:
            dec.fail(f"expected a string chunk, got byte 0x{tag:02x}", pos)
    text = "".join(parts)
    return text if text.isascii() else _join_pairs(text)  # the search for pairs costs 3 ns a character


def _take(dec: Decoder, count: int) -> bytes:
    pos = dec.pos
    stop = pos + count
    if stop > dec.end:
        dec.fail(f"truncated binary: {count} bytes announced, {dec.end - pos} left", pos)
    dec.pos = stop
    return dec.data[pos:stop]


def read_bin_direct(dec: Decoder, tag: int) -> bytes:
    return _take(dec, tag - 0x20)


def read_bin_short(dec: Decoder, tag: int) -> bytes:
    pos = dec.pos
    if pos >= dec.end:
        dec.fail("truncated binary length", pos)
    dec.pos = pos + 1
    return _take(dec, ((tag - 0x34) << 8) | dec.data[pos])


def read_bin_chunked(dec: Decoder, tag: int) -> bytes:
    parts = []
    while True:
        pos = dec.pos
        if pos >= dec.checkpoint:
            dec.paused()
        if pos + 2 > dec.end:
            dec.fail("truncated binary chunk length", pos)
        dec.pos = pos + 2
        parts.append(_take(dec, (dec.data[pos] << 8) | dec.data[pos + 1]))
        if tag == 0x42:
            break
        pos = dec.pos
        if pos >= dec.end:
            dec.fail("truncated: binary chunk expected", pos)
        tag = dec.data[pos]
        dec.pos = pos + 1
        if 0x20 <= tag <= 0x2F:
            parts.append(_take(dec, tag - 0x20))
            break
        if 0x34 <= tag <= 0x37:
            parts.append(read_bin_short(dec, tag))
            break
        if tag != 0x41 and tag != 0x42:
            dec.fail(f"expected a binary chunk, got byte 0x{tag:02x}", pos)
    return b"".join(parts)


def read_name(dec: Decoder) -> str:
    """A string where the grammar allows only a string (class and field names, types)."""
    pos = dec.pos
    if pos >= dec.end:
        dec.fail("truncated: string expected", pos)
    tag = dec.data[pos]
    dec.pos = pos + 1
    if tag <= 0x1F:
        return read_str_direct(dec, tag)
    if 0x30 <= tag <= 0x33:
        return read_str_short(dec, tag)
    if tag == 0x52 or tag == 0x53:
        return read_str_chunked(dec, tag)
    dec.fail(f"expected a string, got byte 0x{tag:02x}", pos)
    raise AssertionError  # unreachable


def register(table: list[Any]) -> None:
    for tag in range(0x20):
        table[tag] = read_str_direct
    for tag in range(0x30, 0x34):
        table[tag] = read_str_short
    table[0x52] = read_str_chunked
    table[0x53] = read_str_chunked
    for tag in range(0x20, 0x30):
        table[tag] = read_bin_direct
    for tag in range(0x34, 0x38):
        table[tag] = read_bin_short
    table[0x41] = read_bin_chunked
    table[0x42] = read_bin_chunked
