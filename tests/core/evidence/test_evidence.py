"""Collecting a version's evidence pack: what it gathers from the registry, and that it only reads."""

from __future__ import annotations

import os
import stat

import pytest

from modelgate.core.evidence import collect
from modelgate.core.registry import NotFound, open_registry
from modelgate.core.registry.signatures import trusted_keys
from tests.evidence_support import tamper_event


@pytest.fixture(scope="module")
def demo_url(demo_workspace) -> str:
    return f"sqlite:///{demo_workspace / 'registry.db'}"


def _pack(url: str, ref: str, **options):
    name, version = ref.split("@")
    with open_registry(url=url, user="ben") as registry:
        return collect(registry, name=name, version=version, **options)


def test_a_production_version_brings_every_kind_of_evidence(demo_url):
    pack = _pack(demo_url, "credit-risk@1.1.0")
    with open_registry(url=demo_url, user="ben") as registry:
        events = registry.audit_log()
        detail = registry.show(name="credit-risk", version="1.1.0")
        eve = [k for k in trusted_keys(registry) if k.name == "eve"][0]
    assert (pack.ref, pack.stage, pack.submitter, pack.digest) == (
        "credit-risk@1.1.0", "production", "ana", detail.info.digest)
    assert pack.stored.intact and pack.generated_by == "ben" and pack.generated_at.tzinfo is not None
    manifest = pack.manifest
    assert (manifest.name, manifest.version, manifest.license) == ("credit-risk", "1.1.0", "Apache-2.0")
    assert manifest.owners and manifest.tags and dict(manifest.provenance)["Source commit"]
    assert [(a.path, len(a.sha256), a.size > 0) for a in manifest.artifacts] == [
        ("model/credit-risk.onnx", 64, True)]
    assert [v.stage for v in pack.validations] == ["candidate", "staging", "production"]
    assert all(v.passed and v.current_policy and v.policy_digest == pack.policy.digest for v in pack.validations)
    assert pack.policy.name == "example-corp-demo" and pack.policy.set_by == "demo-admin"
    assert [(r.reviewer, r.decision, r.stage) for r in pack.reviews] == [
        ("ben", "approve", "draft"), ("chen", "approve", "candidate"), ("chen", "approve", "staging"),
        ("dana", "approve", "staging")]
    [signature] = pack.signatures
    assert (signature.signer, signature.fingerprint, signature.key_state, signature.key_name) == (
        "eve", eve.fingerprint, "trusted", "eve")
    assert signature.covers_version and signature.verified and signature.bundle_digest == pack.digest
    assert [(p.from_stage, p.to_stage, p.kind) for p in pack.promotions] == [
        ("draft", "candidate", "promote"), ("candidate", "staging", "promote"),
        ("staging", "production", "promote")]
    assert [e.seq for e in pack.events] == [e.seq for e in detail.events]
    assert {e.subject for e in pack.events} == {"credit-risk@1.1.0"}
    assert pack.chain.ok and pack.chain.checked == len(events)
    assert pack.chain.head == (events[-1].seq, events[-1].hash)
    # In production it is judged by production's own gates, with no other version to beat.
    assert (pack.benchmarks.stage, pack.benchmarks.champion) == ("production", None)
    accuracy = [r for r in pack.benchmarks.rows if r.result.metric == "accuracy"][0]
    assert accuracy.floor == 0.85 and not accuracy.breaks_gate


def test_a_candidate_is_judged_for_the_next_stage_against_the_production_version(demo_url):
    pack = _pack(demo_url, "credit-risk@1.2.0")
    assert (pack.benchmarks.stage, pack.benchmarks.champion) == ("staging", "credit-risk@1.1.0")
    regressed = {r.result.metric for r in pack.benchmarks.rows if r.regressed}
    assert regressed == {"accuracy", "f1"}
    [run] = pack.validations
    assert (run.stage, run.champion, run.passed) == ("candidate", "credit-risk@1.1.0", True)
    assert [(severity, len(found)) for severity, found in run.grouped()] == [("info", 4)]
    assert {f.rule for f in run.findings} == {"MG609"} and all(f.location for f in run.findings)
    # --stage picks the gates the charts show.
    assert _pack(demo_url, "credit-risk@1.2.0", stage="production").benchmarks.stage == "production"


def test_findings_of_the_latest_run_per_stage_are_grouped_errors_first(demo_url):
    pack = _pack(demo_url, "credit-risk@1.0.0")
    [run] = pack.validations
    assert [severity for severity, _ in run.grouped()] == ["warning"]
    assert run.count("warning") == 1 and run.findings[0].rule == "MG902"


def test_a_draft_without_runs_or_signatures_gives_an_empty_record_not_an_error(demo_url):
    pack = _pack(demo_url, "defect-detector@1.1.0-rc.1")
    assert pack.validations == () and pack.signatures == () and pack.promotions == ()
    assert [r.decision for r in pack.reviews] == ["request-changes"]
    assert pack.benchmarks.champion == "defect-detector@0.9.0"


def test_collecting_records_no_run_and_no_event(demo_registry_copy):
    with open_registry(url=demo_registry_copy, user="ben") as registry:
        events = len(registry.audit_log())
        runs = len(registry.show(name="credit-risk", version="1.2.0").validations)
        collect(registry, name="credit-risk", version="1.2.0", stage="production")
        assert len(registry.audit_log()) == events
        assert len(registry.show(name="credit-risk", version="1.2.0").validations) == runs


def test_an_unknown_version_is_not_found(demo_url):
    with pytest.raises(NotFound, match="no version credit-risk@9.9.9"):
        _pack(demo_url, "credit-risk@9.9.9")


def test_a_tampered_chain_says_where_it_breaks(demo_registry_copy):
    with open_registry(url=demo_registry_copy, user="ben") as registry:
        seq = registry.show(name="credit-risk", version="1.1.0").events[2].seq
    tamper_event(demo_registry_copy.removeprefix("sqlite:///"), seq)
    chain = _pack(demo_registry_copy, "credit-risk@1.1.0").chain
    assert not chain.ok and chain.first_broken == seq and chain.checked == seq - 1
    assert "was edited" in chain.reason and chain.head[0] == seq - 1
    assert chain.verdict.startswith(f"audit chain BROKEN at event {seq}: event {seq} was edited")


def test_a_stored_bundle_changed_after_import_is_reported(demo_registry_copy):
    with open_registry(url=demo_registry_copy, user="ben") as registry:
        folder = registry.bundle_path(name="credit-risk", version="1.1.0")
    card = folder / "MODEL_CARD.md"
    os.chmod(card, stat.S_IRUSR | stat.S_IWUSR)
    card.write_text(card.read_text(encoding="utf-8") + "\nAn edit behind the registry's back.\n", encoding="utf-8")
    pack = _pack(demo_registry_copy, "credit-risk@1.1.0")
    assert not pack.stored.intact and "changed after import" in pack.stored.problem
    assert pack.manifest.name == "credit-risk"      # what is stored is still shown


def test_a_read_only_postgresql_login_can_collect(pg_server, pg_url, template, tmp_path):
    from sqlalchemy import make_url

    from modelgate.core.registry import init_registry

    store = tmp_path / "store"
    with init_registry(url=pg_url, store=store) as admin:      # the superuser login becomes admin
        admin.import_bundle(path=template)
        events = len(admin.audit_log())
    database = make_url(pg_url).database
    with pg_server.connect(database) as connection:   # a login that may read, and nothing else
        if not connection.execute("SELECT 1 FROM pg_roles WHERE rolname = 'report_auditor'").fetchone():
            connection.execute("CREATE ROLE report_auditor LOGIN")
        connection.execute("GRANT USAGE ON SCHEMA public TO report_auditor")
        connection.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO report_auditor")
    with open_registry(url=pg_server.url_for(database, "report_auditor"), store=store) as registry:
        pack = collect(registry, name="tiny-classifier", version="1.0.0")
    assert pack.generated_by == "report_auditor"
    assert pack.chain.ok and pack.chain.checked == events and pack.stored.intact
    with open_registry(url=pg_url, store=store) as admin:
        assert len(admin.audit_log()) == events
