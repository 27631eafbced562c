"""`make run` opens the demo workspace as the reviewer left it; `make demo` rebuilds it on purpose.

Read from make's dry run (``make -n``), which prints the commands a target would run without
running them, so nothing is built here.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _dry_run(target: str, demo: Path) -> list[str]:
    done = subprocess.run(["make", "-n", "-C", str(ROOT), target, f"DEMO={demo}"], capture_output=True,
                          text=True, timeout=60, check=True)
    return [line for line in done.stdout.splitlines() if "modelgate demo" in line or "modelgate gui" in line]


def test_make_run_builds_the_demo_workspace_when_it_is_missing(tmp_path):
    demo = tmp_path / "workspace"
    lines = _dry_run("run", demo)
    builds = [line for line in lines if "modelgate demo" in line]
    assert len(builds) == 1 and str(demo) in builds[0]
    assert "--force" not in builds[0], "a missing workspace needs no --force, and a foreign folder is refused"
    assert any("modelgate gui" in line for line in lines)


def test_make_run_keeps_an_existing_demo_workspace(tmp_path):
    demo = tmp_path / "workspace"
    demo.mkdir()
    (demo / ".modelgate-demo").write_text("written by `modelgate demo`\n", encoding="utf-8")
    lines = _dry_run("run", demo)
    assert not [line for line in lines if "modelgate demo" in line], lines
    assert any("modelgate gui" in line and str(demo) in line for line in lines)


def test_make_screenshots_keeps_an_existing_demo_workspace_too(tmp_path):
    demo = tmp_path / "workspace"
    demo.mkdir()
    (demo / ".modelgate-demo").write_text("written by `modelgate demo`\n", encoding="utf-8")
    assert not [line for line in _dry_run("screenshots", demo) if "modelgate demo" in line]


def test_make_demo_rebuilds_it_on_purpose(tmp_path):
    demo = tmp_path / "workspace"
    demo.mkdir()
    (demo / ".modelgate-demo").write_text("written by `modelgate demo`\n", encoding="utf-8")
    builds = [line for line in _dry_run("demo", demo) if "modelgate demo" in line]
    assert len(builds) == 1 and "--force" in builds[0] and str(demo) in builds[0]


def test_the_marker_make_looks_for_is_the_one_a_demo_writes():
    from modelgate.core.demo.workspace import MARKER

    assert f"$(DEMO)/{MARKER}:" in (ROOT / "Makefile").read_text(encoding="utf-8")
