"""Signatures: the release signatures the registry recorded for this version (signer, key
fingerprint, time, bundle digest signed, verified) and the signature files the bundle holds."""

from __future__ import annotations

from pathlib import Path

from modelgate.gui.inspector.widgets import BAD, DOUBT, GOOD, Page, form, note, section, table
from modelgate.gui.registry.model import updated_text


def trust_store_text(location: str) -> str:
    """What the configured trust store holds, in words."""
    if not location:
        return "No trust store is set (Settings › Trust store)."
    path = Path(location).expanduser()
    if path.is_file():
        return f"{path} (one public key)"
    if path.is_dir():
        keys = sorted(p.name for p in path.iterdir() if p.suffix.lower() in (".pem", ".pub"))
        return f"{path} ({len(keys)} public key file(s){': ' + ', '.join(keys[:6]) if keys else ''})"
    return f"{path} does not exist."


class SignaturesTab(Page):
    """The Signatures tab."""

    def show_subject(self, subject) -> None:
        files = subject.facts.summary.get("signatures") or []
        widgets = []
        if subject.detail is None:
            widgets.append(section("Recorded signatures", note(
                "This bundle is not in a registry, so no signature is recorded for it.")))
        else:
            recorded = subject.detail.signatures
            digest = subject.detail.info.digest
            rows = [(s.signer, s.key_fingerprint, updated_text(s.created_at), s.bundle_digest,
                     s.standing if s.revoked_at is not None else ("yes" if s.verified else "no"),
                     "this version" if s.bundle_digest == digest else "OTHER BYTES") for s in recorded]
            colours = [GOOD if s.verified and s.revoked_at is None and s.bundle_digest == digest else BAD
                       for s in recorded]
            widgets.append(section("Recorded signatures", table(
                ("Signer", "Key fingerprint", "Signed", "Bundle digest signed", "Verified", "Digest is"),
                rows, stretch=3, colours=colours, object_name="signatures")
                if recorded else note("The registry records no release signature for this version.", colour=DOUBT)))
        widgets.append(section("Signature files in the bundle", table(("File",), [(f,) for f in files], stretch=0)
                               if files else note("The bundle's signatures/ folder holds no file.")))
        widgets.append(section("Trust store", form([("Accepted signers", trust_store_text(subject.trust_store))])))
        self.replace(*widgets)
