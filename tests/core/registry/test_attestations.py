"""Decision attestations: recorded at each promotion, signed by a signer, exported with the bundle
and verified offline, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import shutil

import pytest

from modelgate.core.cli.main import main
from modelgate.core.policy.document import load_policy
from modelgate.core.registry import WorkflowRefused, workflow
from modelgate.core.registry.attestations import attestations, sign_attestations
from modelgate.core.registry.export import export_version
from modelgate.core.registry.signatures import sign_version, trust_key
from modelgate.core.evidence.attestation_verify import read_lines, verify_decisions
from modelgate.core.signing.attestations import (BUNDLE_FILE, PROMOTION_PREDICATE, VSA_PREDICATE, canonical_json,
                                                 sha256_hex)
from modelgate.core.signing.dsse import KeySigner, sign_envelope
from modelgate.core.signing.keys import load_private_key
from modelgate.core.signing.trust import load_trust_store
from tests.factory import PASSPHRASE, signing_key
from tests.registry_support import APPROVERS, NAME, new_bundle

DEFAULT = load_policy()


@pytest.fixture
def released(team, tmp_path, template):
    """``NAME@1.0.0`` taken to production under the default policy, its decisions signed by
    ``sam`` and exported to ``tmp_path/export``; returns ``(export folder, sam's key)``."""
    if team.server:
        team.server.create_role("sam", database=team.database)
    team.admin.add_user(name="sam", roles=["signer"])
    key = signing_key(tmp_path / "keys", "sam")
    trust_key(team.admin, name="sam", public_key=key.with_suffix(".pub"))
    team("alice").import_bundle(path=new_bundle(tmp_path, template))
    for stage in ("candidate", "staging", "production"):
        for person in APPROVERS[stage]:
            workflow.review(team(person), name=NAME, version="1.0.0", decision="approve", comment=f"ok by {person}")
        if stage == "production":
            sign_version(team("sam"), name=NAME, version="1.0.0", key=key, passphrase=PASSPHRASE, signer="sam")
        workflow.promote(team("carol"), name=NAME, version="1.0.0", to_stage=stage, policy=DEFAULT)
    signer = KeySigner(load_private_key(key, passphrase=PASSPHRASE))
    assert len(sign_attestations(team("sam"), name=NAME, version="1.0.0", signer=signer)) == 6
    result = export_version(team("sam"), name=NAME, version="1.0.0", output=tmp_path / "export")
    assert (result.stage, result.signatures, result.attestations) == ("production", 1, 6)
    return result.path, key


def _verdict(folder, key, **options):
    from modelgate.core.bundle.reader import open_bundle
    from modelgate.core.signing.payload import hash_while_importing

    with open_bundle(folder) as bundle:
        files = hash_while_importing(bundle, progress=None)
    envelopes = read_lines((folder / BUNDLE_FILE).read_bytes())
    return verify_decisions(files=files, envelopes=envelopes,
                            trust=load_trust_store([key.with_suffix(".pub")]), **options)


def test_each_promotion_records_a_decision_and_a_verification_summary(team, released):
    statements = attestations(team.admin, name=NAME, version="1.0.0")
    kinds = [(s.sequence, s.predicate_type) for s in statements]
    assert kinds == [(n, kind) for n in (1, 2, 3) for kind in (PROMOTION_PREDICATE, VSA_PREDICATE)]
    assert all(s.signed_by == "sam" for s in statements)
    last = json.loads(base64.b64decode(statements[-2].envelope["payload"]))
    predicate = last["predicate"]
    assert predicate["stage"] == {"from": "staging", "to": "production"}
    assert predicate["policy"]["digest"]["sha256"] == DEFAULT.digest
    assert sorted(a["reviewer"] for a in predicate["approvals"]["given"]) == ["carol", "dave"]
    assert predicate["approvals"]["given"][0]["commentDigest"]["sha256"] == sha256_hex(b"ok by carol")
    assert predicate["verdict"]["passed"] is True and predicate["approvals"]["required"] == 2
    names = {item["name"] for item in last["subject"]}
    assert "bundle.yaml" in names and "model/model.onnx" in names
    assert not any(name.startswith("signatures/") for name in names)
    assert team.admin.verify_audit().ok


def test_an_exported_production_bundle_verifies_with_no_registry_at_all(released, tmp_path, monkeypatch, capsys):
    folder, key = released
    moved = tmp_path / "elsewhere" / "bundle"
    shutil.copytree(folder, moved)
    # No registry anywhere: an empty home, no registry URL, no trust store setting.
    home = tmp_path / "auditor-home"
    home.mkdir()
    for name in ("MODELGATE_REGISTRY", "MODELGATE_TRUST_STORE", "MODELGATE_USER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    code = main(["verify", str(moved), "--attestations", "--stage", "production",
                 "--trust", str(key.with_suffix(".pub"))])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "decisions verified up to production" in out and "staging -> production  signed by sam" in out
    assert not any(home.rglob("*.db"))  # nothing was opened or created
    # An archive of the same folder verifies too.
    archive = shutil.make_archive(str(tmp_path / "bundle"), "gztar", moved.parent, moved.name)
    assert main(["verify", archive, "--attestations", "--trust", str(key.with_suffix(".pub"))]) == 0


def _rewrite(folder, key, change, *, resign: bool):
    """Edit the production decision's statement with ``change(statement)``; re-sign it with
    ``key`` (an insider holding a trusted key) or keep its old signature (anyone else)."""
    path = folder / BUNDLE_FILE
    envelopes = [json.loads(line) for line in path.read_text().splitlines()]
    for index, envelope in enumerate(envelopes):
        statement = json.loads(base64.b64decode(envelope["payload"]))
        if statement["predicateType"] == PROMOTION_PREDICATE and statement["predicate"]["sequence"] == 3:
            change(statement)
            payload = canonical_json(statement)
            if resign:
                signer = KeySigner(load_private_key(key, passphrase=PASSPHRASE))
                envelopes[index] = sign_envelope(payload=payload, signer=signer)
            else:
                envelopes[index] = {**envelope, "payload": base64.b64encode(payload).decode()}
    path.write_text("".join(json.dumps(e) + "\n" for e in envelopes))


def _given(statement):
    return statement["predicate"]["approvals"]["given"]


def test_altering_dropping_or_reusing_an_approval_fails(released, tmp_path):
    folder, key = released
    assert _verdict(folder, key, stage="production", policy=DEFAULT).ok

    def rename(statement):
        _given(statement)[1]["reviewer"] = "mallory"

    def drop(statement):
        del _given(statement)[1]

    def twice(statement):
        _given(statement)[1] = dict(_given(statement)[0], reviewer=_given(statement)[0]["reviewer"].upper())

    cases = [(rename, False, "no signature on the attestation verifies"),
             (drop, True, "1 of 2 approval(s)"),
             (twice, True, "approved twice")]
    for change, resign, expected in cases:
        copy = tmp_path / f"copy-{change.__name__}"
        shutil.copytree(folder, copy)
        _rewrite(copy, key, change, resign=resign)
        verdict = _verdict(copy, key, stage="production")
        assert not verdict.ok and any(expected in p for p in verdict.problems), verdict.problems
        assert main(["verify", str(copy), "--attestations", "--trust", str(key.with_suffix(".pub"))]) == 1


def test_a_missing_decision_changed_file_or_untrusted_signer_fails(released, tmp_path):
    folder, key = released
    dropped = tmp_path / "dropped"
    shutil.copytree(folder, dropped)
    lines = (dropped / BUNDLE_FILE).read_text().splitlines()
    (dropped / BUNDLE_FILE).write_text("\n".join(lines[2:]) + "\n")  # the first decision is gone
    verdict = _verdict(dropped, key)
    assert any("starts at candidate" in p for p in verdict.problems), verdict.problems

    changed = tmp_path / "changed"
    shutil.copytree(folder, changed)
    (changed / "MODEL_CARD.md").write_text("# another card\n")
    assert any("digest differs: MODEL_CARD.md" in p for p in _verdict(changed, key).problems)

    stranger = signing_key(tmp_path / "other", "sam")
    verdict = _verdict(folder, stranger)
    assert not verdict.ok and all("no signature" in p for p in verdict.problems[:6])

    short_of_claim = _verdict(folder, key, stage="archived")
    assert any("reach production, not archived" in p for p in short_of_claim.problems)


def test_export_refuses_unsigned_decisions(team, tmp_path, template):
    team("alice").import_bundle(path=new_bundle(tmp_path, template))
    workflow.review(team("bob"), name=NAME, version="1.0.0", decision="approve", comment="ok")
    workflow.promote(team("carol"), name=NAME, version="1.0.0", to_stage="candidate", policy=DEFAULT)
    if team.server:
        team.server.create_role("sam", database=team.database)
    team.admin.add_user(name="sam", roles=["signer"])      # exports are a signer's
    with pytest.raises(WorkflowRefused, match="unsigned"):
        export_version(team("sam"), name=NAME, version="1.0.0", output=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_only_the_signers_own_trusted_key_signs_attestations(team, tmp_path, template):
    team("alice").import_bundle(path=new_bundle(tmp_path, template))
    workflow.review(team("bob"), name=NAME, version="1.0.0", decision="approve", comment="ok")
    workflow.promote(team("carol"), name=NAME, version="1.0.0", to_stage="candidate", policy=DEFAULT)
    key = signing_key(tmp_path / "keys", "carol")
    signer = KeySigner(load_private_key(key, passphrase=PASSPHRASE))
    with pytest.raises(WorkflowRefused, match="not trusted"):
        sign_attestations(team("carol"), name=NAME, version="1.0.0", signer=signer)
    assert all(s.envelope is None for s in attestations(team.admin, name=NAME, version="1.0.0"))


@pytest.mark.slow
def test_a_rollback_is_attested_and_its_chain_verifies(team, released, tmp_path, template):
    _, key = released
    signer = KeySigner(load_private_key(key, passphrase=PASSPHRASE))
    team("alice").import_bundle(path=new_bundle(tmp_path, template, version="1.1.0"))
    for stage in ("candidate", "staging", "production"):
        for person in APPROVERS[stage]:
            workflow.review(team(person), name=NAME, version="1.1.0", decision="approve", comment=f"ok by {person}")
        if stage == "production":
            sign_version(team("sam"), name=NAME, version="1.1.0", key=key, passphrase=PASSPHRASE, signer="sam")
        workflow.promote(team("carol"), name=NAME, version="1.1.0", to_stage=stage, policy=DEFAULT)
    workflow.rollback(team("dave"), name=NAME, reason="latency doubled", policy=DEFAULT)
    assert len(sign_attestations(team("sam"), name=NAME, version="1.0.0", signer=signer)) == 2
    assert len(sign_attestations(team("sam"), name=NAME, version="1.1.0", signer=signer)) == 8
    restored = export_version(team("sam"), name=NAME, version="1.0.0", output=tmp_path / "restored").path
    verdict = _verdict(restored, key, stage="production", policy=DEFAULT)
    assert verdict.ok, verdict.problems
    assert verdict.steps[-1][:2] == ("deprecated", "production")
    envelopes = read_lines((restored / BUNDLE_FILE).read_bytes())
    last = max((json.loads(base64.b64decode(e["payload"])) for e in envelopes),
               key=lambda s: (s["predicateType"] == PROMOTION_PREDICATE, s["predicate"].get("sequence", 0)))
    assert last["predicate"]["kind"] == "rollback" and last["predicate"]["reason"] == "latency doubled"
    from modelgate.core.registry.attestations import version_files
    from modelgate.core.registry.queries import get_version

    with team.admin.session(write=False) as session:
        digest = get_version(session, name=NAME, version="1.1.0").digest
    verdict = verify_decisions(files=version_files(team.admin.store, digest),
                               envelopes=[s.envelope for s in attestations(team.admin, name=NAME, version="1.1.0")],
                               trust=load_trust_store([key.with_suffix(".pub")]), stage="deprecated")
    assert verdict.ok and verdict.steps[-1][:2] == ("production", "deprecated"), verdict.problems

    # an insider relabelling the restore as a plain promotion breaks the chain: stages never go back
    path = restored / BUNDLE_FILE
    lines = path.read_text().splitlines()
    edited = []
    for line in lines:
        envelope = json.loads(line)
        statement = json.loads(base64.b64decode(envelope["payload"]))
        if statement["predicateType"] == PROMOTION_PREDICATE and statement["predicate"]["kind"] == "rollback":
            statement["predicate"]["kind"] = "promotion"
            envelope = sign_envelope(payload=canonical_json(statement), signer=signer)
        edited.append(json.dumps(envelope))
    path.write_text("\n".join(edited) + "\n")
    verdict = _verdict(restored, key, stage="production")
    assert not verdict.ok and any("deprecated -> production goes backwards" in p for p in verdict.problems)
