"""Reading files that nobody vouches for: size limits, archives read member by member within limits,
JSON within a depth, text that must be UTF-8. Every refusal is a `ParseError` naming the line (or the
archive member) and what was wrong; the limits themselves are in `db/limits.py`.

The encoding rule: UTF-8, with or without a byte-order mark (what FiveThirtyEight, OpenElections and
racedesk export write). A file with bytes that are not UTF-8 is refused with the line and the byte, and
asked to be saved as UTF-8; a format whose source publishes another encoding declares it (MEDSL: latin-1).
Guessing (charset-normalizer and the like) is not used: a wrong guess would store misspelt names quietly.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO, Any

from db import limits
from db.importers.common import BadLine, ParseError

CHUNK = 1 << 16
NOT_A_ZIP = "not a readable zip"


def refuse(reason: str, line: int = 0, file: str | None = None) -> ParseError:
    return ParseError(BadLine(line, reason, file=file))


def _size_text(n: int) -> str:
    return f"{n / limits.MiB:,.0f} MB" if n >= limits.MiB else f"{n:,} bytes"


def check_size(path: str | os.PathLike[str], limit: int = limits.MAX_FILE_BYTES) -> int:
    size = os.stat(path).st_size
    if size > limit:
        raise refuse(f"the file is {_size_text(size)}; the limit is {_size_text(limit)}")
    return size


def sha256_of(path: str | os.PathLike[str]) -> str:
    """The file's SHA-256, read a chunk at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def first_non_utf8(handle: IO[bytes]) -> tuple[int, int, int] | None:
    """Where a binary stream stops being UTF-8: (line, column, the byte), or None if it is UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, column = 1, 1
    while True:
        chunk = handle.read(CHUNK)
        try:
            decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as problem:
            good = chunk[: problem.start]
            line += good.count(b"\n")
            column = (len(good) - good.rfind(b"\n")) if b"\n" in good else column + len(good)
            return line, column, chunk[problem.start] if problem.start < len(chunk) else 0
        if not chunk:
            return None
        line += chunk.count(b"\n")
        column = (len(chunk) - chunk.rfind(b"\n")) if b"\n" in chunk else column + len(chunk)


def not_utf8(path: str | os.PathLike[str]) -> ParseError:
    """The refusal for a file that is not UTF-8, naming where it stops being so."""
    with open(path, "rb") as handle:
        head = handle.read(4)
        handle.seek(0)
        where = first_non_utf8(handle)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return refuse("the file is UTF-16; save it as UTF-8", 1)
    if where is None:
        return refuse("the file is not UTF-8; save it as UTF-8", 0)
    line, column, byte = where
    return refuse(f"not UTF-8: byte 0x{byte:02X} at column {column}; save the file as UTF-8", line)


# --- archives --------------------------------------------------------------------------------


def safe_member(name: str) -> bool:
    """A member name that is a plain relative path (it is never used as one, but such names mean mischief)."""
    if "\x00" in name or "\\" in name or not name:
        return False
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and ":" not in path.parts[0]


def open_archive(handle: IO[bytes]) -> zipfile.ZipFile:
    """A zip whose members, as its directory declares them, are within the limits."""
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as problem:
        raise refuse(f"{NOT_A_ZIP} ({problem})") from None
    infos = archive.infolist()
    if len(infos) > limits.MAX_MEMBERS:
        raise refuse(f"the zip holds {len(infos):,} files; the limit is {limits.MAX_MEMBERS:,}")
    total = 0
    for info in infos:
        if not safe_member(info.filename):
            raise refuse(f"the zip holds a file with an unsafe name: {info.filename[:80]!r}")
        if info.file_size > limits.MAX_MEMBER_BYTES:
            raise refuse(
                f"unpacks to {_size_text(info.file_size)}; one file may be {_size_text(limits.MAX_MEMBER_BYTES)}",
                file=info.filename,
            )
        if info.file_size > limits.MiB and info.file_size > limits.MAX_RATIO * max(info.compress_size, 1):
            raise refuse(
                f"unpacks {info.file_size // max(info.compress_size, 1):,} times its packed size; "
                f"the limit is {limits.MAX_RATIO}",
                file=info.filename,
            )
        total += info.file_size
    if total > limits.MAX_UNPACKED_BYTES:
        raise refuse(
            f"the zip unpacks to {_size_text(total)}; the limit is {_size_text(limits.MAX_UNPACKED_BYTES)}"
        )
    return archive


def read_member(archive: zipfile.ZipFile, name: str) -> bytes:
    """One member, read a chunk at a time and stopped at the size its directory declared (or the limit)."""
    info = archive.getinfo(name)
    allowed = min(info.file_size, limits.MAX_MEMBER_BYTES)
    data = bytearray()
    try:
        with archive.open(info) as member:
            while chunk := member.read(CHUNK):
                data += chunk
                if len(data) > allowed:
                    raise refuse("unpacks to more than its zip directory says", file=name)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as problem:
        raise refuse(f"cannot be unpacked ({problem})", file=name) from None
    return bytes(data)


# --- JSON ------------------------------------------------------------------------------------


def _no_constant(word: str) -> Any:
    raise ValueError(f"{word} is not a number racedesk stores")


def load_json(data: bytes | str, what: str = "JSON") -> Any:
    """A JSON value within the size and depth limits; NaN and Infinity are refused."""
    if len(data) > limits.MAX_JSON_BYTES:
        raise refuse(
            f"the document is {_size_text(len(data))}; the limit is {_size_text(limits.MAX_JSON_BYTES)}"
        )
    if isinstance(data, bytes):
        raw = data
        try:
            data = raw.decode("utf-8-sig")
        except UnicodeDecodeError as problem:
            raise refuse(
                f"not UTF-8: byte 0x{raw[problem.start]:02X}; save the file as UTF-8",
                raw[: problem.start].count(b"\n") + 1,
            ) from None
    try:
        value = json.loads(data, parse_constant=_no_constant)
    except json.JSONDecodeError as problem:
        raise refuse(f"not {what}: {problem.msg} (column {problem.colno})", problem.lineno) from None
    except RecursionError:
        raise refuse(f"nested deeper than {limits.MAX_JSON_DEPTH} levels", 1) from None
    except ValueError as problem:  # NaN or Infinity
        raise refuse(f"not {what}: {problem}", 1) from None
    if depth(value) > limits.MAX_JSON_DEPTH:
        raise refuse(f"nested deeper than {limits.MAX_JSON_DEPTH} levels", 1)
    return value


def depth(value: Any) -> int:
    """How deep lists and objects nest (without recursion)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = item.values()
        elif not isinstance(item, list):
            continue
        deepest = max(deepest, level)
        if level > limits.MAX_JSON_DEPTH:
            return level
        stack.extend((child, level + 1) for child in item)
    return deepest


def read_limited(handle: IO[Any], limit: int) -> Any:
    """At most `limit` bytes of a stream; more is refused."""
    data = handle.read(limit + 1)
    if len(data) > limit:
        raise refuse(f"the document is over {_size_text(limit)}, the limit")
    return data


def path_name(path: str | os.PathLike[str]) -> str:
    return Path(path).name
