"""Archives are checked while they stream: oversized headers, members, ratios and entry counts
are refused before anything large is buffered in memory or written to disk."""

from __future__ import annotations

import resource
import tarfile
import zipfile
from pathlib import Path

import pytest

from modelgate.core.bundle.archive import ArchiveLimits, extract
from modelgate.core.errors import UnsafeBundleError
from modelgate.core.progress import Progress
from tests.attacks._bombs import MODELGATE, long_name_tar, measure, zip_bomb

MIB = 1024**2
LIMITS = ArchiveLimits(max_entries=10_000, max_bytes=64 * 1024**3, max_ratio=200,
                       max_member_bytes=32 * 1024**3, max_header_bytes=MIB)


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def written(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def refused(archive: Path, dest: Path, limits: ArchiveLimits = LIMITS) -> UnsafeBundleError:
    dest.mkdir()
    with pytest.raises(UnsafeBundleError) as error:
        extract(archive, dest, limits=limits, progress=Progress())
    assert error.value.rule == "MG122"
    return error.value


@pytest.mark.parametrize("kind", [tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE,
                                  tarfile.XGLTYPE], ids=["gnu-longname", "gnu-longlink", "pax", "pax-global"])
def test_a_huge_tar_header_is_refused_before_it_is_read(tmp_path, kind):
    archive = long_name_tar(tmp_path / "bomb.tar", header_bytes=1024**3, kind=kind)  # sparse on disk
    before = peak_rss()
    error = refused(archive, tmp_path / "out")
    assert "1073741824 bytes" in error.message and "limit for headers" in error.message
    assert peak_rss() - before < 64 * MIB  # tarfile would have read the whole 1 GB record


@pytest.mark.parametrize("form", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT], ids=["gnu", "pax"])
def test_a_long_name_within_the_header_limit_is_read(tmp_path, form):
    name = "/".join(["d" * 40] * 30) + "/weights.bin"  # 1,240 characters: a long-name record
    with tarfile.open(tmp_path / "ok.tar", "w", format=form) as tar:
        info = tarfile.TarInfo(name)
        info.size = 3
        tar.addfile(info, __import__("io").BytesIO(b"abc"))
    (tmp_path / "out").mkdir()
    extract(tmp_path / "ok.tar", tmp_path / "out", limits=LIMITS, progress=Progress())
    assert (tmp_path / "out" / name).read_bytes() == b"abc"


@pytest.mark.slow
def test_a_zip_bomb_is_refused_from_its_headers_with_nothing_written(tmp_path):
    archive = zip_bomb(tmp_path / "bomb.zip", member_bytes=256 * MIB)  # about 250 KiB packed
    error = refused(archive, tmp_path / "out")
    assert "expands more than 200 times" in error.message
    assert written(tmp_path / "out") == 0


@pytest.mark.slow
def test_a_bomb_member_after_honest_ones_is_refused_before_any_is_written(tmp_path):
    with zipfile.ZipFile(tmp_path / "mixed.zip", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bundle.yaml", "name: x\n")
        archive.writestr("LICENSE", "text\n" * 1000)
    zip_bomb(tmp_path / "bomb.zip", member_bytes=64 * MIB)
    with zipfile.ZipFile(tmp_path / "bomb.zip") as bomb, zipfile.ZipFile(tmp_path / "mixed.zip", "a") as out:
        info = bomb.infolist()[0]
        out.writestr(info, bomb.read(info), compress_type=zipfile.ZIP_DEFLATED)
    refused(tmp_path / "mixed.zip", tmp_path / "out")
    assert written(tmp_path / "out") == 0


def test_per_member_bytes_are_capped(tmp_path):
    with tarfile.open(tmp_path / "big.tar", "w") as tar:
        info = tarfile.TarInfo("model/big.bin")
        info.size = 8 * MIB
        tar.addfile(info, open("/dev/zero", "rb"))
    limits = ArchiveLimits(max_entries=10, max_bytes=64 * 1024**3, max_ratio=200,
                           max_member_bytes=MIB, max_header_bytes=MIB)
    error = refused(tmp_path / "big.tar", tmp_path / "out", limits)
    assert "model/big.bin" in error.message and written(tmp_path / "out") == 0


def test_a_zip_with_too_many_entries_is_refused_from_its_end_record(tmp_path):
    with zipfile.ZipFile(tmp_path / "many.zip", "w") as archive:
        for index in range(50):
            archive.writestr(f"f{index}", b"")
    limits = ArchiveLimits(max_entries=10, max_bytes=MIB, max_ratio=200, max_member_bytes=MIB,
                           max_header_bytes=MIB)
    error = refused(tmp_path / "many.zip", tmp_path / "out", limits)
    assert "(50)" in error.message and written(tmp_path / "out") == 0


def test_a_zip_central_directory_larger_than_the_header_limit_is_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "names.zip", "w") as archive:
        for index in range(40):
            archive.writestr(f"{index}-" + "x" * 200, b"")
    limits = ArchiveLimits(max_entries=100, max_bytes=MIB, max_ratio=200, max_member_bytes=MIB,
                           max_header_bytes=4096)
    error = refused(tmp_path / "names.zip", tmp_path / "out", limits)
    assert "central directory" in error.message


@pytest.mark.slow
@pytest.mark.parametrize("build", [long_name_tar, zip_bomb], ids=["tar-1GB-long-name", "zip-3GiB"])
def test_the_cli_refuses_each_archive_bomb_quickly_and_lean(tmp_path, build):
    archive = build(tmp_path / ("bomb.tar" if build is long_name_tar else "bomb.zip"))
    elapsed, peak, code, output = measure([*MODELGATE, "validate", str(archive), "--stage", "staging"])
    assert code == 2 and "MG122" in output, output
    assert peak < 256 * MIB and elapsed < 30
