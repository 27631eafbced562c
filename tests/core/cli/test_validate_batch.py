"""`modelgate validate B1 B2 ...`: many bundles in one process, each judged as if alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from modelgate.core.cli.main import main
from tests.conformance.corpus import models, shipped_root
from tests.factory import CARD, clean_manifest, edit_manifest, make_bundle

#: What `validate` must never load: the registry, charts, OCI, HTTP, BOMs, the app.
NOT_NEEDED = {"matplotlib", "sqlalchemy", "alembic", "oras", "requests", "cyclonedx", "jsonschema",
              "model_signing", "PySide6", "markdown", "nh3", "psycopg", "jinja2", "weasyprint"}


#: Conformance models of different kinds: converted layers, an operator test, a shape-valued input.
CONFORMANCE = {"test_Linear", "test_Softmax", "test_expand_shape_model4", "test_operator_reduced_sum"}


def _wrapped(folder: Path, model: Path) -> Path:
    name = model.parent.name.lower().replace("_", "-")
    assert main(["init", name, "--dir", str(folder), "--model", str(model)]) == 0
    assert main(["lock", str(folder)]) == 0
    return folder


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    """Honest conformance models wrapped by `init --model`, and factory bundles broken in different ways."""
    base = tmp_path_factory.mktemp("batch")
    chosen = [m for m in models(shipped_root()) if m.parent.name in CONFORMANCE]
    assert len(chosen) == len(CONFORMANCE)
    found = [_wrapped(base / f"onnx-{number}", model) for number, model in enumerate(sorted(chosen))]
    clean = make_bundle(base / "clean")
    typo = make_bundle(base / "typo")
    edit_manifest(typo, lambda data: data.update(licence=data.pop("license")))
    manifest = clean_manifest()
    card = make_bundle(base / "card", card=CARD.format(name=manifest["name"], version="9.9.9", license="MIT"))
    return [*found, clean, typo, card]


def _cli() -> list[str]:
    return [sys.executable, "-c", "import sys; from modelgate.core.cli.main import main; sys.exit(main(sys.argv[1:]))"]


def _findings(path: Path) -> list:
    report = json.loads(path.read_text(encoding="utf-8"))
    return sorted(json.dumps(f, sort_keys=True) for f in report["findings"])


@pytest.mark.slow
def test_a_batch_run_gives_each_bundle_exactly_the_findings_of_its_own_run(bundles, tmp_path):
    singles, codes = {}, []
    for bundle in bundles:
        out = tmp_path / "single" / f"{bundle.name}.json"
        out.parent.mkdir(exist_ok=True)
        done = subprocess.run([*_cli(), "validate", str(bundle), "--format", "json", "--output", str(out)],
                              capture_output=True, text=True)
        assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr
        singles[bundle.name] = _findings(out)
        codes.append(done.returncode)
    assert 0 in codes and 1 in codes  # both verdicts are in the batch
    batch = subprocess.run([*_cli(), "validate", *map(str, bundles), "--format", "json",
                            "--output", str(tmp_path / "batch" / "{name}.json")], capture_output=True, text=True)
    assert batch.returncode == max(codes), batch.stderr
    for bundle in bundles:
        assert _findings(tmp_path / "batch" / f"{bundle.name}.json") == singles[bundle.name], bundle.name
    assert batch.stdout.splitlines()[-1] == (f"{len(bundles)} bundle(s) validated: {codes.count(0)} passed, "
                                             f"{codes.count(1)} failed")


@pytest.mark.slow
def test_an_unreadable_bundle_in_a_batch_is_reported_and_the_others_still_run(bundles, tmp_path):
    missing = tmp_path / "nowhere"
    done = subprocess.run([*_cli(), "validate", str(bundles[-3]), str(missing), str(bundles[-2])],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.count("modelgate: ") == 1 and str(missing) in done.stderr and "Traceback" not in done.stderr
    assert done.stdout.splitlines()[-1] == "3 bundle(s) validated: 1 passed, 1 failed, 1 could not be read"


@pytest.mark.slow
def test_validate_loads_no_module_it_does_not_need(bundles, tmp_path):
    probe = ("import sys\nfrom modelgate.core.cli.main import main\n"
             f"code = main(['validate', *{[str(b) for b in bundles]!r}, '--format', 'sarif', "
             f"'--output', {str(tmp_path / '{name}.sarif')!r}])\n"
             "print(' '.join(sorted({m.partition('.')[0] for m in sys.modules})))\nsys.exit(code)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    loaded = set(done.stdout.splitlines()[-1].split())
    assert "onnx" in loaded  # the model checks ran
    assert not loaded & NOT_NEEDED, sorted(loaded & NOT_NEEDED)


def test_several_bundles_need_a_name_placeholder_in_each_report_file(bundles, tmp_path, capsys):
    clean, typo = bundles[-3], bundles[-2]
    assert main(["validate", str(clean), str(typo), "--output", str(tmp_path / "one.json"),
                 "--format", "json"]) == 2
    assert "{name}" in capsys.readouterr().err
    assert main(["validate", str(clean), str(typo), "--report", f"sarif:{tmp_path / 'one.sarif'}"]) == 2
    assert main(["validate", str(clean), str(typo), "--format", "sarif"]) == 2
    assert "cannot share stdout" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_two_bundles_with_one_name_cannot_share_a_report_file(bundles, tmp_path, capsys):
    twin = make_bundle(tmp_path / "elsewhere" / bundles[-3].name)
    assert main(["validate", str(bundles[-3]), str(twin), "--format", "json",
                 "--output", str(tmp_path / "{name}.json")]) == 2
    assert "named twice" in capsys.readouterr().err


def test_text_reports_of_several_bundles_follow_each_other_then_the_summary(bundles, capsys):
    clean, typo = bundles[-3], bundles[-2]
    assert main(["validate", str(clean), str(typo)]) == 1
    out = capsys.readouterr().out
    assert out.index(f"== {clean}\n") < out.index(f"== {typo}\n") < out.index("2 bundle(s) validated: 1 passed, 1 failed")


def test_archives_in_a_batch_name_their_reports_without_the_archive_suffix(bundles, tmp_path, capsys):
    import shutil

    clean, typo = bundles[-3], bundles[-2]
    zipped = shutil.make_archive(str(tmp_path / "clean-release"), "zip", clean)
    tarred = shutil.make_archive(str(tmp_path / "typo-release"), "gztar", typo)
    reports = tmp_path / "reports"
    assert main(["validate", zipped, tarred, "--format", "json", "--output", str(reports / "{name}.json")]) == 1
    assert sorted(p.name for p in reports.iterdir()) == ["clean-release.json", "typo-release.json"]
    assert json.loads((reports / "clean-release.json").read_text(encoding="utf-8"))["summary"]["passed"] is True
    assert json.loads((reports / "typo-release.json").read_text(encoding="utf-8"))["summary"]["passed"] is False
    out = capsys.readouterr().out
    assert f"{zipped}: PASSED" in out and "2 bundle(s) validated: 1 passed, 1 failed" in out
