"""Reading landing files as bytes and text: checksums, gzip with exact damage reporting, decoded lines.

Nothing here knows about columns; ``tokenize`` turns lines into rows.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

CHUNK = 1 << 20
UTF8_BOM = b"\xef\xbb\xbf"


def file_digest(path: Path) -> tuple[str, int]:
    """sha256 (hex) and size of the file's bytes as delivered (compressed bytes for ``.gz``)."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


class ByteSource:
    """The content of a landing file as chunks of bytes, decompressing ``.gz``.

    A corrupt or truncated gzip stream does not raise: iteration stops after the last byte that could be
    decompressed and ``error`` says what was wrong, so callers can still count the readable lines.
    """

    def __init__(self, path: Path, gz: bool) -> None:
        self.path = path
        self.gz = gz
        self.error: str | None = None

    def __iter__(self) -> Iterator[bytes]:
        self.error = None
        with open(self.path, "rb") as f:
            if not self.gz:
                while chunk := f.read(CHUNK):
                    yield chunk
                return
            yield from self._gunzip(f)

    def _gunzip(self, f: BinaryIO) -> Iterator[bytes]:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        consumed = False  # any compressed byte fed to the current member
        while chunk := f.read(CHUNK):
            pending = chunk
            while pending:
                if d.eof:  # the previous gzip member ended: a next member follows (multi-member gzip)
                    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                try:
                    out = d.decompress(pending)
                except zlib.error as e:
                    self.error = f"corrupt gzip data: {e}"
                    return
                consumed = True
                if out:
                    yield out
                pending = d.unused_data if d.eof else b""
        if consumed and not d.eof:
            self.error = "truncated gzip file: the compressed stream ends before its end-of-stream marker"


def iter_lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Physical lines (split on ``\\n``, which keeps its ``\\n``); the last line may lack one."""
    rem = b""
    for chunk in chunks:
        parts = chunk.split(b"\n")
        if rem:
            parts[0] = rem + parts[0]
        rem = parts.pop()
        for part in parts:
            yield part + b"\n"
    if rem:
        yield rem


@dataclass
class DecodeState:
    """The first encoding problem found while decoding a file's lines, if any."""

    error: str | None = None


def iter_text_lines(lines: Iterator[bytes], encoding: str, state: DecodeState) -> Iterator[str]:
    """Decode physical lines; never raises on bad bytes.

    UTF-8: an invalid byte records an error in ``state`` and the line is decoded with ``\\xNN`` escapes.
    Windows-1252: a line that is valid UTF-8 with multibyte characters means the file is really UTF-8
    (``é`` would load as ``Ã©``): the error is recorded and the line decoded as UTF-8 so the reject is
    readable; bytes undefined in Windows-1252 are recorded and escaped. A UTF-8 byte-order mark at the
    start of the file is dropped.
    """
    first = True
    line_no = 0
    cp1252 = encoding.lower().replace("-", "") in ("cp1252", "windows1252")
    for b in lines:
        line_no += 1
        if first:
            first = False
            if b.startswith(UTF8_BOM):
                b = b[len(UTF8_BOM) :]
        if b.isascii():
            yield b.decode("ascii")
            continue
        if cp1252:
            try:
                text = b.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                if state.error is None:
                    state.error = (
                        f"wrong encoding: expected Windows-1252 but line {line_no} is UTF-8 "
                        "(multibyte characters)"
                    )
                yield text
                continue
        try:
            yield b.decode(encoding)
        except UnicodeDecodeError as e:
            if state.error is None:
                bad = b[e.start : e.start + 1].hex()
                label = "UTF-8" if not cp1252 else "Windows-1252"
                state.error = (
                    f"wrong encoding: not valid {label}: byte 0x{bad} on line {line_no} "
                    f"(column {len(b[: e.start].decode(encoding, 'replace')) + 1})"
                )
            yield b.decode(encoding, "backslashreplace")


_ESCAPE = "cxw-escape"
_local = threading.local()


def _escape_undecodable(e: UnicodeError) -> tuple[str, int]:
    """Codec error handler: note that the file has bad bytes, keep them visible as ``\\xNN``."""
    if not isinstance(e, UnicodeDecodeError):
        raise e
    state: DecodeState | None = getattr(_local, "state", None)
    if state is not None and state.error is None:
        state.error = f"wrong encoding: not valid UTF-8: byte 0x{e.object[e.start]:02x}"
    return "".join(f"\\x{b:02x}" for b in e.object[e.start : e.end]), e.end


codecs.register_error(_ESCAPE, _escape_undecodable)


class _ChunkStream(io.RawIOBase):
    """A read-only binary stream over an iterator of byte chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._buf:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._buf = memoryview(chunk)
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def is_cp1252(encoding: str) -> bool:
    return encoding.lower().replace("-", "").replace("_", "") in ("cp1252", "windows1252")


class TextLines:
    """A landing file as decoded physical lines (each with its ``\\n``), never raising on bad bytes.

    UTF-8 files are decoded by ``io.TextIOWrapper`` (C speed; lines split on ``\\n`` only, a BOM dropped,
    invalid bytes kept as ``\\xNN`` escapes and noted). Windows-1252 files go line by line
    (``iter_text_lines``) so that UTF-8 content in them is recognised. After iterating, ``error`` is the
    first problem: gzip damage, then encoding. Decoding is deterministic, so reading a file again gives
    the same lines (the loader re-reads rejected records for their raw text).
    """

    def __init__(self, path: Path, gz: bool, encoding: str) -> None:
        self.path = path
        self.gz = gz
        self.encoding = encoding
        self.source = ByteSource(path, gz)
        self.decode = DecodeState()

    def __iter__(self) -> Iterator[str]:
        if is_cp1252(self.encoding):
            return iter_text_lines(iter_lines(iter(self.source)), self.encoding, self.decode)
        _local.state = self.decode
        raw = io.BufferedReader(_ChunkStream(iter(self.source)), buffer_size=CHUNK)
        return iter(io.TextIOWrapper(raw, encoding="utf-8-sig", errors=_ESCAPE, newline="\n"))

    @property
    def error(self) -> str | None:
        if self.source.error:
            return self.source.error
        if self.decode.error and not is_cp1252(self.encoding) and " on line " not in self.decode.error:
            self.decode.error = _locate_bad_byte(self.path, self.gz) or self.decode.error
        return self.decode.error


def _locate_bad_byte(path: Path, gz: bool) -> str | None:
    """The first invalid UTF-8 byte with its line and column (a second pass; only for broken files)."""
    state = DecodeState()
    for _ in iter_text_lines(iter_lines(iter(ByteSource(path, gz))), "utf-8", state):
        if state.error:
            return state.error
    return None


def record_texts(path: Path, gz: bool, encoding: str, spans: list[tuple[int, int]]) -> list[str]:
    """The delivered text of records given as (first line, last line), in the order given.

    Lines are decoded exactly as when the file was tokenised; the final line ending is dropped.
    """
    wanted: dict[int, list[int]] = {}
    for i, (start, end) in enumerate(spans):
        for n in range(start, end + 1):
            wanted.setdefault(n, []).append(i)
    if not wanted:
        return []
    last = max(wanted)
    parts: list[list[str]] = [[] for _ in spans]
    for line_no, text in enumerate(TextLines(path, gz, encoding), 1):
        for i in wanted.get(line_no, ()):
            parts[i].append(text)
        if line_no >= last:
            break
    return [strip_eol("".join(p)) for p in parts]


def strip_eol(text: str) -> str:
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith("\n"):
        return text[:-1]
    return text


@dataclass
class Scan:
    """What one pass over a file's decompressed bytes found (decides whether the fast path is exact)."""

    n_bytes: int = 0
    n_lines: int = 0  # physical lines (a last line without newline counts)
    valid_utf8: bool = True
    error: str | None = None  # gzip damage


def scan_bytes(source: ByteSource) -> Scan:
    """Count lines, check UTF-8 validity and gzip integrity in one streaming pass (C-speed operations)."""
    s = Scan()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    last = b""
    partial = False  # the decoder holds the first bytes of a multibyte character
    for chunk in source:
        s.n_bytes += len(chunk)
        s.n_lines += chunk.count(b"\n")
        if s.valid_utf8 and (partial or not chunk.isascii()):
            try:
                decoder.decode(chunk)
                partial = bool(decoder.getstate()[0])
            except UnicodeDecodeError:
                s.valid_utf8 = False
        last = chunk
    if s.valid_utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            s.valid_utf8 = False
    if last and not last.endswith(b"\n"):
        s.n_lines += 1
    s.error = source.error
    return s
