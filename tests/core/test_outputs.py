"""Reports and other outputs: written through links and pipes, never over an input."""

from __future__ import annotations

import json
import os
import stat
import threading

import pytest

from modelgate.core.cli.main import main
from modelgate.core.errors import PolicyError, UsageError
from modelgate.core.outputs import check_outputs, write_output
from tests.factory import make_bundle, policy_file


def test_a_link_is_written_through_not_replaced(tmp_path):
    real, link = tmp_path / "real.json", tmp_path / "link.json"
    real.write_text("old")
    link.symlink_to(real)
    write_output(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


def test_a_pipe_is_written_through_not_replaced(tmp_path):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received = []
    reader = threading.Thread(target=lambda: received.append(open(pipe).read()))
    reader.start()
    write_output(pipe, "report\n")
    reader.join(timeout=10)
    assert received == ["report\n"] and stat.S_ISFIFO(os.lstat(pipe).st_mode)


def test_new_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        write_output(tmp_path / "r.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "r.txt").st_mode) == 0o644


def test_a_folder_or_an_impossible_path_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="is a folder"):
        write_output(tmp_path, "x")
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="cannot write"):
        write_output(tmp_path / "file" / "r.json", "x")


def test_outputs_may_not_overwrite_inputs_or_each_other(tmp_path):
    bundle = tmp_path / "b"
    bundle.mkdir()
    policy = tmp_path / "p.yaml"
    policy.write_text("x")
    with pytest.raises(UsageError, match="overwrite the input"):
        check_outputs([bundle / "bundle.yaml"], inputs=[bundle, policy])
    with pytest.raises(UsageError, match="overwrite the input"):
        check_outputs([policy], inputs=[bundle, policy])
    with pytest.raises(UsageError, match="named twice"):
        check_outputs([tmp_path / "r", tmp_path / "r"], inputs=[])
    check_outputs([tmp_path / "r.json"], inputs=[bundle, policy])


def test_validate_refuses_a_report_inside_the_bundle(tmp_path, capsys):
    bundle = make_bundle(tmp_path / "b")
    before = (bundle / "bundle.yaml").read_bytes()
    code = main(["validate", str(bundle), "--format", "json", "--output", str(bundle / "bundle.yaml")])
    assert code == 2 and "overwrite the input" in capsys.readouterr().err
    assert (bundle / "bundle.yaml").read_bytes() == before
    code = main(["validate", str(bundle), "--report", f"json:{tmp_path / 'r.json'}"])
    assert code == 0 and json.loads((tmp_path / "r.json").read_text())["summary"]["passed"]


def test_a_policy_that_allows_and_denies_one_license_is_refused(tmp_path):
    from modelgate.core.policy.document import load_policy

    path = policy_file(tmp_path, lambda d: d["licenses"]["deny"].append("mit"))
    with pytest.raises(PolicyError, match="both allows and denies mit"):
        load_policy(path)


def test_a_missing_folder_is_refused_when_asked_and_nothing_is_created(tmp_path):
    from modelgate.core.outputs import MissingFolder, check_writable

    target = tmp_path / "typo" / "deeper" / "r.pdf"
    for attempt in (lambda: check_writable(target, create_folders=False),
                    lambda: write_output(target, b"%PDF", create_folders=False)):
        with pytest.raises(MissingFolder) as raised:
            attempt()
        assert raised.value.folder == target.parent
        assert raised.value.message == f"cannot write {target}: the folder {target.parent} does not exist"
    assert list(tmp_path.iterdir()) == []
    check_writable(target)      # other outputs (validate --output) still make their folders
    write_output(target, "x")
    assert target.read_text() == "x"
