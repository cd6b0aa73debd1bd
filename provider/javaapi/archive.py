"""The class files of a jar, a classes directory or one ``.class`` file, read within bounds.

An API jar is small (kilobytes to a few megabytes), so every size is bounded and
anything past a bound is refused with ``ArchiveError`` before it costs memory or time:

- a jar: at most ``Limits.archive_bytes`` on disk; its central directory (read from the
  end-of-central-directory record before ``zipfile`` parses it) at most
  ``Limits.directory_bytes`` and ``Limits.entries`` entries, so a forged entry count
  cannot make ``zipfile`` build millions of records;
- every class file at most ``Limits.class_bytes`` uncompressed: an entry declaring more
  is refused unread, and one inflating past what it declared fails its length and CRC
  check (``zipfile`` stops at the declared size): a zip bomb is an error, never a hang;
- all class files together at most ``Limits.total_bytes`` uncompressed.

Only ``*.class`` entries are read (not ``module-info``, ``package-info`` or the
``META-INF/versions`` copies of a multi-release jar); nested archives are ignored.
Directories are walked without following links; only regular files are read.
"""

from __future__ import annotations

import os
import stat
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from dubbo_recsys.provider.javaapi.errors import ArchiveError

__all__ = ["Limits", "read_class_files"]

_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22
_ZIP64_LOCATOR = b"PK\x06\x07"
_SKIPPED_NAMES = frozenset({"module-info.class", "package-info.class"})


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what ``read_class_files`` reads (the defaults fit any real API jar many times over)."""

    archive_bytes: int = 256 * 1024 * 1024
    directory_bytes: int = 16 * 1024 * 1024
    entries: int = 100_000
    class_bytes: int = 8 * 1024 * 1024
    total_bytes: int = 256 * 1024 * 1024


def read_class_files(path: str | os.PathLike[str], limits: Limits = Limits()) -> Iterator[tuple[str, bytes]]:
    """``(name, bytes)`` of every class file under ``path`` (a jar/zip, a directory, or a
    ``.class`` file), in a stable order; ``ArchiveError`` for anything unreadable or too big."""
    where = Path(path)
    try:
        mode = where.stat().st_mode
    except OSError as exc:
        raise ArchiveError(f"{where}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        yield from _directory(where, limits)
    elif stat.S_ISREG(mode) and where.suffix == ".class":
        yield where.name, _read_file(where, limits.class_bytes)
    elif stat.S_ISREG(mode):
        yield from _jar(where, limits)
    else:
        raise ArchiveError(f"{where}: not a jar, a class file or a directory")


def _wanted(name: str) -> bool:
    base = name.rpartition("/")[2]
    return name.endswith(".class") and base not in _SKIPPED_NAMES and not name.startswith("META-INF/")


def _read_file(path: Path, most: int) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(most + 1)
    except OSError as exc:
        raise ArchiveError(f"{path}: {exc.strerror or exc}") from None
    if len(data) > most:
        raise ArchiveError(f"{path}: larger than {most} bytes, the bound for one class file")
    return data


def _directory(root: Path, limits: Limits) -> Iterator[tuple[str, bytes]]:
    found: list[Path] = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder, name)
            relative = path.relative_to(root).as_posix()
            if not _wanted(relative) or not stat.S_ISREG(path.lstat().st_mode):
                continue
            found.append(path)
            if len(found) > limits.entries:
                raise ArchiveError(f"{root}: more than {limits.entries} class files")
    total = 0
    for path in found:
        data = _read_file(path, limits.class_bytes)
        total += len(data)
        if total > limits.total_bytes:
            raise ArchiveError(f"{root}: class files over {limits.total_bytes} bytes in all")
        yield path.relative_to(root).as_posix(), data


def _jar(path: Path, limits: Limits) -> Iterator[tuple[str, bytes]]:
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise ArchiveError(f"{path}: {exc.strerror or exc}") from None
    with handle:
        size = os.fstat(handle.fileno()).st_size
        if size > limits.archive_bytes:
            raise ArchiveError(f"{path}: {size} bytes; an API jar over {limits.archive_bytes} bytes is refused")
        _check_directory(handle, size, path, limits)
        try:
            archive = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
            raise ArchiveError(f"{path}: not a readable jar: {exc}") from None
        with archive:
            infos = sorted((i for i in archive.infolist() if _wanted(i.filename)), key=lambda i: i.filename)
            declared = 0
            for info in infos:
                if info.file_size > limits.class_bytes:
                    raise ArchiveError(
                        f"{path}: {info.filename} declares {info.file_size} bytes; a class file over "
                        f"{limits.class_bytes} bytes is refused (a zip bomb?)"
                    )
                declared += info.file_size
                if declared > limits.total_bytes:
                    raise ArchiveError(f"{path}: class files declare over {limits.total_bytes} bytes in all")
            for info in infos:
                yield info.filename, _entry(archive, info, path, limits.class_bytes)


def _entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, most: int) -> bytes:
    try:
        with archive.open(info) as stream:
            data = stream.read(most + 1)  # zipfile stops at the declared size and checks the CRC
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        # RuntimeError: an encrypted entry; NotImplementedError: an unknown compression method
        raise ArchiveError(f"{path}: {info.filename}: {exc}") from None
    except Exception as exc:  # zlib.error, lzma.LZMAError, ... from a corrupt compressed stream
        raise ArchiveError(f"{path}: {info.filename}: corrupt compressed data ({type(exc).__name__})") from None
    if len(data) != info.file_size:
        raise ArchiveError(f"{path}: {info.filename}: {len(data)} bytes where {info.file_size} were declared")
    return data


def _check_directory(handle: BinaryIO, size: int, path: Path, limits: Limits) -> None:
    """Read the end-of-central-directory record (APPNOTE 4.3.16) and refuse a central
    directory too large or too many entries before ``zipfile`` parses it (zip64 too)."""
    tail_size = min(size, _EOCD_SIZE + 0xFFFF)  # the record, then a comment of up to 64 KiB
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < _EOCD_SIZE:
        raise ArchiveError(f"{path}: not a jar (no zip end-of-central-directory record)")
    entries, directory_size = struct.unpack_from("<6xHI", tail, at + 4)
    locator = at - 20
    if locator >= 0 and tail[locator : locator + 4] == _ZIP64_LOCATOR:
        # zip64: the real counts are in the zip64 record, which may claim anything
        (record_at,) = struct.unpack_from("<Q", tail, locator + 8)
        if record_at + 56 > size:
            raise ArchiveError(f"{path}: a zip64 record beyond the end of the file")
        handle.seek(record_at)
        record = handle.read(56)
        if record[:4] != b"PK\x06\x06":
            raise ArchiveError(f"{path}: a broken zip64 end-of-central-directory record")
        entries, directory_size = struct.unpack_from("<QQ", record, 32)
    if entries > limits.entries:
        raise ArchiveError(f"{path}: {entries} entries; a jar of more than {limits.entries} is refused")
    if directory_size > limits.directory_bytes:
        raise ArchiveError(f"{path}: a central directory of {directory_size} bytes is refused")
    handle.seek(0)
