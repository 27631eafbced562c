"""The version's waivers as badges above its reviews: "waived MG402" for each waiver that
counts now, "expired" for one that no longer does; the reason and both approvers on hover."""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape

from PySide6.QtWidgets import QLabel

from modelgate.gui.app.theme import follow_theme
from modelgate.gui.inspector.widgets import DOUBT, MUTED


def badge_text(waiver, *, now: datetime) -> tuple[str, str]:
    """``(badge HTML, hover text)`` of one waiver (a :class:`~modelgate.core.findings.Waived`)."""
    active = waiver.expires > now
    word, colour = ("waived", DOUBT) if active else ("waiver expired", MUTED)
    badge = (f'<span style="color: {colour}; font-weight: bold;">[{word} {escape(waiver.rule)}]</span>')
    until = "until" if active else "expired on"
    hover = (f"{waiver.rule} {until} {waiver.expires:%Y-%m-%d}, requested and confirmed by "
             f"{' and '.join(waiver.approvers)}: {waiver.reason}")
    return badge, hover


class WaiverBadges(QLabel):
    """The badges of one version's waivers; hidden when it has none."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent, objectName="review-waivers")
        self.setWordWrap(True)
        self.hide()

    def show_waivers(self, waivers, *, now: datetime | None = None) -> None:
        """Show ``waivers`` (confirmed, unrevoked), or hide when there are none."""
        now = now or datetime.now(timezone.utc)
        waivers = tuple(waivers)
        # The badges' inks are formatted again in the new theme's when it changes.
        follow_theme(self, lambda: self.setText(" ".join(badge_text(w, now=now)[0] for w in waivers)))
        self.setToolTip("\n".join(badge_text(w, now=now)[1] for w in waivers))
        self.setVisible(bool(waivers))
