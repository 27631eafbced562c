"""``report --template NAME``: technical documentation of a version instead of the auditor report."""

from __future__ import annotations

from pathlib import Path


def read_stored_card_and_manifest(registry, *, name: str, version: str):
    """``(raw manifest, parsed model card or None)`` of the stored bundle (just checked intact)."""
    from modelgate.core.bundle.manifest import load_manifest
    from modelgate.core.bundle.modelcard import decode, parse_card
    from modelgate.core.bundle.reader import open_bundle

    with open_bundle(registry.bundle_path(name=name, version=version)) as bundle:
        manifest = load_manifest(bundle).data or {}
        card = None
        if "MODEL_CARD.md" in bundle.files():
            card = parse_card(decode(bundle.read_bytes("MODEL_CARD.md", limit=4 * 1024 * 1024)))
    return manifest, card


def write_documentation(registry, pack, *, template: str, path: Path, format: str) -> int:
    """Fill ``template`` for ``pack``'s version and write it to ``path`` as html or pdf; return its size."""
    from modelgate.core.evidence.documentation import fill, load_template
    from modelgate.core.evidence.documentation_render import documentation_html, documentation_pdf
    from modelgate.core.outputs import write_atomically

    chosen = load_template(template)
    manifest, card = read_stored_card_and_manifest(registry, name=pack.name, version=pack.version)
    from modelgate.core.registry.waivers import list_waivers

    waivers = list_waivers(registry, name=pack.name, version=pack.version)
    doc = fill(chosen, pack=pack, manifest=manifest, card=card, waivers=waivers)
    data = documentation_html(doc).encode("utf-8") if format == "html" else documentation_pdf(doc)
    write_atomically(path, data)
    return len(data)
