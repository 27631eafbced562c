"""Helpers for the auditor report's tests: the text of a PDF, the parts of an HTML file, and a small
registry whose user-typed text is hostile markup."""

from __future__ import annotations

import re
import sqlite3
from html.parser import HTMLParser
from pathlib import Path

#: Text users type that must come out as text in both formats, never as markup.
HOSTILE_COMMENT = "<script>alert('pwned')</script> & <b>bold</b> → fine"
HOSTILE_DESCRIPTION = 'A classifier <img src="x" onerror="alert(1)"> with a "quoted" word'


def pdf_text(path: Path) -> str:
    """Every page's text, as pypdf extracts it."""
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)


def squeezed(text: str) -> str:
    """``text`` without whitespace, so a digest wrapped over two lines is found whole."""
    return re.sub(r"\s+", "", text)


class Parts(HTMLParser):
    """The tags, attributes and text of an HTML document."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def named(self, tag: str) -> list[dict]:
        return [attrs for name, attrs in self.tags if name == tag]

    @property
    def all_text(self) -> str:
        return "".join(self.text)


def tamper_event(database: Path, seq: int) -> None:
    """Edit one audit event behind the registry's back, as someone with SQL access could."""
    with sqlite3.connect(database) as db:
        db.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = ?", (seq,))


def hostile_registry(folder: Path) -> str:
    """A SQLite registry holding one draft, ``tiny-classifier@1.0.0``, never validated or signed,
    whose description and review comment are markup; returns its URL."""
    from modelgate.core.registry import init_registry, open_registry, workflow
    from tests.factory import clean_manifest, make_bundle

    url = f"sqlite:///{folder / 'registry.db'}"
    manifest = clean_manifest()
    manifest["description"] = HOSTILE_DESCRIPTION
    bundle = make_bundle(folder / "bundle", manifest=manifest)
    with init_registry(url=url, user="admin") as admin:
        admin.add_user(name="ana", roles=["submitter"])
        admin.add_user(name="ben", roles=["reviewer"])
    with open_registry(url=url, user="ana") as registry:
        registry.import_bundle(path=bundle)
    with open_registry(url=url, user="ben") as registry:
        workflow.review(registry, name="tiny-classifier", version="1.0.0", decision="reject",
                        comment=HOSTILE_COMMENT)
    return url
