"""The review workflows and the audit log for ``make screenshots``, each as the person who meets
it on the demo.

Works on a scratch copy of the demo registry: checking gates records validation runs,
and the demo workspace must stay as ``modelgate demo`` made it.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from modelgate.core.demo.registry import DEMO_PASSPHRASE, KEYS_DIR, SIGNER


def scratch_registry(*, demo: Path, scratch: Path) -> str:
    """A private copy of the demo registry (database and store); its URL."""
    target = scratch / "registry"
    target.mkdir()
    shutil.copy2(demo / "registry.db", target / "registry.db")
    shutil.copytree(demo / "registry.store", target / "registry.store", symlinks=True)
    return f"sqlite:///{target / 'registry.db'}"


def shoot_workflows(app, *, demo: Path, scratch: Path, out: Path, open_window, wait) -> list[Path]:
    """Write the workflow screenshots; ``open_window(url, user)`` gives a shown main window with
    the registry open, ``wait(done, what)`` runs the event loop until ``done()``."""
    url = scratch_registry(demo=demo, scratch=scratch)
    written = []

    def save(widget, name: str) -> None:
        app.processEvents()
        path = out / name
        widget.grab().save(str(path))
        written.append(path)

    def choose(window, ref: str) -> None:
        name, version = ref.split("@")
        window.registry_panel.select_version(name=name, version=version)
        wait(lambda: window.review_panel.detail is not None and window.review_panel.info.ref == ref,
             f"{ref} in the review panel")

    chen = open_window(url, "chen")
    chen.sidebar.choose("queue")
    wait(lambda: chen.queue_panel.model.rowCount() > 0, "chen's queue")
    chen.queue_panel.table.selectRow(0)
    wait(lambda: chen.review_panel.detail is not None and chen.inspector.report is not None, "the queued version")
    chen.review_panel.comment.setPlainText("Accuracy regressed against 1.1.0 beyond what staging allows; "
                                           "the inquiries_6m column came in as zeros.")
    save(chen, "12-my-queue-and-review-panel.png")
    chen.version_actions.open_promote()
    dialog = chen.version_actions.dialog
    dialog.reason_edit.setText("Quarterly refit")
    wait(lambda: bool(dialog.checklist.gates), "the promotion gates")
    dialog.resize(820, 460)
    save(dialog, "13-promotion-checklist-unmet.png")
    dialog.close()
    chen.close()

    eve = open_window(url, SIGNER)
    choose(eve, "credit-risk@1.1.0")
    eve.version_actions.open_sign()
    station = eve.version_actions.dialog
    station.key_edit.setText(str(demo / KEYS_DIR / f"{SIGNER}.key"))
    station.passphrase_edit.setText(DEMO_PASSPHRASE)
    wait(lambda: bool(station.files) and station.verify_box.count() > 0 and station.verify_button.isEnabled(),
         "the signing station's verification")
    save(station, "14-signing-station.png")
    station.close()
    eve.close()

    dana = open_window(url, "dana")
    choose(dana, "defect-detector@0.9.0")
    dana.version_actions.open_rollback()
    rollback = dana.version_actions.dialog
    wait(lambda: rollback.target is not None, "the versions to restore")
    wait(lambda: rollback.gates is not None, "the production gates of the version to restore")
    rollback.reason_edit.setText("1.0.0's dent filter was fixed in its config; bring it back")
    save(rollback, "15-rollback.png")
    rollback.close()
    dana.close()

    ben = open_window(url, "ben")
    ben.sidebar.choose("audit")
    view = ben.audit_view
    wait(lambda: view.model.rowCount() > 0 and view.values is not None, "the audit log")
    checks = []
    view.chain_verified.connect(checks.append)
    view.verify_chain()
    wait(lambda: bool(checks), "the audit chain to verify")
    save(ben, "17-audit-log-verified.png")
    # Someone edits an event behind the registry's back: the view shows where the chain breaks.
    with sqlite3.connect(url.removeprefix("sqlite:///")) as database:
        database.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 30")
    checks.clear()
    view.verify_chain()
    wait(lambda: bool(checks) and view.table.currentIndex().isValid(), "the broken chain to show")
    save(ben, "18-audit-chain-broken.png")
    ben.close()
    return written
