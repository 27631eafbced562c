"""From changed files to their bundles: modelgate.core.bundle.changed and `modelgate validate-changed`."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from modelgate.core.bundle.changed import bundle_root, bundle_roots
from tests.factory import clean_manifest, make_bundle
from tests.cli_support import run


@pytest.fixture
def workspace(tmp_path, monkeypatch, template):
    """A working directory with two clean bundles (models/a, models/b) and a file in neither."""
    import shutil

    monkeypatch.chdir(tmp_path)
    for name in ("a", "b"):
        shutil.copytree(template, tmp_path / "models" / name)
    (tmp_path / "README.md").write_text("not a bundle\n")
    return tmp_path


def test_a_file_belongs_to_the_nearest_folder_with_a_manifest(workspace):
    assert bundle_root(Path("models/a/model/model.onnx")) == Path("models/a")
    assert bundle_root(Path("models/a/bundle.yaml")) == Path("models/a")
    assert bundle_root(Path("models/a")) == Path("models/a")
    assert bundle_root(Path("models/a/signatures/eve.sig")) == Path("models/a")
    # A deleted file still names its bundle; a file in no bundle names none.
    assert bundle_root(Path("models/b/benchmarks/gone.json")) == Path("models/b")
    assert bundle_root(Path("README.md")) is None
    assert bundle_root(Path("models")) is None


def test_a_nested_bundle_wins_over_the_one_around_it(workspace):
    make_bundle(workspace / "models" / "a" / "extras" / "inner")
    assert bundle_root(Path("models/a/extras/inner/LICENSE")) == Path("models/a/extras/inner")
    assert bundle_root(Path("models/a/extras/notes.txt")) == Path("models/a")


def test_relative_paths_are_looked_up_no_higher_than_the_working_directory(workspace, monkeypatch):
    monkeypatch.chdir(workspace / "models" / "a" / "model")
    assert bundle_root(Path("model.onnx")) is None
    assert bundle_root(Path("model.onnx").resolve()) == workspace / "models" / "a"


def test_an_archive_is_a_bundle_by_itself(workspace):
    with tarfile.open("a.tar.gz", "w:gz") as tar:
        tar.add("models/a", arcname="a")
    assert bundle_root(Path("a.tar.gz")) == Path("a.tar.gz")
    assert bundle_root(Path("missing.zip")) is None


def test_each_bundle_is_named_once_in_the_order_first_named(workspace):
    paths = [Path(p) for p in ("models/b/LICENSE", "README.md", "models/a/MODEL_CARD.md",
                               "models/b/model/model.onnx", "./models/a/bundle.yaml")]
    assert bundle_roots(paths=paths) == [Path("models/b"), Path("models/a")]
    assert bundle_roots(paths=[]) == []


def test_the_command_validates_each_bundle_holding_a_changed_file_once(workspace, capsys):
    code, out, _ = run(capsys, "validate-changed", "models/a/LICENSE", "models/a/MODEL_CARD.md",
                       "README.md", "models/b/bundle.yaml")
    assert code == 0
    assert out.count("PASSED: tiny-classifier@1.0.0") == 2
    assert out.rstrip().endswith("2 bundle(s) validated: 2 passed, 0 failed")


def test_a_changed_file_that_breaks_the_lock_fails_its_bundle(workspace, capsys):
    (workspace / "models" / "b" / "LICENSE").write_text("edited without `modelgate lock`\n")
    code, out, _ = run(capsys, "validate-changed", "models/a/LICENSE", "models/b/LICENSE")
    assert code == 1
    assert "FAILED: tiny-classifier@1.0.0" in out and "MG10" in out
    assert out.rstrip().endswith("2 bundle(s) validated: 1 passed, 1 failed")


def test_options_reach_every_validation(workspace, capsys, tmp_path):
    from tests.factory import policy_file

    def deny_apache(data):
        data["licenses"]["allow"].remove("Apache-2.0")
        data["licenses"]["deny"].append("Apache-2.0")

    strict = policy_file(tmp_path, deny_apache)
    code, out, _ = run(capsys, "validate-changed", "models/a/LICENSE", "models/b/LICENSE",
                       "--policy", str(strict), "--stage", "staging")
    assert code == 1
    assert out.count("for staging under policy") == 2 and out.count("MG402") >= 2


def test_an_unreadable_bundle_is_exit_2_and_the_others_are_still_validated(workspace, capsys):
    (workspace / "broken.zip").write_bytes(b"not a zip archive" * 10)
    code, out, err = run(capsys, "validate-changed", "broken.zip", "models/b/LICENSE")
    assert code == 2
    assert err.startswith("modelgate: broken.zip: ") and "PASSED: tiny-classifier@1.0.0" in out
    assert out.rstrip().endswith("2 bundle(s) validated: 1 passed, 0 failed, 1 could not be read")


def test_paths_in_no_bundle_validate_nothing(workspace, capsys):
    code, out, _ = run(capsys, "validate-changed", "README.md", "docs/gone.md")
    assert (code, out) == (0, "No bundle holds any of the 2 path(s); nothing to validate.\n")
    code, out, _ = run(capsys, "validate-changed")
    assert code == 0 and "nothing to validate" in out


def test_a_broken_policy_is_one_error_before_any_bundle(workspace, capsys):
    code, out, err = run(capsys, "validate-changed", "models/a/LICENSE", "models/b/LICENSE", "--policy", "nope.yaml")
    assert code == 2 and out == ""
    assert err.count("modelgate: ") == 1 and "nope.yaml" in err


def test_the_manifest_of_a_bundle_named_in_a_changed_path_is_what_counts(workspace, capsys):
    manifest = clean_manifest(name="renamed", version="2.0.0")
    make_bundle(workspace / "models" / "c", manifest=manifest)
    code, out, _ = run(capsys, "validate-changed", "models/c/model/model.onnx")
    assert code == 0 and "PASSED: renamed@2.0.0" in out
