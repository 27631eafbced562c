"""The comparison's header: champion A beside challenger B, each with its stage, digest and license."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from modelgate.gui.app.theme import follow_theme
from modelgate.gui.inspector.widgets import DOUBT, MUTED, value_label

ROLES = {"a": "A · champion (the baseline)", "b": "B · challenger"}


class SideCard(QFrame):
    """One version's identity: role, ``name@version``, stage, short digest and license."""

    def __init__(self, *, role: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"side-{role}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.role = QLabel(ROLES[role])
        follow_theme(self.role, lambda: self.role.setStyleSheet(f"color: {MUTED};"))
        self.title = value_label("")
        self.title.setObjectName(f"side-{role}-title")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title.setFont(font)
        self.facts = value_label("")
        self.facts.setObjectName(f"side-{role}-facts")
        layout = QVBoxLayout(self)
        layout.setSpacing(2)
        layout.addWidget(self.role)
        layout.addWidget(self.title)
        layout.addWidget(self.facts)

    def show_side(self, side, *, license_changed: bool = False) -> None:
        """Show a compared :class:`~modelgate.core.registry.compare.Side`."""
        self.title.setText(side.label)
        self.facts.setTextFormat(Qt.TextFormat.RichText)

        def colour() -> None:
            license_text = escape(side.license or "no license")
            if license_changed:
                license_text = f"<span style='color: {DOUBT}; font-weight: bold'>{license_text}</span>"
            self.facts.setText(f"Stage: <b>{escape(side.stage)}</b> · Digest: <tt>{side.digest[:12]}…</tt>"
                               f"<br>License: {license_text}")
        follow_theme(self.facts, colour)
        self.facts.setToolTip(f"sha256 {side.digest}")

    def show_ref(self, ref: tuple[str, str] | None) -> None:
        """Show a version not read yet (``None``: the production version, found while loading)."""
        self.title.setText(f"{ref[0]}@{ref[1]}" if ref else "the production version")
        self.facts.setTextFormat(Qt.TextFormat.PlainText)
        follow_theme(self.facts, lambda: self.facts.setText("…"))


class CompareHeader(QWidget):
    """A and B side by side, and one line saying how the comparison reads."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.a, self.b = SideCard(role="a"), SideCard(role="b")
        arrow = QLabel("→")
        font = arrow.font()
        font.setPointSizeF(font.pointSizeF() * 1.8)
        arrow.setFont(font)
        arrow.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.reading = value_label("")
        self.reading.setObjectName("compare-reading")
        row = QHBoxLayout()
        row.addWidget(self.a, 1)
        row.addWidget(arrow)
        row.addWidget(self.b, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.reading)

    def show_comparison(self, comparison) -> None:
        self.a.show_side(comparison.a, license_changed=comparison.license_changed)
        self.b.show_side(comparison.b, license_changed=comparison.license_changed)
        judged = (f" Both are judged for {comparison.stage} under the registry's policy {comparison.policy_name}."
                  if comparison.stage else "")
        self.reading.setText("Every change reads from A to B; deltas are B − A." + judged)

    def show_refs(self, champion: tuple[str, str] | None, challenger: tuple[str, str]) -> None:
        self.a.show_ref(champion)
        self.b.show_ref(challenger)
        self.reading.setText("")
