"""Smoke test of the built desktop app (``make dist-test``): the frozen program, used as people use it.

Runs ``dist/modelgate/modelgate`` (or the folder given) with a throwaway home folder: the
versions it reports, a demo workspace it builds, headless validations with their exit codes
and reports, a key, a signature and its verification, the registry's audit chain, the
auditor report as PDF and HTML, and the
desktop app started offscreen on a demo bundle (``modelgate gui --self-check``), which must
quit cleanly. It also checks what the folder holds: the resources, the migrations, the graph
viewer and the Qt plugins, and no test code. Prints the folder's size (at most
:data:`SIZE_LIMIT_MB`) and the start-up times; exits 1 when any check fails.

    .venv/bin/python packaging/smoke_test.py [dist/modelgate]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The folder may take at most this many megabytes (10^6 bytes).
SIZE_LIMIT_MB = 600
PASSPHRASE = "smoke-test-passphrase"
#: Files the app reads at run time, relative to the folder's _internal/.
SHIPPED = ("modelgate/resources/bundle.schema.json", "modelgate/resources/default-policy.yaml",
           "modelgate/resources/icons/modelgate.png", "modelgate/core/registry/migrations/env.py",
           "modelgate/core/registry/migrations/versions/0001_initial.py", "netron/index.html")
#: Qt's display plugins the app needs: offscreen everywhere, X11 and Wayland on Linux.
PLATFORM_PLUGINS = ("qoffscreen", *(("qxcb", "qwayland") if sys.platform.startswith("linux") else ()))
#: The menu entry and icons beside the program (Linux builds), relative to the folder.
DESKTOP_FILES = ("share/applications/modelgate.desktop", "share/icons/hicolor/scalable/apps/modelgate.svg",
                 "share/icons/hicolor/512x512/apps/modelgate.png")
TEST_CODE = ("tests", "pytest", "_pytest", "pytestqt")


class SmokeFailure(Exception):
    """A check did not hold; the message says what happened instead."""


class Smoke:
    """The checks, run in order against one built folder; :attr:`facts` collects what was measured."""

    def __init__(self, *, folder: Path, scratch: Path) -> None:
        self.folder = folder
        self.program = folder / ("modelgate.exe" if os.name == "nt" else "modelgate")
        self.scratch = scratch
        self.demo = scratch / "demo"
        home = scratch / "home"
        self.env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"),
                    "XDG_CONFIG_HOME": str(home / ".config"), "XDG_DATA_HOME": str(home / ".local/share"),
                    "QT_QPA_PLATFORM": "offscreen", "NO_COLOR": "1"}
        for name in ("MODELGATE_REGISTRY", "MODELGATE_USER", "MODELGATE_TRUST_STORE", "MODELGATE_STORE"):
            self.env.pop(name, None)
        self.facts: dict[str, str] = {}

    def run(self, *argv: str, expect: int, timeout: float = 600, env: dict | None = None) -> subprocess.CompletedProcess:
        """Run the frozen program; fail unless it exits ``expect`` without a traceback."""
        done = subprocess.run([str(self.program), *argv], capture_output=True, text=True, timeout=timeout,
                              env=env or self.env, cwd=self.scratch)
        if done.returncode != expect or "Traceback" in done.stdout + done.stderr:
            raise SmokeFailure(f"`modelgate {' '.join(argv)}` exited {done.returncode} (expected {expect})\n"
                               f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
        return done

    # ------------------------------------------------------------------ the checks
    def check_contents(self) -> str:
        internal = self.folder / "_internal"
        missing = [name for name in SHIPPED if not (internal / name).is_file()]
        missing += [f"the {name} plugin" for name in PLATFORM_PLUGINS
                    if not any(internal.glob(f"PySide6/**/platforms/*{name}.*"))]
        if sys.platform.startswith("linux"):
            missing += [name for name in DESKTOP_FILES if not (self.folder / name).is_file()]
        if missing:
            raise SmokeFailure(f"not in the folder: {', '.join(missing)}")
        from PyInstaller.archive.readers import CArchiveReader

        modules = list(CArchiveReader(str(self.program)).open_embedded_archive("PYZ.pyz").toc)
        tests = [m for m in modules if m.split(".")[0] in TEST_CODE]
        tests += [str(p) for p in internal.iterdir() if p.name in TEST_CODE]
        if tests:
            raise SmokeFailure(f"test code is shipped: {', '.join(tests[:5])}")
        if not any(m.startswith("modelgate.core.checks.") for m in modules):
            raise SmokeFailure("the checks (modelgate.core.checks.*) are not in the program")
        return (f"resources, migrations, Netron, Qt plugins, menu entry and icons present; {len(modules)} modules, "
                "no test code")

    def check_size(self) -> str:
        total = sum(path.lstat().st_size for path in self.folder.rglob("*") if path.is_file() and not path.is_symlink())
        megabytes = total / 1e6
        self.facts["size"] = f"{megabytes:.0f} MB (limit {SIZE_LIMIT_MB} MB)"
        if megabytes > SIZE_LIMIT_MB:
            raise SmokeFailure(f"the folder takes {megabytes:.0f} MB, more than {SIZE_LIMIT_MB} MB")
        return self.facts["size"]

    def check_version(self) -> str:
        expected = {"onnx": metadata.version("onnx"), "onnxruntime": metadata.version("onnxruntime"),
                    "model-signing": metadata.version("model-signing"), "bundle format": "modelgate.bundle/v1",
                    "policy format": "modelgate.policy/v1"}
        seconds = []
        for _ in range(5):
            started = time.perf_counter()
            done = self.run("--version", expect=0)
            seconds.append(time.perf_counter() - started)
        reported = dict(re.split(r"\s{2,}", line, maxsplit=1) for line in done.stdout.splitlines())
        wrong = {name: reported.get(name) for name, version in expected.items() if reported.get(name) != version}
        if wrong:
            raise SmokeFailure(f"--version reports {wrong}, expected {expected}:\n{done.stdout}")
        self.facts["version"] = f"{statistics.median(seconds):.2f} s (median of 5)"
        return "reports " + ", ".join(f"{name} {version}" for name, version in expected.items())

    def check_demo(self) -> str:
        self.run("demo", str(self.demo), expect=0)
        bundles = sorted(p.name for p in (self.demo / "bundles").iterdir())
        if len(bundles) != 12 or not (self.demo / "registry.db").is_file():    # 8 ONNX, 4 other formats
            raise SmokeFailure(f"the demo workspace holds {bundles}")
        return f"{len(bundles)} bundles, a policy and a registry"

    def check_validate(self) -> str:
        bundles, policy = self.demo / "bundles", str(self.demo / "policy.yaml")
        reports = self.scratch / "reports"
        started = time.perf_counter()
        self.run("validate", str(bundles / "credit-risk-1.1.0"), "--policy", policy, "--stage", "staging",
                 "--report", f"sarif:{reports / 'ok.sarif'}", "--report", f"junit:{reports / 'ok.xml'}", expect=0)
        self.facts["validate"] = f"{time.perf_counter() - started:.2f} s (credit-risk 1.1.0, staging)"
        regressed = self.run("validate", str(bundles / "credit-risk-1.2.0"), "--policy", policy, "--stage", "staging",
                             "--champion", str(bundles / "credit-risk-1.1.0"), expect=1)
        missing = self.run("validate", str(bundles / "no-such-bundle"), expect=2)
        if not all((reports / name).stat().st_size for name in ("ok.sarif", "ok.xml")):
            raise SmokeFailure("the SARIF and JUnit reports are empty")
        if "MG6" not in regressed.stdout or not missing.stderr.startswith("modelgate: "):
            raise SmokeFailure(f"unexpected output:\n{regressed.stdout}\n{missing.stderr}")
        changed = self.run("validate-changed", str(bundles / "credit-risk-1.1.0" / "MODEL_CARD.md"),
                           str(bundles / "support-embedder-2.1.0" / "bundle.yaml"), "--policy", policy, expect=1)
        if "2 bundle(s) validated: 1 passed, 1 failed" not in changed.stdout:
            raise SmokeFailure(f"validate-changed said:\n{changed.stdout}")
        return "a passing bundle exits 0 with SARIF and JUnit, a regression 1, a missing bundle 2; validate-changed 1"

    def check_signing(self) -> str:
        import shutil

        bundle = self.scratch / "signed"
        shutil.copytree(self.demo / "bundles" / "credit-risk-1.1.0", bundle)
        env = {**self.env, "MODELGATE_KEY_PASSPHRASE": PASSPHRASE}
        self.run("keys", "generate", "--name", "smoke", "--out", str(self.scratch / "keys"), expect=0, env=env)
        self.run("sign", str(bundle), "--key", str(self.scratch / "keys" / "smoke.key"), expect=0, env=env)
        self.run("verify", str(bundle), "--trust", str(self.scratch / "keys" / "smoke.pub"), expect=0)
        (bundle / "LICENSE").write_text("changed after signing\n", encoding="utf-8")
        self.run("verify", str(bundle), "--trust", str(self.scratch / "keys" / "smoke.pub"), expect=1)
        self.run("audit", "verify", "--registry", f"sqlite:///{self.demo / 'registry.db'}", expect=0)
        return "sign and verify exit 0, a changed file fails verification (1), the demo's audit chain holds"

    def check_report(self) -> str:
        """The auditor report, whose PDF and HTML need ReportLab's fonts, the templates and Agg charts."""
        registry = f"sqlite:///{self.demo / 'registry.db'}"
        sizes = []
        for suffix, magic in ((".pdf", b"%PDF-"), (".html", b"<!DOCTYPE html>")):
            target = self.scratch / f"report{suffix}"
            self.run("report", "credit-risk@1.1.0", "--registry", registry, "--output", str(target), expect=0)
            if not target.read_bytes().lstrip().startswith(magic):
                raise SmokeFailure(f"{target.name} does not start with {magic!r}")
            sizes.append(f"{target.name} {target.stat().st_size // 1024} KiB")
        return "auditor report of credit-risk@1.1.0: " + ", ".join(sizes)

    def check_gui(self) -> str:
        """The desktop app, offscreen, on a demo bundle; times when each step's line arrives."""
        command = [str(self.program), "gui", "--self-check", str(self.demo / "bundles" / "credit-risk-1.1.0"),
                   "--policy", str(self.demo / "policy.yaml")]
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env=self.env, cwd=self.scratch)
        lines, arrivals = [], {}
        for line in process.stdout:
            lines.append(line.rstrip())
            arrivals.setdefault(line.split(" after ")[0], time.perf_counter() - started)
        code = process.wait(timeout=300)
        stderr = process.stderr.read()
        total = time.perf_counter() - started
        if code != 0 or "Traceback" in stderr or "self-check: window closed" not in arrivals:
            raise SmokeFailure(f"`modelgate gui --self-check` exited {code}:\n" + "\n".join(lines) + "\n" + stderr[-3000:])
        self.facts["window"] = f"{arrivals['self-check: window shown']:.2f} s after launch (first start, empty caches)"
        self.facts["gui"] = f"{total:.2f} s to open, validate, check the graph viewer and quit"
        return "; ".join(line.removeprefix("self-check: ") for line in lines)


CHECKS = ("contents", "size", "version", "demo", "validate", "signing", "report", "gui")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Smoke test of the built desktop app.")
    parser.add_argument("folder", nargs="?", type=Path, default=ROOT / "dist" / "modelgate",
                        help="the built one-folder app (default: dist/modelgate)")
    args = parser.parse_args(argv)
    folder = args.folder.resolve()
    if not (folder / "modelgate").exists() and not (folder / "modelgate.exe").exists():
        print(f"smoke test: no built app in {folder}; run `make dist` first", file=sys.stderr)
        return 2
    failures = 0
    with tempfile.TemporaryDirectory(prefix="modelgate-smoke-") as scratch:
        smoke = Smoke(folder=folder, scratch=Path(scratch))
        for name in CHECKS:
            try:
                said = getattr(smoke, f"check_{name}")()
                print(f"ok    {name}: {said}", flush=True)
            except (SmokeFailure, subprocess.TimeoutExpired, OSError) as failure:
                failures += 1
                print(f"FAIL  {name}: {failure}", flush=True)
    print(f"\nModelGate desktop build in {folder}")
    labels = {"size": "folder size", "version": "start-up, `modelgate --version`", "validate": "validation",
              "window": "start-up, desktop app window", "gui": "desktop app self-check"}
    for key, label in labels.items():
        print(f"  {label + ':':<34} {smoke.facts.get(key, 'not measured')}")
    print(f"\n{'all checks passed' if not failures else f'{failures} check(s) FAILED'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
