"""One way through: the command line, the desktop app and the registry reach the same findings.

The same bundles (the demo's, an unsigned one, one with a signature over other bytes,
a broken one) are validated by ``modelgate validate --format json``, by the function
the app's inspector runs on its worker, and by the registry after importing them.
Where the registry judges signatures itself (its signature gate, over the signatures
it recorded), the MG8xx checks of the files stand aside; everything else is equal.
"""

from __future__ import annotations

import json
import shutil

import pytest

from modelgate.core.cli.main import main
from modelgate.core.demo import workspace as demo
from modelgate.core.policy.document import load_policy
from modelgate.core.progress import Progress
from modelgate.core.registry import init_registry, workflow
from modelgate.core.registry.models import ValidationRun
from modelgate.gui.inspector import facts as inspector
from tests.factory import clean_manifest, make_bundle, sign, signing_key

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    """``(policy path, trusted key, {label: bundle folder})``: the demo's bundles and three of our own."""
    folder = tmp_path_factory.mktemp("one-way")
    summary = demo.build_demo(directory=folder / "demo", with_registry=False)
    found = {path.name: path for path in summary.bundles}
    found["unsigned"] = make_bundle(folder / "unsigned", manifest=clean_manifest("unsigned-model"))
    # A real signature, made for other bytes: it verifies against nothing in this bundle.
    other = make_bundle(folder / "other", manifest=clean_manifest("other-model"))
    key = signing_key(folder / "keys")
    sign(other, key)
    forged = make_bundle(folder / "bad-signature", manifest=clean_manifest("bad-signature-model"))
    shutil.copytree(other / "signatures", forged / "signatures")
    found["bad-signature"] = forged
    broken = make_bundle(folder / "broken", manifest=clean_manifest("broken-model"))
    (broken / "LICENSE").write_text("changed after locking\n", encoding="utf-8")
    (broken / "MODEL_CARD.md").unlink()
    found["broken"] = broken
    return summary.policy, key.with_suffix(".pub"), found


def located(findings) -> set[tuple[str, str, str | None]]:
    """``(rule, file, manifest path)`` of every finding (objects or report dictionaries)."""
    out = set()
    for finding in findings:
        if isinstance(finding, dict):
            out.add((finding["rule"], finding["location"]["file"], finding["location"]["path"]))
        else:
            out.add((finding.rule, finding.location.file, finding.location.path))
    return out


def by_cli(capsys, path, *, policy, stage, trust=None) -> set:
    trusting = ["--trust", str(trust)] if trust else []
    code = main(["validate", str(path), "--policy", str(policy), "--stage", stage, "--format", "json", *trusting])
    out = capsys.readouterr().out
    report = json.loads(out)
    assert code == (0 if report["summary"]["passed"] else 1)
    return located(report["findings"])


def by_app(path, *, policy, stage, trust=None, detail=None) -> set:
    judged_by = load_policy(policy)
    facts = inspector.gather(path=path, policy=judged_by, champion=None, progress=Progress())
    try:
        subject = inspector.Subject(facts, judged_by, stage, detail=detail, trust_store=str(trust or ""))
        return located(inspector.validate(subject=subject, stage=stage, progress=Progress()).findings)
    finally:
        facts.close()


def signature_rules(found: set) -> set:
    return {item for item in found if item[0].startswith("MG8")}


@pytest.fixture(autouse=True)
def _no_configured_trust(monkeypatch):
    monkeypatch.delenv("MODELGATE_TRUST_STORE", raising=False)


def test_the_app_and_the_command_line_find_the_same_on_every_bundle(bundles, capsys):
    policy, key, found = bundles
    for label, path in found.items():
        for stage, trust in (("staging", None), ("production", key)):
            cli = by_cli(capsys, path, policy=policy, stage=stage, trust=trust)
            assert by_app(path, policy=policy, stage=stage, trust=trust) == cli, (label, stage)
    # The verdict a reviewer sees is the one CI sees: a missing release signature included.
    unsigned = by_app(found["unsigned"], policy=policy, stage="production")
    assert ("MG801", "signatures/", None) in unsigned
    forged = ("MG802", "signatures/release-officer.sig", None)
    assert forged in by_app(found["bad-signature"], policy=policy, stage="staging", trust=key)
    assert forged in by_cli(capsys, found["bad-signature"], policy=policy, stage="staging", trust=key)


def test_the_registry_finds_the_same_once_imported_and_judges_signatures_by_its_record(bundles, capsys, tmp_path):
    policy_path, key, found = bundles
    policy = load_policy(policy_path)
    registry = init_registry(url=f"sqlite:///{tmp_path / 'registry.db'}", user="admin", store=tmp_path / "store")
    with registry:
        imported = {label: registry.import_bundle(path=path) for label, path in found.items()}
        for label, result in imported.items():
            workflow.gates(registry, name=result.name, version=result.version, to_stage="candidate", policy=policy)
            with registry.session(write=False) as session:
                run = session.query(ValidationRun).order_by(ValidationRun.id.desc()).first()
                stored = located(json.loads(run.report)["findings"])
            cli = by_cli(capsys, found[label], policy=policy_path, stage="candidate")
            assert stored == cli - signature_rules(cli), label
            assert not signature_rules(stored)
            # The app, showing the registry's version, judges it as the registry does.
            detail = registry.show(name=result.name, version=result.version)
            assert by_app(detail.store_path, policy=policy_path, stage="candidate", detail=detail) == stored, label
        bad = by_cli(capsys, found["bad-signature"], policy=policy_path, stage="candidate", trust=key)
        assert any(rule == "MG802" for rule, _, _ in bad)  # the command line, from the file; not the registry
