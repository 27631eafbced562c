"""Archived bundles (.zip, .tar, .tar.gz): what opens, and what hostile archives cannot do.

Every hostile case checks three things: the error is a :class:`BundleError`
with a message naming the problem, nothing was written anywhere outside the
private extraction folder (the whole test folder is compared before and
after), and the private extraction folder itself is gone.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from modelgate.core.bundle.reader import open_bundle
from modelgate.core.errors import BundleError, UnsafeBundleError
from modelgate.core.bundle.manifest import load_manifest
from modelgate.core.progress import Progress
from tests import hostile
from tests.hostile import MIB, file, leftover_extractions

FORMATS = ["bundle.zip", "bundle.tar", "bundle.tar.gz"]
TAR_FORMATS = ["bundle.tar", "bundle.tar.gz"]
BUNDLE_FILES = ["LICENSE", "MODEL_CARD.md", "bundle.yaml", "model/m.onnx"]


def snapshot(folder: Path) -> set[str]:
    """Every path under ``folder`` (files, folders, links), relative."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


@pytest.fixture
def source(minimal_bundle):
    """A minimal valid bundle folder to archive."""
    return minimal_bundle()


@pytest.fixture
def refuse(tmp_path, private_tmp):
    """``refuse(archive, match)``: opening must fail and leave no trace anywhere."""

    def check(archive: Path, match: str, *, error=BundleError, progress=None) -> BundleError:
        before = snapshot(tmp_path)
        with pytest.raises(error, match=match) as info:
            open_bundle(archive, progress=progress)
        assert snapshot(tmp_path) == before, "something was written outside the extraction folder"
        assert leftover_extractions(private_tmp) == []
        assert not (tmp_path.parent / "evil").exists()
        assert str(info.value).strip()
        return info.value

    return check


# --------------------------------------------------------------------------- good archives


@pytest.mark.parametrize("name", FORMATS)
@pytest.mark.parametrize("prefix", ["", "my-bundle"])
def test_good_archive_opens(tmp_path, private_tmp, source, name, prefix):
    archive = hostile.write_archive(tmp_path / name, hostile.bundle_entries(source, prefix))

    bundle = open_bundle(archive)
    try:
        assert bundle.is_archive
        assert bundle.source == archive
        assert (bundle.root / "bundle.yaml").is_file()
        assert bundle.files() == BUNDLE_FILES
        assert bundle.read_bytes("model/m.onnx", limit=MIB) == (source / "model" / "m.onnx").read_bytes()
        assert load_manifest(bundle).valid
        # Extracted into a private folder of the (redirected) temp dir, mode 0700.
        [extraction] = leftover_extractions(private_tmp)
        assert bundle.root.resolve().is_relative_to((private_tmp / extraction).resolve())
        assert stat.S_IMODE((private_tmp / extraction).stat().st_mode) == 0o700
    finally:
        bundle.close()
    assert leftover_extractions(private_tmp) == []
    bundle.close()  # closing twice is harmless


def test_context_manager_removes_the_extraction(tmp_path, private_tmp, source):
    archive = hostile.write_archive(tmp_path / "b.tar.gz", hostile.bundle_entries(source, "b"))
    with open_bundle(archive) as bundle:
        assert leftover_extractions(private_tmp)
        root = bundle.root
    assert not root.exists()
    assert leftover_extractions(private_tmp) == []


@pytest.mark.parametrize("name", FORMATS)
def test_inside_symlink_is_materialised_as_a_plain_file(tmp_path, private_tmp, source, name):
    entries = hostile.bundle_entries(source) + [hostile.symlink("model/alias.onnx", "m.onnx"),
                                                hostile.symlink("docs/card.md", "../MODEL_CARD.md")]
    archive = hostile.write_archive(tmp_path / name, entries)
    with open_bundle(archive) as bundle:
        for rel, original in (("model/alias.onnx", "model/m.onnx"), ("docs/card.md", "MODEL_CARD.md")):
            path = bundle.root / rel
            assert not path.is_symlink()
            assert stat.S_ISREG(path.lstat().st_mode)
            assert path.read_bytes() == (source / original).read_bytes()
        assert "model/alias.onnx" in bundle.files()


@pytest.mark.parametrize("name", TAR_FORMATS)
def test_inside_hard_link_is_materialised_as_an_independent_file(tmp_path, private_tmp, source, name):
    entries = hostile.bundle_entries(source) + [hostile.hardlink("model/copy.onnx", "model/m.onnx")]
    archive = hostile.write_archive(tmp_path / name, entries)
    with open_bundle(archive) as bundle:
        copy = bundle.root / "model" / "copy.onnx"
        assert not copy.is_symlink() and copy.stat().st_nlink == 1
        assert copy.read_bytes() == (source / "model" / "m.onnx").read_bytes()


@pytest.mark.parametrize("name", FORMATS)
def test_entry_count_at_the_limit_is_accepted(tmp_path, private_tmp, source, monkeypatch, name):
    entries = hostile.bundle_entries(source)
    archive = hostile.write_archive(tmp_path / name, entries)
    monkeypatch.setenv("MODELGATE_MAX_ARCHIVE_ENTRIES", str(len(entries)))
    with open_bundle(archive) as bundle:
        assert bundle.files() == BUNDLE_FILES


def test_not_an_archive_and_missing_path(tmp_path, refuse):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    refuse(text, "neither a bundle folder nor")
    refuse(tmp_path / "missing.zip", "no such file")


@pytest.mark.parametrize("name", FORMATS)
def test_garbage_with_an_archive_suffix(tmp_path, refuse, name):
    archive = tmp_path / name
    archive.write_bytes(os.urandom(4096))
    refuse(archive, "not a readable|truncated or corrupt")


# --------------------------------------------------------------------------- paths


@pytest.mark.parametrize("name", FORMATS)
@pytest.mark.parametrize("evil", ["../evil", "a/../../evil", "../../evil", "model/../../evil", "..\\evil"])
def test_parent_parts_are_refused(tmp_path, private_tmp, source, refuse, name, evil):
    entries = hostile.bundle_entries(source) + [file(evil, b"pwned")]
    archive = hostile.write_archive(tmp_path / name, entries)
    error = refuse(archive, r"climbs out of the archive with '\.\.'", error=UnsafeBundleError)
    assert error.rule == "MG120"
    for target in (private_tmp / "evil", tmp_path / "evil", tmp_path.parent / "evil"):
        assert not target.exists()


@pytest.mark.parametrize("name", FORMATS)
def test_parent_part_first_entry_writes_nothing(tmp_path, private_tmp, refuse, name):
    # The hostile entry comes before anything else: nothing may have been written at all.
    archive = hostile.write_archive(tmp_path / name, [file("../evil", b"pwned"), file("bundle.yaml", "x: 1")])
    refuse(archive, "climbs out", error=UnsafeBundleError)
    assert not (private_tmp / "evil").exists()


@pytest.mark.parametrize("name", FORMATS)
def test_absolute_paths_are_refused(tmp_path, source, refuse, name):
    target = tmp_path / "absolute-evil"
    entries = hostile.bundle_entries(source) + [file(str(target), b"pwned")]
    archive = hostile.write_archive(tmp_path / name, entries)
    error = refuse(archive, "absolute path", error=UnsafeBundleError)
    assert error.rule == "MG120"
    assert not target.exists()


@pytest.mark.parametrize("name", FORMATS)
@pytest.mark.parametrize("evil", ["C:/evil", "c:\\evil", "\\evil"])
def test_windows_absolute_paths_are_refused(tmp_path, source, refuse, name, evil):
    archive = hostile.write_archive(tmp_path / name, hostile.bundle_entries(source) + [file(evil, b"x")])
    refuse(archive, "absolute path", error=UnsafeBundleError)


# --------------------------------------------------------------------------- links


@pytest.mark.parametrize("name", FORMATS)
@pytest.mark.parametrize("target", ["/etc/passwd", "../../x", "../x", "model/../../x", "/"])
def test_symlinks_leaving_the_archive_are_refused(tmp_path, source, refuse, name, target):
    entries = hostile.bundle_entries(source) + [hostile.symlink("model/weights.onnx", target)]
    archive = hostile.write_archive(tmp_path / name, entries)
    error = refuse(archive, "is a link to .* outside the bundle", error=UnsafeBundleError)
    assert error.rule == "MG121"


@pytest.mark.parametrize("name", FORMATS)
def test_write_through_an_escaping_symlink_is_refused(tmp_path, source, refuse, name):
    outside = tmp_path / "outside"
    outside.mkdir()
    entries = [hostile.symlink("escape", str(outside)), file("escape/evil", b"pwned"),
               hostile.symlink("up", "../../.."), file("up/evil", b"pwned")] + hostile.bundle_entries(source)
    archive = hostile.write_archive(tmp_path / name, entries)
    refuse(archive, "outside the bundle", error=UnsafeBundleError)
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("name", FORMATS)
def test_symlink_to_a_folder_inside_is_refused(tmp_path, source, refuse, name):
    entries = hostile.bundle_entries(source) + [hostile.symlink("weights", "model")]
    archive = hostile.write_archive(tmp_path / name, entries)
    refuse(archive, "link", error=UnsafeBundleError)


@pytest.mark.parametrize("name", FORMATS)
def test_dangling_symlink_is_refused(tmp_path, source, refuse, name):
    entries = hostile.bundle_entries(source) + [hostile.symlink("model/w.onnx", "nothing-here.onnx")]
    archive = hostile.write_archive(tmp_path / name, entries)
    refuse(archive, "link", error=UnsafeBundleError)


@pytest.mark.parametrize("name", TAR_FORMATS)
@pytest.mark.parametrize("target", ["/etc/passwd", "../../x", "../x", "not-in-archive"])
def test_hard_links_leaving_the_archive_are_refused(tmp_path, source, refuse, name, target):
    entries = hostile.bundle_entries(source) + [hostile.hardlink("model/weights.onnx", target)]
    archive = hostile.write_archive(tmp_path / name, entries)
    refuse(archive, r"absolute path|'\.\.'|outside the bundle", error=UnsafeBundleError)


def test_zip_symlink_payload_is_read_within_the_byte_budget(tmp_path, source, refuse, monkeypatch):
    # A "symlink" entry whose payload is a compressed 32 MiB blob: the link
    # target is read to decide whether it leaves the archive, and that read
    # must not decompress more than the byte budget allows.
    monkeypatch.setenv("MODELGATE_MAX_ARCHIVE_BYTES", str(MIB))
    archive = tmp_path / "bundle.zip"
    hostile.write_zip(archive, hostile.bundle_entries(source))
    with zipfile.ZipFile(archive, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("model/link.onnx", date_time=(2024, 1, 1, 0, 0, 0))
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        info.create_system = 3
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w") as out:
            for _ in range(32):
                out.write(b"../" * (MIB // 3))
    assert archive.stat().st_size < 2 * MIB

    import tracemalloc

    tracemalloc.start()
    try:
        with pytest.raises(BundleError):
            open_bundle(archive)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * MIB, f"reading one link entry allocated {peak // MIB} MiB"


@pytest.mark.parametrize("target", ["m.onnx\x00junk", "\x00"])
def test_zip_symlink_target_with_a_nul_byte_is_refused(tmp_path, source, refuse, target):
    entries = hostile.bundle_entries(source) + [hostile.symlink("model/link.onnx", target)]
    archive = hostile.write_zip(tmp_path / "bundle.zip", entries)
    refuse(archive, "link", error=UnsafeBundleError)


# --------------------------------------------------------------------------- special files


@pytest.mark.parametrize("name", TAR_FORMATS)
@pytest.mark.parametrize("kind", ["chr", "blk", "fifo"])
def test_device_files_and_fifos_are_refused(tmp_path, source, refuse, name, kind):
    entries = hostile.bundle_entries(source) + [hostile.device("model/dev", kind)]
    archive = hostile.write_archive(tmp_path / name, entries)
    error = refuse(archive, "device, FIFO or other special file", error=UnsafeBundleError)
    assert error.rule == "MG121"


def test_zip_fifo_entry_is_refused(tmp_path, source, refuse):
    entries = hostile.bundle_entries(source) + [hostile.device("model/pipe", "fifo")]
    archive = hostile.write_zip(tmp_path / "bundle.zip", entries)
    refuse(archive, "not a regular file", error=UnsafeBundleError)


# --------------------------------------------------------------------------- resource caps


@pytest.mark.parametrize("name", FORMATS)
def test_too_many_entries(tmp_path, source, refuse, monkeypatch, name):
    monkeypatch.setenv("MODELGATE_MAX_ARCHIVE_ENTRIES", "8")
    entries = hostile.bundle_entries(source) + [file(f"extra/{i}.txt", b"x") for i in range(20)]
    archive = hostile.write_archive(tmp_path / name, entries)
    error = refuse(archive, "more than 8 entries", error=UnsafeBundleError)
    assert error.rule == "MG122"
    assert "MODELGATE_MAX_ARCHIVE_ENTRIES" in (error.hint or "")


@pytest.mark.parametrize("name", ["bundle.zip", "bundle.tar.gz"])
def test_compression_bomb_is_stopped_at_the_byte_cap(tmp_path, source, refuse, monkeypatch, name):
    monkeypatch.setenv("MODELGATE_MAX_ARCHIVE_BYTES", str(MIB))
    entries = hostile.bundle_entries(source) + [hostile.zeros("model/bomb.bin", 16 * MIB)]
    archive = hostile.write_archive(tmp_path / name, entries)
    assert archive.stat().st_size < MIB  # it really is a bomb: 16 MiB from well under 1 MiB

    seen = []
    progress = Progress(callback=lambda label, done, total: seen.append(done))
    error = refuse(archive, f"expands to more than {MIB} bytes", error=UnsafeBundleError, progress=progress)
    assert error.rule == "MG122"
    assert "MODELGATE_MAX_ARCHIVE_BYTES" in (error.hint or "")
    # Extraction stopped at the cap (counted as written), not after inflating everything.
    assert max(seen) <= MIB


@pytest.mark.parametrize("name", FORMATS)
def test_byte_cap_counts_the_total_not_each_file(tmp_path, source, refuse, monkeypatch, name):
    monkeypatch.setenv("MODELGATE_MAX_ARCHIVE_BYTES", str(MIB))
    entries = hostile.bundle_entries(source) + [hostile.zeros(f"model/part{i}.bin", 400 * 1024) for i in range(4)]
    archive = hostile.write_archive(tmp_path / name, entries)
    refuse(archive, "expands to more than", error=UnsafeBundleError)


def test_zip_header_understating_the_size(tmp_path, source, refuse, monkeypatch):
    # Headers claim 100 bytes; the deflated data holds 8 MiB.
    monkeypatch.setenv("MODELGATE_MAX_ARCHIVE_BYTES", str(MIB))
    archive = hostile.write_zip(tmp_path / "bundle.zip", [hostile.zeros("model/m.onnx", 8 * MIB)])
    hostile.patch_zip_sizes(archive, uncompressed=100)
    with zipfile.ZipFile(archive) as zf:
        assert zf.getinfo("model/m.onnx").file_size == 100  # the lie is what a reader sees
    seen = []
    progress = Progress(callback=lambda label, done, total: seen.append(done))
    refuse(archive, "not a readable zip|truncated or corrupt|expands to more than", progress=progress)
    assert max(seen) <= MIB


def test_zip_header_overstating_the_size(tmp_path, source, refuse):
    archive = hostile.write_zip(tmp_path / "bundle.zip", [file("model/m.onnx", os.urandom(1000))])
    hostile.patch_zip_sizes(archive, uncompressed=64 * MIB)
    refuse(archive, r"(?i)not a readable zip|truncated|corrupt|header|size")


# --------------------------------------------------------------------------- broken archives


@pytest.mark.parametrize("name", FORMATS)
def test_truncated_archive(tmp_path, minimal_bundle, refuse, name):
    source = minimal_bundle(model_size=256 * 1024)
    archive = hostile.write_archive(tmp_path / name, hostile.bundle_entries(source))
    hostile.truncate(archive)
    error = refuse(archive, "not a readable|truncated or corrupt")
    assert error.hint


def test_tar_truncated_at_a_member_boundary(tmp_path, minimal_bundle, refuse):
    # Cut right before the last member's header: every remaining header is
    # intact, only the end-of-archive marker (and the model) are missing.
    source = minimal_bundle()
    archive = hostile.write_tar(tmp_path / "bundle.tar", hostile.bundle_entries(source))
    last = hostile.tar_member_boundaries(archive)[-1]
    hostile.truncate(archive, keep=last)
    refuse(archive, r"(?i)not a readable|truncated|corrupt|end")


@pytest.mark.parametrize("name", FORMATS)
def test_duplicate_entries_are_refused(tmp_path, source, refuse, name):
    entries = hostile.bundle_entries(source) + [file("bundle.yaml", "name: replaced\n")]
    archive = hostile.write_archive(tmp_path / name, entries)
    refuse(archive, "same path twice", error=UnsafeBundleError)


@pytest.mark.parametrize("name", FORMATS)
def test_duplicate_entry_as_a_link_is_refused(tmp_path, source, refuse, name):
    # A second "bundle.yaml" that is a link to another file in the archive:
    # two readers could disagree on which manifest the bundle has.
    entries = hostile.bundle_entries(source) + [file("other.yaml", "name: replaced\n"),
                                                hostile.symlink("bundle.yaml", "other.yaml")]
    archive = hostile.write_archive(tmp_path / name, entries)
    refuse(archive, "same path twice|twice", error=UnsafeBundleError)


@pytest.mark.parametrize("name", FORMATS)
def test_file_where_a_folder_is_expected(tmp_path, source, refuse, name):
    entries = hostile.bundle_entries(source) + [file("model/m.onnx/inner", b"x")]
    archive = hostile.write_archive(tmp_path / name, entries)
    refuse(archive, "same path twice|could not extract")
