"""Property-based fuzzing of each document a bundle carries, through validate, inspect and lock.

Each test draws documents of one type (valid under the shipped schema, then mutated, or
byte-mutated) and drops them into a clean bundle; :mod:`tests.fuzz._harness` runs the
real commands on it and judges the outcome against ModelGate's contract for any input.
"""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from tests.fuzz import _strategies as s
from tests.fuzz._runner import fuzz

pytestmark = pytest.mark.slow  # fuzzing runs many generated inputs per test


def _manifest_documents():
    from tests.factory import clean_manifest

    from_schema = s.from_schema(s.schema("bundle.schema.json"))
    realistic = st.builds(clean_manifest)
    return st.one_of(from_schema, s.mutated(from_schema), s.mutated(realistic), s.mutated(realistic, rounds=8))


def _policy_documents():
    import yaml

    from modelgate.core import resources
    default = yaml.safe_load(resources.text("default-policy.yaml"))
    from_schema = s.from_schema(s.schema("policy.schema.json"))
    return st.one_of(from_schema, s.mutated(from_schema), s.mutated(st.just(default)),
                     s.mutated(st.just(default), rounds=8))


def test_fuzz_bundle_yaml(fuzz_workdir):
    fuzz("bundle-yaml", s.yaml_text(_manifest_documents()), fuzz_workdir)


def test_fuzz_policy(fuzz_workdir):
    fuzz("policy", s.yaml_text(_policy_documents()), fuzz_workdir)


def test_fuzz_benchmark_json(fuzz_workdir):
    fuzz("benchmark", s.benchmark_file(), fuzz_workdir)


def test_fuzz_model_card(fuzz_workdir):
    fuzz("model-card", s.model_card(), fuzz_workdir)


def test_fuzz_onnx(fuzz_workdir):
    fuzz("onnx", s.onnx_bytes(), fuzz_workdir)


def test_fuzz_license_text(fuzz_workdir):
    fuzz("license", st.one_of(s.ODD_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
                              st.binary(max_size=512)), fuzz_workdir)


def _bundle_files(folder) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def _fuzz_archive(doc_type: str, kind: str, workdir) -> None:
    from tests.fuzz._harness import template_bundle

    files = _bundle_files(template_bundle(workdir))
    fuzz(doc_type, s.archive_bytes(files, kind), workdir)


def test_fuzz_zip_archive(fuzz_workdir):
    _fuzz_archive("archive-zip", ".zip", fuzz_workdir)


def test_fuzz_tar_archive(fuzz_workdir):
    _fuzz_archive("archive-tar", ".tar", fuzz_workdir)


def test_fuzz_tar_gz_archive(fuzz_workdir):
    _fuzz_archive("archive-tgz", ".tar.gz", fuzz_workdir)
