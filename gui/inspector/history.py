"""History: every audit event about this version, oldest first, as the hash-chained log holds it."""

from __future__ import annotations

import json

from modelgate.gui.inspector.widgets import BAD, GOOD, Page, note, section, table

#: Payload keys shown first, when an event has them.
KEYS = ("from", "to", "stage", "comment", "reason", "passed", "errors", "warnings", "policy", "digest")


def _details(payload: dict) -> str:
    ordered = [k for k in KEYS if k in payload] + sorted(k for k in payload if k not in KEYS)
    return "; ".join(f"{key}: {value if isinstance(value, str) else json.dumps(value, default=str)}"
                     for key, value in ((k, payload[k]) for k in ordered) if value not in (None, "", [], {}))


def _colour(action: str) -> str | None:
    if action.endswith(("refused", "reject", "request-changes")) or action == "rollback":
        return BAD
    if action in ("promote", "review.approve", "rollback.restored"):
        return GOOD
    return None


class HistoryTab(Page):
    """The History tab."""

    def show_subject(self, subject) -> None:
        if subject.detail is None:
            self.replace(note("This bundle is not in a registry, so it has no recorded history."))
            return
        events = subject.detail.events
        rows = [(e.seq, e.created_at.replace("T", " ")[:19], e.actor, e.action, _details(e.payload),
                 e.hash[:12] + "…") for e in events]
        self.replace(section(f"Audit events about {subject.label} ({len(events)})", table(
            ("#", "When (UTC)", "Who", "What", "Details", "Event hash"), rows, stretch=4,
            colours=[_colour(e.action) for e in events], object_name="history")
            if events else note("The audit log holds no event about this version.")))
