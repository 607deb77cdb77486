"""Reading a file from outside in bounded memory and time: the one reader under log files
(`analyze`), recordings (`replay`, `compare`, `--plan`), snapshot documents and plan files.

The file is read in chunks, a gzip file (told by its magic bytes, not its name) decompressed as
it streams, and every cap of tui/core/caps.py is checked as the bytes arrive: the total
decompressed size, the gzip ratio (a bomb is refused at the first 64 MiB that expand more than
200x), and, for `lines`, the length of one line. So a 2 GB single-line gzip bomb costs one cap's
worth of memory and stops in well under a second. Every failure is a `UserError`: one line that
names the file, the cap and the caller's `fix`.

A gzip stream cut short (a `watch --record` session killed mid-way) reads as far as it goes, as
its sync flushes allow; several gzip members one after another (`cat a.gz b.gz`) read as one.
"""

import codecs
import zlib
from collections.abc import Iterator

from tui.core import caps
from tui.core.errors import UserError

CHUNK = 256 * caps.KIB  # read and decompress this much at a time
_GZIP_MAGIC = b"\x1f\x8b"


def byte_chunks(path: str, *, fix: str, max_bytes: int = caps.INPUT_BYTES) -> Iterator[bytes]:
    """The file's bytes (decompressed if gzip), in chunks of at most CHUNK, within `max_bytes`."""
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        raise UserError(f"{path}: no such file; {fix}") from None
    except IsADirectoryError:
        raise UserError(f"{path} is a directory; {fix}") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read it ({exc.strerror or exc.__class__.__name__}); {fix}") from None
    with fh:
        try:
            first = fh.read(CHUNK)
            if first[:2] == _GZIP_MAGIC:
                yield from _gunzip(path, fh, first, fix, max_bytes)
                return
            total = 0
            while first:
                total += len(first)
                if total > max_bytes:
                    raise UserError(_too_big(path, max_bytes, fix))
                yield first
                first = fh.read(CHUNK)
        except OSError as exc:
            raise UserError(f"{path}: cannot read it ({exc.strerror or exc.__class__.__name__}); {fix}") from None


def _gunzip(path: str, fh, data: bytes, fix: str, max_bytes: int) -> Iterator[bytes]:
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    read = out = 0
    while data:
        read += len(data)
        full = False  # the last step filled its chunk: zlib may hold more output
        while data or full:
            if d is None:
                if data[:2] != _GZIP_MAGIC:
                    return  # trailing bytes after the last member: ignored, as gzip does
                d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                # max_length bounds each step's output: one chunk, however far the input expands.
                piece = d.decompress(data, CHUNK)
            except zlib.error as exc:
                raise UserError(f"{path}: a damaged gzip file ({exc}); {fix}") from None
            data, full = d.unconsumed_tail, len(piece) == CHUNK
            if d.eof:
                full = False
                data, d = d.unused_data, None  # another member may follow (`cat a.gz b.gz`)
            if not piece:
                continue
            out += len(piece)
            if out > max_bytes:
                raise UserError(_too_big(path, max_bytes, fix))
            if out > caps.GZIP_RATIO_AFTER and out > caps.GZIP_RATIO * read:
                raise UserError(
                    f"{path}: expands more than {caps.GZIP_RATIO}x when decompressed, which no log or "
                    f"recording does (a gzip bomb?); {fix}"
                )
            yield piece
        data = fh.read(CHUNK)


def _too_big(path: str, cap: int, fix: str) -> str:
    return f"{path}: over {caps.size(cap)} (the most lambdascope reads from one file); {fix}"


def text_chunks(path: str, *, fix: str, max_bytes: int = caps.INPUT_BYTES) -> Iterator[str]:
    """The file as UTF-8 text, in chunks (a character split across two chunks is kept whole)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in byte_chunks(path, fix=fix, max_bytes=max_bytes):
            text = decoder.decode(chunk)
            if text:
                yield text
        text = decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text; {fix}") from None
    if text:
        yield text


def lines(path: str, *, max_line: int, what: str, fix: str, max_bytes: int = caps.INPUT_BYTES) -> Iterator[str]:
    """The file's lines (split on newline, without it), each at most `max_line` bytes: a longer
    one is refused as soon as it passes the cap, before it is whole. `what` names a line in the
    error ("a recording line")."""
    n = 0
    parts: list[bytes] = []  # the line being read, in pieces (joined once, at its end)
    pending = 0
    for chunk in byte_chunks(path, fix=fix, max_bytes=max_bytes):
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                break
            n += 1
            if pending + end - start > max_line:
                raise UserError(_too_long(path, n, what, max_line, fix))
            parts.append(chunk[start:end])
            yield _decode(b"".join(parts), path, n, fix)
            parts, pending, start = [], 0, end + 1
        if start < len(chunk):
            pending += len(chunk) - start
            if pending > max_line:
                raise UserError(_too_long(path, n + 1, what, max_line, fix))
            parts.append(chunk[start:])
    if parts:
        yield _decode(b"".join(parts), path, n + 1, fix)


def _decode(raw: bytes, path: str, n: int, fix: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path}:{n}: not UTF-8 text; {fix}") from None


def _too_long(path: str, n: int, what: str, cap: int, fix: str) -> str:
    return f"{path}:{n}: {what} over {caps.size(cap)} (the longest lambdascope reads); {fix}"


def read_small(path: str, *, max_bytes: int, fix: str) -> bytes:
    """A whole small file (a snapshot document, a plan), refused past `max_bytes`."""
    return b"".join(byte_chunks(path, fix=fix, max_bytes=max_bytes))
