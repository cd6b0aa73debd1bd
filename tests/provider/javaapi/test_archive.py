"""Reading class files out of jars and folders: every hostile input is an ArchiveError, quickly.

Zip bombs (an entry declaring or inflating past the bound), sizes that lie, forged entry
counts (also in a zip64 record), encrypted entries, unknown compression, truncated and
non-zip files, huge files, and folders with links and FIFOs named ``*.class``.
"""

from __future__ import annotations

import os
import struct
import zipfile
from pathlib import Path

import pytest

from dubbo_recsys.provider.cli import main
from dubbo_recsys.provider.javaapi.archive import Limits, read_class_files
from dubbo_recsys.provider.javaapi.errors import ArchiveError
from tests.provider.javaapi.classbytes import ClassBytes

pytestmark = pytest.mark.timeout(60)  # a hang is a failure


def _jar(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def _patch(path: Path, signature: bytes, offset: int, value: bytes) -> None:
    """Overwrite ``value`` at ``offset`` into every record starting with ``signature``."""
    data = bytearray(path.read_bytes())
    at = data.find(signature)
    assert at >= 0
    while at >= 0:
        data[at + offset : at + offset + len(value)] = value
        at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))


LOCAL, CENTRAL = b"PK\x03\x04", b"PK\x01\x02"


def test_class_files_of_a_jar_in_name_order_without_metadata_entries(tmp_path: Path) -> None:
    one = ClassBytes("org/x/One").build()
    jar = _jar(
        tmp_path / "api.jar",
        {
            "org/x/Two.class": ClassBytes("org/x/Two").build(),
            "org/x/One.class": one,
            "module-info.class": b"ignored",
            "META-INF/versions/11/org/x/One.class": b"ignored",
            "org/x/notes.txt": b"ignored",
            "lib/nested.jar": b"ignored",
        },
    )
    found = list(read_class_files(jar))
    assert [name for name, _ in found] == ["org/x/One.class", "org/x/Two.class"]
    assert found[0][1] == one


def test_a_zip_bomb_entry_is_refused_unread(tmp_path: Path) -> None:
    jar = _jar(tmp_path / "bomb.jar", {"Bomb.class": bytes(64 * 1024 * 1024)})  # 64 MiB of zeros, ~64 KiB deflated
    assert jar.stat().st_size < 1024 * 1024
    with pytest.raises(ArchiveError, match=r"Bomb\.class declares 67108864 bytes.*zip bomb"):
        list(read_class_files(jar))


def test_an_entry_inflating_past_its_declared_size_is_refused(tmp_path: Path) -> None:
    jar = _jar(tmp_path / "liar.jar", {"Liar.class": bytes(1024 * 1024)})
    _patch(jar, LOCAL, 22, struct.pack("<I", 100))  # uncompressed size: 100 bytes, it says
    _patch(jar, CENTRAL, 24, struct.pack("<I", 100))
    with pytest.raises(ArchiveError, match=r"Liar\.class"):
        list(read_class_files(jar))


def test_all_class_files_together_are_bounded(tmp_path: Path) -> None:
    jar = _jar(tmp_path / "many.jar", {f"C{i}.class": bytes(600) for i in range(4)})
    with pytest.raises(ArchiveError, match="over 2000 bytes in all"):
        list(read_class_files(jar, Limits(total_bytes=2000)))


def test_a_forged_entry_count_is_refused_before_zipfile_reads_the_directory(tmp_path: Path) -> None:
    jar = _jar(tmp_path / "count.jar", {"A.class": b"x"})
    _patch(jar, b"PK\x05\x06", 10, struct.pack("<H", 60000))
    with pytest.raises(ArchiveError, match="60000 entries"):
        list(read_class_files(jar, Limits(entries=1000)))


def test_a_zip64_record_claiming_2_to_the_40_entries_is_refused(tmp_path: Path) -> None:
    data = _jar(tmp_path / "plain.jar", {"A.class": b"x"}).read_bytes()
    end = data.rfind(b"PK\x05\x06")
    body = data[:end]
    record = b"PK\x06\x06" + struct.pack("<QHHIIQQQQ", 44, 45, 45, 0, 0, 2**40, 2**40, 46, 0)
    locator = b"PK\x06\x07" + struct.pack("<IQI", 0, len(body), 1)
    jar = tmp_path / "zip64.jar"
    jar.write_bytes(body + record + locator + data[end:])
    with pytest.raises(ArchiveError, match="1099511627776 entries"):
        list(read_class_files(jar))


@pytest.mark.parametrize(
    "offsets, value, message",
    [
        ((6, 8), struct.pack("<H", 1), "encrypted"),  # general purpose flag bit 0
        ((8, 10), struct.pack("<H", 99), "compression"),  # an unknown compression method
    ],
)
def test_entries_zipfile_cannot_read_are_archive_errors(
    tmp_path: Path, offsets: tuple[int, int], value: bytes, message: str
) -> None:
    jar = _jar(tmp_path / "odd.jar", {"A.class": ClassBytes("A").build()})
    _patch(jar, LOCAL, offsets[0], value)
    _patch(jar, CENTRAL, offsets[1], value)
    with pytest.raises(ArchiveError, match=message):
        list(read_class_files(jar))


def test_truncated_and_foreign_files_are_archive_errors(tmp_path: Path) -> None:
    data = _jar(tmp_path / "whole.jar", {"A.class": ClassBytes("A").build()}).read_bytes()
    (tmp_path / "half.jar").write_bytes(data[: len(data) // 2])
    (tmp_path / "text.jar").write_text("not a jar at all")
    for name in ("half.jar", "text.jar", "absent.jar"):
        with pytest.raises(ArchiveError, match=name):
            list(read_class_files(tmp_path / name))


def test_a_huge_file_is_refused_by_its_size(tmp_path: Path) -> None:
    huge = tmp_path / "huge.jar"
    with huge.open("wb") as handle:
        handle.truncate(300 * 1024 * 1024)  # sparse: nothing is written
    with pytest.raises(ArchiveError, match="314572800 bytes"):
        list(read_class_files(huge))


def test_a_folder_reads_regular_class_files_only(tmp_path: Path) -> None:
    root = tmp_path / "classes"
    (root / "org" / "x").mkdir(parents=True)
    (root / "org" / "x" / "A.class").write_bytes(ClassBytes("org/x/A").build())
    outside = tmp_path / "outside.class"
    outside.write_bytes(b"never read")
    (root / "org" / "x" / "Link.class").symlink_to(outside)
    os.mkfifo(root / "org" / "x" / "Fifo.class")  # reading it would block forever
    assert [name for name, _ in read_class_files(root)] == ["org/x/A.class"]


def test_a_folder_is_bounded_too(tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"C{i}.class").write_bytes(bytes(10))
    with pytest.raises(ArchiveError, match="more than 3 class files"):
        list(read_class_files(tmp_path, Limits(entries=3)))
    (tmp_path / "Big.class").write_bytes(bytes(5000))
    with pytest.raises(ArchiveError, match="larger than 4096 bytes"):
        list(read_class_files(tmp_path / "Big.class", Limits(class_bytes=4096)))


def test_import_java_answers_a_zip_bomb_with_an_error_and_status_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jar = _jar(tmp_path / "bomb.jar", {"org/x/Bomb.class": bytes(64 * 1024 * 1024)})
    assert main(["import-java", str(jar), "--out", str(tmp_path / "out_pkg")]) == 1
    assert "zip bomb" in capsys.readouterr().err
    assert not (tmp_path / "out_pkg").exists()


def test_import_java_answers_a_malformed_class_with_an_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jar = _jar(tmp_path / "broken.jar", {"org/x/Broken.class": ClassBytes("org/x/Broken").build()[:-3]})
    assert main(["import-java", str(jar), "--out", str(tmp_path / "out_pkg")]) == 1
    assert "broken.jar!org/x/Broken.class: truncated" in capsys.readouterr().err
