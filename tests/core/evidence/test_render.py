"""The auditor report as a PDF and as one HTML file: what each says, and that both are safe to open."""

from __future__ import annotations

import base64

import pytest

from modelgate.core.evidence import collect, render_html, render_pdf, write_report
from modelgate.core.registry import open_registry
from tests.evidence_support import (HOSTILE_COMMENT, HOSTILE_DESCRIPTION, Parts, hostile_registry, pdf_text,
                                    squeezed, tamper_event)


def _pack(url: str, ref: str):
    name, version = ref.split("@")
    with open_registry(url=url, user="ben") as registry:
        return collect(registry, name=name, version=version)


@pytest.fixture(scope="module")
def production(demo_workspace):
    """The pack of credit-risk@1.1.0: validated, reviewed, signed and promoted to production."""
    return _pack(f"sqlite:///{demo_workspace / 'registry.db'}", "credit-risk@1.1.0")


def _must_name(pack) -> list[str]:
    """What an auditor files, as it must appear in either format."""
    return [pack.ref, pack.digest, pack.policy.digest, pack.signatures[0].fingerprint, pack.chain.head[1],
            "modelgate 0.1.0", pack.registry, pack.generated_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            "draft → candidate", "candidate → staging", "staging → production",
            f"Audit chain intact: all {pack.chain.checked} events verified",
            *{review.reviewer for review in pack.reviews}, *{review.comment for review in pack.reviews}]


@pytest.mark.slow
def test_the_pdf_names_what_an_auditor_files(production, tmp_path):
    from pypdf import PdfReader

    path = tmp_path / "report.pdf"
    render_pdf(production, path=path)
    text = pdf_text(path)
    flat = squeezed(text)
    for expected in _must_name(production):
        assert squeezed(expected) in flat, expected
    assert {"ben", "chen", "dana", "eve"} <= set(text.split())
    reader = PdfReader(str(path))
    pages = len(reader.pages)
    assert pages >= 3 and f"page {pages} of {pages}" in text and "page 1 of" in text
    assert reader.metadata.title == "Auditor report: credit-risk@1.1.0"
    assert [entry.title for entry in reader.outline] == [
        "1. Summary", "2. Manifest", "3. Validation findings", "4. Benchmarks", "5. Approvals and reviews",
        "6. Signatures", "7. Promotion history", "8. Audit events of this version", "9. Audit chain verification"]
    bookmarked = [reader.get_destination_page_number(entry) for entry in reader.outline]
    assert bookmarked == sorted(bookmarked) and bookmarked[-1] == pages - 1
    assert sum(len(page.images) for page in reader.pages) == 1          # the benchmark charts
    assert "Stored bundle intact" in text and "No findings." in text


@pytest.mark.slow
def test_the_html_names_the_same_things_and_fetches_nothing(production):
    document = render_html(production)
    parts = Parts(document)
    text = parts.all_text
    for expected in _must_name(production):
        assert expected in text, expected
    assert not parts.named("script") and not parts.named("link") and not parts.named("iframe")
    assert all(attrs.get("href", "").startswith("#") for attrs in parts.named("a"))
    [image] = parts.named("img")
    prefix = "data:image/svg+xml;base64,"
    assert image["src"].startswith(prefix) and image["alt"].startswith("4 results judged for production")
    svg = base64.b64decode(image["src"][len(prefix):]).decode("utf-8")
    assert "<svg" in svg and "http://www.w3.org/2000/svg" in svg and "<script" not in svg
    [policy] = [m for m in parts.named("meta") if m.get("http-equiv") == "Content-Security-Policy"]
    assert "default-src 'none'" in policy["content"]
    assert "@page" in document and "@media print" in document


@pytest.mark.slow
def test_user_text_comes_out_as_text_and_a_bare_draft_says_what_is_missing(tmp_path):
    url = hostile_registry(tmp_path)
    pack = _pack(url, "tiny-classifier@1.0.0")
    document = render_html(pack)
    parts = Parts(document)
    assert not parts.named("script")
    assert all(attrs.get("src", "").startswith("data:") for attrs in parts.named("img"))
    assert not any("onerror" in attrs for _, attrs in parts.tags)
    assert HOSTILE_COMMENT in parts.all_text and HOSTILE_DESCRIPTION in parts.all_text
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in document
    path = tmp_path / "report.pdf"
    render_pdf(pack, path=path)
    text = pdf_text(path)
    assert squeezed(HOSTILE_COMMENT) in squeezed(text) and squeezed(HOSTILE_DESCRIPTION) in squeezed(text)
    for said in ("No validation run is recorded for this version", "No release signature is recorded",
                 "No stage change is recorded"):
        assert said in text and said in parts.all_text


@pytest.mark.slow
def test_a_tampered_chain_is_named_at_the_top_of_both_formats(demo_registry_copy, tmp_path):
    database = demo_registry_copy.removeprefix("sqlite:///")
    with open_registry(url=demo_registry_copy, user="ben") as registry:
        seq = registry.show(name="credit-risk", version="1.1.0").events[2].seq
    tamper_event(database, seq)
    pack = _pack(demo_registry_copy, "credit-risk@1.1.0")
    broken = f"Audit chain BROKEN at event {seq}: event {seq} was edited (its hash does not match its content)"
    size = write_report(pack, path=tmp_path / "report.pdf")
    assert size == (tmp_path / "report.pdf").stat().st_size
    text = pdf_text(tmp_path / "report.pdf")
    assert broken in " ".join(text.split())
    assert " ".join(text.split()).index(broken) < text.index("1. Summary")
    assert "Breaks at event" in text and "not vouched for" in text
    write_report(pack, path=tmp_path / "report.html")
    html_text = " ".join(Parts((tmp_path / "report.html").read_text(encoding="utf-8")).all_text.split())
    assert html_text.index(broken) < html_text.index("1. Summary")


@pytest.mark.slow
def test_a_report_replaces_its_file_whole(production, tmp_path):
    path = tmp_path / "report.html"
    path.write_text("an older report", encoding="utf-8")
    write_report(production, path=path, format="html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]      # no temporary file left
