"""Overview: who the version is, where it stands, whether it passes the policy for its next
stage and why, its owners, digests and lock state."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from modelgate.core.outputs import human_bytes
from modelgate.core.findings import Severity
from modelgate.gui.app.theme import follow_theme
from modelgate.gui.inspector.widgets import BAD, DOUBT, GOOD, MUTED, Page, form, note, section, table
from modelgate.gui.registry.model import alerts, updated_text

LOCK_TEXT = {
    "locked": ("Locked: every file matches the digests in bundle.yaml.", GOOD),
    "stale": ("STALE: the bundle's bytes no longer match the digests in bundle.yaml.", BAD),
    "unlocked": ("Unlocked: bundle.yaml records no digests (run `modelgate lock`).", DOUBT),
    "unchecked": ("Not checked.", MUTED),
}
#: Audit actions that put a copy of the version's bytes somewhere else.
PUBLISHED = ("store.pushed", "store.exported")
#: Most error findings the banner names; the Validation tab lists them all.
BANNER_FINDINGS = 4


class VerdictBanner(QFrame):
    """The verdict for the stage the version is judged for, in one coloured block."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("verdict-banner")
        self.headline = QLabel(objectName="verdict-headline")
        self.headline.setWordWrap(True)
        self.details = QLabel(objectName="verdict-details")
        self.details.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(self.details)
        self.passed: bool | None = None

    def show_checking(self, *, label: str, stage: str) -> None:
        self._paint(MUTED, f"Checking {label} against the policy for {stage}…", "", None)

    def show_report(self, *, report, stage: str, approvals: int | None) -> None:
        errors = [f for f in report.findings if f.severity is Severity.ERROR]
        warnings = report.count(Severity.WARNING)
        lines = [f"• {f.rule} {f.message}" for f in errors[:BANNER_FINDINGS]]
        if len(errors) > BANNER_FINDINGS:
            lines.append(f"• … and {len(errors) - BANNER_FINDINGS} more on the Validation tab")
        if report.promotion_gates:
            needed = "; ".join(report.promotion_gates)
            recorded = f" ({approvals} approval(s) recorded at this stage)" if approvals is not None else ""
            lines.append(f"Beyond the bundle, promotion to {stage} needs: {needed}{recorded}.")
        if report.passed:
            headline = (f"✔ Passes the policy {report.policy_name} for {stage}"
                        f" ({warnings} warning(s))")
        else:
            headline = f"✖ Does not pass the policy {report.policy_name} for {stage}: {len(errors)} error(s)"
        self._paint(GOOD if report.passed else BAD, headline, "\n".join(lines), report.passed)

    def show_failure(self, *, message: str) -> None:
        self._paint(DOUBT, "The checks could not run", message, None)

    def show_cancelled(self) -> None:
        self._paint(MUTED, "Validation cancelled", "Re-run it with View › Re-run validation (Ctrl+R).", None)

    def _paint(self, colour: str, headline: str, details: str, passed: bool | None) -> None:
        self.passed = passed
        follow_theme(self, lambda: self.setStyleSheet(
            f"#verdict-banner {{ border: 2px solid {colour}; border-radius: 6px; }}"
            f"#verdict-headline {{ color: {colour}; font-weight: bold; font-size: 14px; }}"))
        self.headline.setText(headline)
        self.details.setText(details)
        self.details.setVisible(bool(details))


class OverviewTab(Page):
    """The Overview tab."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.banner = VerdictBanner()

    def show_subject(self, subject) -> None:
        facts, detail = subject.facts, subject.detail
        summary = facts.summary
        self.banner = VerdictBanner()
        self.banner.show_checking(label=subject.label, stage=subject.stage)
        identity = [("Name", summary.get("name")), ("Version", summary.get("version")),
                    ("Description", summary.get("description")), ("License", summary.get("license")),
                    ("Tags", ", ".join(summary.get("tags") or [])),
                    ("Bundle", _bundle_source(facts, detail))]
        if detail is not None:
            info = detail.info
            identity += [("Submitted by", info.submitter), ("Imported", updated_text(info.created_at))]
        self.replace(self.banner, *self._attention(detail), section("Identity", form(identity)), self._stage(subject),
                     section("Owners", self._owners(summary)), self._digests(subject),
                     *self._locations(detail), section("Lock state", *self._lock(summary["lock"])))

    def show_report(self, *, report, subject) -> None:
        approvals = subject.detail.info.approvals if subject.detail is not None else None
        self.banner.show_report(report=report, stage=subject.stage, approvals=approvals)

    def show_checks_failed(self, *, message: str) -> None:
        self.banner.show_failure(message=message)

    def show_checks_cancelled(self) -> None:
        self.banner.show_cancelled()

    def _stage(self, subject) -> QWidget:
        detail = subject.detail
        if detail is None:
            return section("Stage", note(f"This bundle is not in a registry, so it has no stage. It is "
                                         f"judged for {subject.stage}."))
        moves = [(updated_text(p.created_at), f"{p.from_stage} → {p.to_stage}", p.kind, p.actor, p.reason)
                 for p in detail.promotions]
        reviews = [(updated_text(r.created_at), r.reviewer, r.decision, r.stage, r.comment) for r in detail.reviews]
        colours = [GOOD if r.decision == "approve" else BAD for r in detail.reviews]
        widgets = [form([("Current stage", detail.info.stage), ("Judged for", subject.stage)])]
        widgets.append(table(("When", "Move", "Kind", "By", "Reason"), moves, stretch=4, object_name="stage-history")
                       if moves else note("It has not moved since it was imported as a draft."))
        widgets.append(table(("When", "Reviewer", "Decision", "At stage", "Comment"), reviews, stretch=4,
                             colours=colours, object_name="reviews") if reviews else note("No reviews yet."))
        return section("Stage and history", *widgets)

    @staticmethod
    def _attention(detail) -> list[QWidget]:
        """A break-glass restore or a damaged stored copy, above everything else."""
        if detail is None:
            return []
        lines = alerts(detail.info)
        damage = getattr(detail, "damage", None)
        if damage is not None:
            lines.append(f"Found by {damage.found_by} on {updated_text(damage.found_at)}: {damage.describe()}.")
        if not lines:
            return []
        box = section("Attention", *(note(f"⚠ {line}", colour=BAD) for line in lines))
        box.setObjectName("overview-attention")
        return [box]

    @staticmethod
    def _owners(summary: dict) -> QWidget:
        owners = [(o.get("name"), o.get("email")) for o in summary.get("owners") or []]
        return table(("Name", "E-mail"), owners, stretch=1, object_name="owners") if owners else note("bundle.yaml names no owners.")

    @staticmethod
    def _digests(subject) -> QWidget:
        rows, colours = [], []
        for art in subject.facts.summary["artifacts"]:
            ok = art.get("digest_ok")
            rows.append((art["path"], art.get("variant"), human_bytes(art["size"]) if art.get("size") is not None else "missing", art.get("sha256"),
                         {True: "matches", False: "MISMATCH", None: "not checked"}[ok]))
            colours.append({True: None, False: BAD, None: DOUBT}[ok])
        widgets = []
        if subject.detail is not None:
            widgets.append(form([("Bundle digest (registry)", subject.detail.info.digest)]))
        widgets.append(table(("Artifact", "Variant", "Size", "sha256 in bundle.yaml", "On disk"), rows,
                             stretch=3, colours=colours, object_name="artifact-digests"))
        return section("Digests", *widgets)

    @staticmethod
    def _locations(detail) -> list[QWidget]:
        """Where the version's bytes live: the registry's own store, and every OCI registry,
        image layout or folder it was pushed or exported to (from the audit log)."""
        if detail is None:
            return []
        rows = [(_when(e.created_at), "pushed" if e.action == "store.pushed" else "exported",
                 e.payload.get("reference", ""), e.payload.get("manifest_digest") or "", e.actor)
                for e in detail.events if e.action in PUBLISHED]
        where = detail.stored_at or str(detail.store_path)
        kind = "OCI registry" if where.startswith("oci://") else "folder"
        widgets = [form([(f"Registry store ({kind})", where), ("Bundle digest", detail.info.digest)])]
        widgets.append(table(("When", "How", "Where", "Manifest digest", "By"), rows, stretch=2,
                             object_name="locations") if rows else
                       note("Only in the registry's store: not pushed to an OCI registry or exported yet."))
        return [section("Where the bytes live", *widgets)]

    @staticmethod
    def _lock(lock: dict) -> list[QWidget]:
        text, colour = LOCK_TEXT[lock["state"]]
        widgets = [note(text, colour=colour)]
        for key in ("mismatched", "missing", "unlisted"):
            if lock.get(key):
                widgets.append(note(f"{key}: {', '.join(lock[key])}", colour=BAD))
        for message in lock.get("artifact_problems", []):
            widgets.append(note(message, colour=BAD))
        return widgets


def _bundle_source(facts, detail) -> str:
    """The folder the inspector read; for a version kept in an OCI store, said to be the verified
    working copy of the artifact (the bytes themselves live only in the OCI registry)."""
    source = str(facts.bundle.source)
    if detail is not None and detail.stored_at.startswith("oci://"):
        return f"verified working copy of the OCI artifact: {source}"
    return source


def _when(text: str) -> str:
    """An audit event's time (ISO 8601 text) in the viewer's local time, as it was if unreadable."""
    from datetime import datetime

    try:
        return updated_text(datetime.fromisoformat(text))
    except (TypeError, ValueError):
        return str(text)
