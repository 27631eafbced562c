"""`modelgate report NAME@VERSION --output FILE`, called in-process through main(argv)."""

from __future__ import annotations

import pytest

from tests.evidence_support import Parts, pdf_text, squeezed, tamper_event
from tests.core.cli.test_registry import run


@pytest.fixture
def demo(demo_workspace, monkeypatch):
    """The demo registry, acting as its reviewer."""
    monkeypatch.setenv("MODELGATE_REGISTRY", f"sqlite:///{demo_workspace / 'registry.db'}")
    monkeypatch.setenv("MODELGATE_USER", "ben")
    return demo_workspace


@pytest.mark.slow
def test_the_suffix_picks_the_format(demo, capsys, tmp_path):
    code, out, err = run(capsys, "report", "credit-risk@1.1.0", "--output", str(tmp_path / "r.pdf"))
    assert code == 0, err
    assert out.startswith(f"wrote {tmp_path / 'r.pdf'} (PDF, ") and "audit chain intact" in out
    head = out.splitlines()[-1].removeprefix("head: ")
    assert f"--expect-head {head}" in " ".join(pdf_text(tmp_path / "r.pdf").split())
    text = squeezed(pdf_text(tmp_path / "r.pdf"))
    assert "Auditorreport:credit-risk@1.1.0" in text and "Auditchainintact" in text
    (tmp_path / "sub").mkdir()
    code, out, _ = run(capsys, "report", "credit-risk@1.2.0", "-o", str(tmp_path / "sub" / "r.html"))
    assert code == 0 and (tmp_path / "sub" / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    # --format names it when the suffix does not.
    code, _, _ = run(capsys, "report", "credit-risk@1.2.0", "--format", "html", "-o", str(tmp_path / "r.report"))
    assert code == 0 and "<title>Auditor report: credit-risk@1.2.0</title>" in (
        tmp_path / "r.report").read_text(encoding="utf-8")


@pytest.mark.slow
def test_an_existing_file_is_kept_unless_forced(demo, capsys, tmp_path):
    target = tmp_path / "r.html"
    target.write_text("keep me", encoding="utf-8")
    code, out, err = run(capsys, "report", "credit-risk@1.1.0", "-o", str(target))
    assert code == 2 and out == "" and err.splitlines() == [
        f"modelgate: {target} already exists", "  hint: Pass --force to replace it."]
    assert target.read_text(encoding="utf-8") == "keep me"
    code, _, _ = run(capsys, "report", "credit-risk@1.1.0", "-o", str(target), "--force")
    assert code == 0 and "credit-risk@1.1.0" in Parts(target.read_text(encoding="utf-8")).all_text


@pytest.mark.parametrize(("argv", "message"), [
    (["credit-risk@9.9.9", "-o", "{tmp}/r.pdf"], "no version credit-risk@9.9.9 in the registry"),
    (["credit-risk", "-o", "{tmp}/r.pdf"], "'credit-risk' is not NAME@VERSION"),
    (["credit-risk@1.1.0", "-o", "{tmp}/r.docx"], "cannot tell the report format from 'r.docx'"),
    (["credit-risk@1.1.0", "-o", "{tmp}/r.pdf", "--format", "docx"], "argument --format: invalid choice"),
    (["credit-risk@1.1.0", "-o", "{tmp}/r.html", "--format", "pdf"], "a PDF report cannot be named 'r.html'"),
    (["credit-risk@1.1.0", "-o", "{tmp}"], "cannot write {tmp}: it is a folder"),
    (["credit-risk@1.1.0", "-o", "{tmp}/file.txt/r.pdf"], "cannot write {tmp}/file.txt/r.pdf: {tmp}/file.txt is "
                                                           "not a folder"),
    (["credit-risk@1.1.0", "-o", "{tmp}/missing/r.pdf"], "cannot write {tmp}/missing/r.pdf: the folder "
                                                          "{tmp}/missing does not exist"),
    (["credit-risk@1.1.0"], "the following arguments are required: --output/-o"),
])
def test_wrong_calls_are_one_line_and_exit_2(demo, capsys, tmp_path, argv, message):
    (tmp_path / "file.txt").write_text("a file", encoding="utf-8")
    code, out, err = run(capsys, "report", *[a.format(tmp=tmp_path) for a in argv])
    assert code == 2 and out == ""
    assert err.startswith(f"modelgate: {message.format(tmp=tmp_path)}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


@pytest.mark.slow
def test_a_broken_chain_is_written_up_and_exits_1(demo_registry_copy, capsys, tmp_path):
    tamper_event(demo_registry_copy.removeprefix("sqlite:///"), 5)
    code, out, err = run(capsys, "--registry", demo_registry_copy, "--user", "ben", "report", "credit-risk@1.1.0",
                         "-o", str(tmp_path / "r.pdf"))
    assert code == 1 and out.startswith("wrote ")
    assert err.strip() == "audit chain BROKEN at event 5: event 5 was edited (its hash does not match its content)"
    assert "Audit chain BROKEN at event 5" in " ".join(pdf_text(tmp_path / "r.pdf").split())


def test_help_teaches_with_examples(capsys):
    code, out, _ = run(capsys, "report", "--help")
    assert code == 0
    assert "modelgate report credit-risk@1.1.0 --output credit-risk-1.1.0.pdf" in out
    assert "exit codes" in out and "--force" in out and "only reads" in out
