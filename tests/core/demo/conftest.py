"""One demo workspace for every test of the demo package (building it takes most of a minute)."""

from __future__ import annotations

import os
import time

import pytest

from modelgate.core.bundle.manifest import load_manifest
from modelgate.core.bundle.reader import open_bundle
from modelgate.core.demo import workspace as demo
from modelgate.core.progress import Progress


@pytest.fixture(scope="package")
def build_folder(tmp_path_factory):
    """The empty working folder the demo is built from: a pickle payload that ran during the
    build would leave its marker file here."""
    return tmp_path_factory.mktemp("demo-cwd")


@pytest.fixture(scope="package")
def built(tmp_path_factory, build_folder):
    """The demo workspace, with the progress reports and the time it took."""
    directory = tmp_path_factory.mktemp("demo") / "workspace"
    reports = []
    before = os.getcwd()
    os.chdir(build_folder)
    try:
        start = time.perf_counter()
        summary = demo.build_demo(directory=directory,
                                  progress=Progress(callback=lambda *report: reports.append(report)))
        seconds = time.perf_counter() - start
    finally:
        os.chdir(before)
    return summary, reports, seconds


@pytest.fixture(scope="package")
def manifests(built):
    found = {}
    for folder in built[0].bundles:
        with open_bundle(folder) as bundle:
            found[folder.name] = load_manifest(bundle)
    return found
