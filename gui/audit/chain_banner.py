"""The audit view's banner: what the last verification of the audit chain found."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from modelgate.gui.ops.audit import ChainCheck
from modelgate.gui.inspector.overview import VerdictBanner
from modelgate.gui.inspector.widgets import BAD, DOUBT, GOOD, MUTED


class ChainBanner(VerdictBanner):
    """What the last verification of the chain found, in the verdict's coloured block (hidden before any)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setVisible(False)

    def show_verifying(self) -> None:
        self._paint(MUTED, "Verifying the audit chain…", "Every event's hash is recomputed and checked "
                    "against the next; Esc or Cancel in the status bar stops it.", None)

    def show_check(self, check: ChainCheck) -> None:
        verdict = check.verdict
        if verdict.ok:
            head = (f"Chain head #{check.head.seq}:{check.head.hash[:16]}… — record it where the registry's "
                    "database users cannot write, to compare with later." if check.head else "The log is empty.")
            noun = "event" if verdict.checked == 1 else "events"
            self._paint(GOOD, f"✔ Audit chain intact: {verdict.checked:,} {noun} verified", head, True)
            return
        reason = verdict.reason or "the chain does not hold"
        lines = [f"{reason[0].upper()}{reason[1:]}."]
        if verdict.checked:
            lines.append(f"Events 1 to {verdict.checked:,} are intact.")
        if check.shown is not None and check.shown.seq == verdict.first_broken:
            lines.append("It is selected and marked red below.")
        elif check.shown is not None:
            side = "after" if check.shown.seq > (verdict.first_broken or 0) else "before"
            lines.append(f"Event {check.shown.seq}, just {side} it, is selected and marked red below.")
        self._paint(BAD, f"✖ Audit chain BROKEN at event {verdict.first_broken}", " ".join(lines), False)

    def show_cancelled(self) -> None:
        self._paint(MUTED, "Verification cancelled", "Nothing was concluded; press Verify chain to run it again.",
                    None)

    def show_failure(self, *, message: str) -> None:
        self._paint(DOUBT, "The chain could not be verified", message, None)

    def _paint(self, colour: str, headline: str, details: str, passed: bool | None) -> None:
        super()._paint(colour, headline, details, passed)
        self.setVisible(True)
