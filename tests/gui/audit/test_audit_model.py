"""A cell of the audit table makes only its own text: the view asks for cells many times while
it paints and measures, and the details column renders the whole payload."""

from __future__ import annotations

from modelgate.core.registry.audit import AuditEvent
from modelgate.gui.audit import model as audit_model


class Pages:
    """Answers the first page at once with ``events``."""

    def __init__(self, events) -> None:
        self.events = events

    def request_page(self, *, deliver, **_query) -> None:
        deliver(self.events)

    def request_count(self, **_query) -> None:
        pass


def test_a_cell_renders_only_its_own_column(qapp, monkeypatch):
    events = [AuditEvent(seq=n, created_at="2026-12-07T10:00:00+00:00", actor="sam", action="review.approve",
                         subject=f"credit-risk@1.{n}.0", payload={"comment": "fine", "digest": "ab" * 32})
              for n in range(5, 0, -1)]
    model = audit_model.AuditTableModel(source=Pages(events))
    model.set_query(query=model.query)
    rendered = []
    real = audit_model.payload_summary
    monkeypatch.setattr(audit_model, "payload_summary", lambda payload: rendered.append(payload) or real(payload))
    keys = [key for key, _ in audit_model.COLUMNS]
    assert [model.index(0, keys.index(key)).data() for key in ("seq", "actor", "subject")] == \
        ["5", "sam", "credit-risk@1.5.0"]
    assert rendered == []
    assert model.index(0, keys.index("summary")).data().startswith("comment: fine")
    assert len(rendered) == 1
