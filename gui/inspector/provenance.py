"""Provenance: where the model came from. Source commit, training run, framework, seed,
datasets (versions, digests, licenses), hyperparameters, and the parent version as a link."""

from __future__ import annotations

import json
from html import escape

from PySide6.QtCore import Signal

from modelgate.core.semver import split_reference
from modelgate.gui.inspector.widgets import STATUS_COLOURS, Page, form, note, section, table, value_label


def _text(value) -> str:
    if value is None or value == "":
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


class ProvenanceTab(Page):
    """The Provenance tab; following the parent link asks the window to select that version."""

    parent_requested = Signal(str, str)      # name, version

    def show_subject(self, subject) -> None:
        provenance = subject.facts.typed.provenance
        framework = provenance.framework() or {}
        rows = [("Repository", _text(provenance.repository)), ("Commit", _text(provenance.commit)),
                ("Training run", _text(provenance.training_run)),
                ("Framework", " ".join(_text(v) for v in framework.values())),
                ("Seed", _text(provenance.seed)), ("Created", _text(provenance.created_at)),
                ("Parent version", self._parent(provenance.parent, linked=subject.detail is not None))]
        statuses = {d.name: d for d in subject.facts.licenses.datasets}
        datasets = provenance.dataset_entries
        dataset_rows, colours = [], []
        for item in datasets:
            judged = statuses.get(item.name or "?")
            status = judged.status.value if judged and judged.status else (judged.problem if judged else "")
            digest = _text(item.sha256)
            dataset_rows.append((_text(item.name), _text(item.version), _text(item.license),
                                 status, digest[:16] + "…" if len(digest) > 16 else digest, _text(item.uri)))
            colours.append(STATUS_COLOURS.get(status))
        digests = [_text(item.sha256) for item in datasets]
        hyper = provenance.hyperparameters
        self.replace(
            section("Origin", form(rows)),
            # The policy in a note, not the title: a group box is as wide as its title.
            section("Datasets", note(f"Licenses judged by policy {subject.policy.name}."),
                    self._datasets(dataset_rows, colours, digests)
                    if dataset_rows else note("bundle.yaml lists no datasets.")),
            section("Hyperparameters", table(("Name", "Value"), [(k, _text(v)) for k, v in hyper.items()],
                                             stretch=1, object_name="hyperparameters")
                    if hyper else note("bundle.yaml records no hyperparameters.")))

    @staticmethod
    def _datasets(rows, colours, digests):
        widget = table(("Dataset", "Version", "License", "Policy", "sha256", "Where"), rows,
                       stretch=5, colours=colours, object_name="datasets", wrap=False)
        for row, digest in enumerate(digests):
            widget.item(row, 4).setToolTip(digest)      # the whole digest, one hover away
        return widget

    def _parent(self, parent, *, linked: bool):
        if not isinstance(parent, str) or not parent:
            return ""
        reference = split_reference(parent)
        if reference is None or not linked:
            return value_label(parent + ("" if linked else "  (open the registry to follow it)"))
        label = value_label(f'<a href="{escape(parent)}">{escape(parent)}</a>', rich=True)
        label.setObjectName("parent-link")
        label.setToolTip(f"Select {parent} in the registry")
        label.linkActivated.connect(lambda _link: self.parent_requested.emit(*reference))
        return label
