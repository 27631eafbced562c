"""The review workflow driven through the desktop app, end to end, on a fresh registry.

Each person acts in their own window, as they would at their own desk: the submitter
imports a demo bundle, two people approve at each stage (the submitter cannot), the
promotion to production is refused until the release officer signs in the signing
station, then it goes through, and an approver rolls it back. The registry's state and
its audit chain are checked at the end, through the core and the command line.
"""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QEnterEvent
from PySide6.QtWidgets import QApplication, QTableWidget, QToolButton

from modelgate.core.cli.main import main
from modelgate.core.demo.registry import DEMO_PASSPHRASE
from modelgate.core.registry import init_registry, open_registry, workflow
from modelgate.core.registry.policies import set_policy
from modelgate.core.registry.signatures import sign_version, trust_key
from tests.gui_support import make_window

NAME = "defect-detector"
USERS = {"farid": ["submitter", "reviewer"], "ben": ["reviewer"], "chen": ["approver"], "dana": ["approver"],
         "eve": ["signer"]}
LONG = 120_000


@pytest.fixture
def fresh(tmp_path, demo_workspace):
    """A new registry under the demo policy, with 0.9.0 already in production (signed by eve)."""
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    keys = tmp_path / "keys"
    shutil.copytree(demo_workspace / "keys", keys)
    with init_registry(url=url, user="root") as admin:
        set_policy(admin, path=demo_workspace / "policy.yaml")
        for name, roles in USERS.items():
            admin.add_user(name=name, roles=roles)
        trust_key(admin, name="eve", public_key=keys / "eve.pub")
    with open_registry(url=url, user="farid") as farid:
        farid.import_bundle(path=demo_workspace / "bundles" / f"{NAME}-0.9.0")
    steps = {"candidate": ["ben"], "staging": ["chen"], "production": ["chen", "dana"]}
    for stage, people in steps.items():
        for person in people:
            with open_registry(url=url, user=person) as registry:
                workflow.review(registry, name=NAME, version="0.9.0", decision="approve", comment="fine")
        if stage == "production":
            with open_registry(url=url, user="eve") as eve:
                sign_version(eve, name=NAME, version="0.9.0", key=keys / "eve.key",
                             passphrase=DEMO_PASSPHRASE.encode(), signer="eve")
        with open_registry(url=url, user="chen") as chen:
            workflow.promote(chen, name=NAME, version="0.9.0", to_stage=stage, reason="setup")
    return url, keys


def desk(qtbot, settings, url, user):
    """The app as ``user`` sees it, with the registry open."""
    window = make_window(qtbot, settings, registry=url, user=user)
    with qtbot.waitSignal(window.registry_panel.model.page_loaded, timeout=LONG):
        window.open_registry()
    return window


def choose(qtbot, window, ref):
    """Select ``ref`` in the listing and wait until the review panel and the actions show it at
    the stage the registry holds now (others act on it meanwhile)."""
    name, version = ref.split("@")
    with open_registry(url=window.connection.registry.url, user="root") as registry:
        stage = registry.show(name=name, version=version).info.stage
    window.registry_panel.select_version(name=name, version=version)

    def shown() -> bool:
        info, acting = window.review_panel.info, window.version_actions.info
        if info is None or info.ref != ref:
            window.registry_panel.select_version(name=name, version=version)
            return False
        return info.stage == stage and acting is not None and (acting.ref, acting.stage) == (ref, stage)

    qtbot.waitUntil(shown, timeout=LONG)
    return window.review_panel


def review(qtbot, window, ref, decision="approve", comment="Checked the card, the license and the metrics."):
    panel = choose(qtbot, window, ref)
    panel.comment.setPlainText(comment)
    assert panel.buttons[decision].isEnabled(), panel.buttons[decision].toolTip()
    with qtbot.waitSignal(panel.review_recorded, timeout=LONG) as recorded:
        qtbot.mouseClick(panel.buttons[decision], Qt.MouseButton.LeftButton)
    assert recorded.args[0].decision == decision
    qtbot.waitUntil(lambda: panel.detail is not None and panel.comment.toPlainText() == "", timeout=LONG)


def open_promotion(qtbot, window, ref, target):
    choose(qtbot, window, ref)
    window.version_actions.open_promote()
    dialog = window.version_actions.dialog
    if dialog.target != target:
        dialog.target_box.setCurrentText(target)
    qtbot.waitUntil(lambda: bool(dialog.checklist.gates) and dialog.target == target, timeout=LONG)
    return dialog


def promote(qtbot, window, ref, target):
    dialog = open_promotion(qtbot, window, ref, target)
    assert dialog.checklist.all_hold, [(g.name, g.reason) for g in dialog.checklist.gates]
    dialog.reason_edit.setText(f"ready for {target}")
    with qtbot.waitSignal(dialog.promoted, timeout=LONG) as promoted:
        qtbot.mouseClick(dialog.promote_button, Qt.MouseButton.LeftButton)
    dialog.close()
    return promoted.args[0]


@pytest.mark.slow
def test_the_whole_review_path_through_the_app(qtbot, gui_settings, fresh, demo_workspace):
    url, keys = fresh
    ref = f"{NAME}@1.0.0"

    farid = desk(qtbot, gui_settings, url, "farid")
    with qtbot.waitSignal(farid.bundle_imported, timeout=LONG) as imported:
        farid.import_bundle(path=demo_workspace / "bundles" / f"{NAME}-1.0.0")
    assert (imported.args[0].version, imported.args[0].created) == ("1.0.0", True)
    qtbot.waitUntil(lambda: farid.inspector.report is not None and farid.inspector.subject.label == ref,
                    timeout=LONG)
    assert farid.inspector.report.passed and farid.inspector.report.stage == "candidate"
    panel = choose(qtbot, farid, ref)
    panel.comment.setPlainText("My own work looks fine to me.")
    assert not panel.buttons["approve"].isEnabled()            # the submitter cannot approve
    assert "You submitted" in panel.buttons["approve"].toolTip()
    farid.close()

    ben = desk(qtbot, gui_settings, url, "ben")
    ben.sidebar.choose("queue")
    qtbot.waitUntil(lambda: ben.queue_panel.model.rowCount() == 1, timeout=LONG)
    assert ben.sidebar.title_of("queue") == "My queue  (1)"
    assert ben.queue_panel.model.item_at(0).ref == ref and ben.queue_panel.model.item_at(0).task == "review"
    ben.sidebar.choose("registry")
    review(qtbot, ben, ref)
    qtbot.waitUntil(lambda: ben.queue_panel.model.rowCount() == 0, timeout=LONG)
    dialog = open_promotion(qtbot, ben, ref, "candidate")
    assert dialog.checklist.all_hold and not dialog.promote_button.isEnabled()   # ben may not promote
    assert "needs the approver role" in dialog.promote_button.toolTip()
    dialog.close()
    ben.close()

    chen, dana = desk(qtbot, gui_settings, url, "chen"), desk(qtbot, gui_settings, url, "dana")
    assert promote(qtbot, chen, ref, "candidate").to_stage == "candidate"
    review(qtbot, chen, ref)
    assert promote(qtbot, chen, ref, "staging").to_stage == "staging"
    review(qtbot, chen, ref, comment="Staging soak is clean.")
    review(qtbot, dana, ref, comment="Dashboards and fallback checked.")

    # Approved twice, but not signed: the checklist says so and Promote stays off.
    dialog = open_promotion(qtbot, chen, ref, "production")
    assert dialog.checklist.state_of("approvals") == "met"
    assert dialog.checklist.state_of("signature") == "not met"
    assert "no release signature is recorded" in dialog.checklist.reason_of("signature")
    assert not dialog.promote_button.isEnabled() and "signature" in dialog.promote_button.toolTip()
    dialog.close()

    eve = desk(qtbot, gui_settings, url, "eve")
    choose(qtbot, eve, ref)
    eve.version_actions.open_sign()
    station = eve.version_actions.dialog
    qtbot.waitUntil(lambda: bool(station.files), timeout=LONG)
    assert "bundle.yaml" in [f for f, _size in station.files]
    assert not any(f.startswith("signatures/") for f, _size in station.files)
    station.key_edit.setText(str(keys / "eve.key"))
    station.passphrase_edit.setText("not the passphrase")
    qtbot.mouseClick(station.sign_button, Qt.MouseButton.LeftButton)
    assert station.passphrase_edit.text() == ""                 # taken from the field at once
    qtbot.waitUntil(lambda: station.message.text().startswith("Not signed"), timeout=LONG)
    assert "passphrase" in station.message.text().lower()
    assert "not the passphrase" not in station.message.text()
    station.passphrase_edit.setText(DEMO_PASSPHRASE)
    with qtbot.waitSignal(station.verified, timeout=LONG) as verified:
        qtbot.mouseClick(station.sign_button, Qt.MouseButton.LeftButton)
    report = verified.args[0]
    assert report.passed and [(c.signer, c.status) for c in report.checks] == [("eve", "valid")]
    assert "recorded" in station.message.text()
    station.close()
    eve.close()

    result = promote(qtbot, chen, ref, "production")
    assert (result.to_stage, result.superseded) == ("production", f"{NAME}@0.9.0")
    chen.close()

    dana.refresh()                      # F5: chen's promotion happened at another desk
    choose(qtbot, dana, ref)
    assert dana.version_actions.actions["rollback"].isEnabled()
    dana.version_actions.open_rollback()
    rollback = dana.version_actions.dialog
    qtbot.waitUntil(lambda: rollback.target is not None, timeout=LONG)
    assert rollback.target == "0.9.0" and not rollback.rollback_button.isEnabled()
    rollback.reason_edit.setText("The int8 variant misreads scratches on line 3.")
    rollback.confirm.setChecked(True)
    qtbot.waitUntil(lambda: rollback.gates is not None, timeout=LONG)     # today's production gates
    with qtbot.waitSignal(rollback.rolled_back, timeout=LONG) as rolled:
        qtbot.mouseClick(rollback.rollback_button, Qt.MouseButton.LeftButton)
    assert (rolled.args[0].restored, rolled.args[0].demoted) == (f"{NAME}@0.9.0", ref)
    rollback.close()
    dana.close()

    with open_registry(url=url, user="root") as registry:
        stages = {v.version: v.stage for v in registry.list_versions(name=NAME)}
        assert stages == {"0.9.0": "production", "1.0.0": "deprecated"}
        detail = registry.show(name=NAME, version="1.0.0")
        assert [(r.reviewer, r.stage) for r in detail.reviews] == [
            ("ben", "draft"), ("chen", "candidate"), ("chen", "staging"), ("dana", "staging")]
        assert [(p.to_stage, p.kind, p.actor) for p in detail.promotions] == [
            ("candidate", "promote", "chen"), ("staging", "promote", "chen"),
            ("production", "promote", "chen"), ("deprecated", "rollback", "dana")]
        assert [(s.signer, s.verified) for s in detail.signatures] == [("eve", True)]
        actions = [e.action for e in registry.audit_log(subject=ref)]
        assert "signature.add" in actions and "rollback" in actions
        assert registry.verify_audit().ok
    assert main(["audit", "verify", "--registry", url, "--user", "root"]) == 0


def reviewed_draft_promotion(qtbot, settings, url, demo_workspace):
    """1.0.0 imported by farid and approved by ben; chen's promotion dialog for candidate."""
    with open_registry(url=url, user="farid") as farid:
        farid.import_bundle(path=demo_workspace / "bundles" / f"{NAME}-1.0.0")
    with open_registry(url=url, user="ben") as ben:
        workflow.review(ben, name=NAME, version="1.0.0", decision="approve", comment="fine")
    return open_promotion(qtbot, desk(qtbot, settings, url, "chen"), f"{NAME}@1.0.0", "candidate")


@pytest.mark.slow
def test_a_promotion_refused_at_the_last_moment_says_why_and_is_audited(qtbot, gui_settings, fresh, demo_workspace):
    url, _keys = fresh
    dialog = reviewed_draft_promotion(qtbot, gui_settings, url, demo_workspace)
    assert dialog.checklist.all_hold and dialog.promote_button.isEnabled()
    # Meanwhile, at another desk, the reviewer changes their mind.
    with open_registry(url=url, user="ben") as ben:
        workflow.review(ben, name=NAME, version="1.0.0", decision="reject", comment="wrong threshold")
    qtbot.mouseClick(dialog.promote_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.outcome.text().startswith("Refused"), timeout=LONG)
    assert dialog.checklist.state_of("approvals") == "not met"
    assert "ben chose reject: wrong threshold" in dialog.checklist.reason_of("approvals")
    assert not dialog.promote_button.isEnabled()
    dialog.close()
    with open_registry(url=url, user="root") as registry:
        assert registry.show(name=NAME, version="1.0.0").info.stage == "draft"
        assert registry.audit_log(action="promote.refused")[-1].actor == "chen"


@pytest.mark.slow
def test_the_signing_station_shows_a_revoked_key_as_revoked(qtbot, gui_settings, fresh):
    from modelgate.core.registry.signatures import revoke_key, trusted_keys

    url, _ = fresh
    with open_registry(url=url, user="root") as registry:  # root made the registry: its admin
        fingerprint = next(k.fingerprint for k in trusted_keys(registry) if k.name == "eve")
        revoke_key(registry, fingerprint=fingerprint, reason="key lost")
    ben = desk(qtbot, gui_settings, url, "ben")
    choose(qtbot, ben, f"{NAME}@0.9.0")                     # in production, signed by eve
    ben.version_actions.open_sign()
    station = ben.version_actions.dialog
    qtbot.waitUntil(lambda: station.findChild(QTableWidget, "verify-results") is not None, timeout=LONG)
    results = station.findChild(QTableWidget, "verify-results")
    row = [results.item(0, c).text() for c in (0, 2, 3)]
    assert row[:2] == ["eve", "revoked"] and "revoked on" in row[2] and "key lost" in row[2]
    station.close()


@pytest.mark.slow
def test_people_without_the_role_see_why_each_action_is_off(qtbot, gui_settings, fresh):
    url, keys = fresh
    ref = f"{NAME}@0.9.0"                                   # in production, signed by eve
    ben = desk(qtbot, gui_settings, url, "ben")
    panel = choose(qtbot, ben, ref)
    panel.comment.setPlainText("Looks fine")
    assert not panel.buttons["approve"].isEnabled() and "at production" in panel.buttons["approve"].toolTip()
    # Hovering a disabled button puts the reason in the status bar as well.
    QApplication.sendEvent(panel.buttons["approve"], QEnterEvent(QPointF(5, 5), QPointF(5, 5), QPointF(5, 5)))
    assert ben.statusBar().currentMessage() == panel.buttons["approve"].toolTip()
    QApplication.sendEvent(panel.buttons["approve"], QEvent(QEvent.Type.Leave))
    assert ben.statusBar().currentMessage() == ""
    push = panel.findChild(QToolButton, "workflow-push")
    assert not push.isEnabled() and push.toolTip() == "Only a signer or an admin pushes a version to an OCI registry."
    assert ben.version_actions.actions["push"].statusTip() == push.toolTip()
    QApplication.sendEvent(push, QEnterEvent(QPointF(5, 5), QPointF(5, 5), QPointF(5, 5)))
    assert ben.statusBar().currentMessage() == push.toolTip()
    ben.version_actions.open_sign()
    station = ben.version_actions.dialog
    station.key_edit.setText(str(keys / "eve.key"))
    station.passphrase_edit.setText(DEMO_PASSPHRASE)
    assert not station.sign_button.isEnabled()
    assert station.sign_button.toolTip() == "You (ben) hold reviewer; signing needs the signer role."
    # Verifying needs no role; the station verifies as it opens.
    qtbot.waitUntil(lambda: station.findChild(QTableWidget, "verify-results") is not None, timeout=LONG)
    results = station.findChild(QTableWidget, "verify-results")
    assert [results.item(0, c).text() for c in (0, 2)] == ["eve", "valid"]
    station.close()
    ben.version_actions.open_rollback()
    rollback = ben.version_actions.dialog
    rollback.reason_edit.setText("just because")
    rollback.confirm.setChecked(True)
    assert not rollback.rollback_button.isEnabled()
    assert "a rollback needs the approver role" in rollback.rollback_button.toolTip()
    rollback.close()


def test_the_queue_count_keeps_up_with_work_done_at_other_desks(qtbot, gui_settings, fresh, demo_workspace):
    url, _keys = fresh
    ben = desk(qtbot, gui_settings, url, "ben")
    qtbot.waitUntil(lambda: ben.queue_panel.queue is not None, timeout=LONG)
    assert ben.sidebar.title_of("queue") == "My queue  (0)"
    with open_registry(url=url, user="farid") as farid:
        farid.import_bundle(path=demo_workspace / "bundles" / f"{NAME}-1.0.0")
    ben.queue_timer.setInterval(50)
    qtbot.waitUntil(lambda: ben.sidebar.title_of("queue") == "My queue  (1)", timeout=LONG)


@pytest.mark.slow
def test_a_submitter_may_lift_only_their_own_block(qtbot, gui_settings, fresh, demo_workspace):
    url, _keys = fresh
    ref = f"{NAME}@1.0.0"
    with open_registry(url=url, user="farid") as farid:           # submitter and reviewer
        farid.import_bundle(path=demo_workspace / "bundles" / f"{NAME}-1.0.0")
        workflow.review(farid, name=NAME, version="1.0.0", decision="request-changes", comment="wait for me")
    window = desk(qtbot, gui_settings, url, "farid")
    panel = choose(qtbot, window, ref)
    qtbot.waitUntil(lambda: panel.detail is not None and len(panel.detail.reviews) == 1, timeout=LONG)
    panel.comment.setPlainText("Done: the classes are fixed.")
    assert panel.buttons["approve"].isEnabled(), panel.buttons["approve"].toolTip()
    assert not panel.buttons["reject"].isEnabled()
    assert "approving lifts your own request-changes" in panel.buttons["reject"].toolTip()
    with qtbot.waitSignal(panel.review_recorded, timeout=LONG):
        qtbot.mouseClick(panel.buttons["approve"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.detail is not None and len(panel.detail.reviews) == 2, timeout=LONG)
    panel.comment.setPlainText("And once more")
    assert not panel.buttons["approve"].isEnabled()              # nothing of theirs left to lift


@pytest.mark.slow
def test_a_promotion_under_way_cannot_be_repeated_or_walked_away_from(qtbot, gui_settings, fresh, demo_workspace):
    url, _keys = fresh
    dialog = reviewed_draft_promotion(qtbot, gui_settings, url, demo_workspace)
    with qtbot.waitSignal(dialog.promoted, timeout=LONG) as promoted:
        qtbot.mouseClick(dialog.promote_button, Qt.MouseButton.LeftButton)
        assert dialog.promoting and not dialog.promote_button.isEnabled()
        dialog.reject()                                              # Close is refused meanwhile
        assert dialog.isVisible()
        dialog.check()                                               # and no check re-enables Promote
        assert not dialog.promote_button.isEnabled()
    assert promoted.args[0].moved and not dialog.promote_button.isEnabled()
    with open_registry(url=url, user="root") as registry:
        assert len(registry.audit_log(action="promote")) == 4          # three for 0.9.0, one now


@pytest.mark.slow
def test_a_review_recorded_while_the_listing_reselects_the_version_clears_its_comment(qtbot, gui_settings,
                                                                                     demo_registry_copy):
    """The listing refreshes behind the panel (another user's change, the queue's minute) and
    selects the same version again while a review is being recorded: the comment it was about
    is still cleared and the panel shows the version's reviews again."""
    chen = desk(qtbot, gui_settings, demo_registry_copy, "chen")
    with open_registry(url=demo_registry_copy, user="chen") as registry:
        from modelgate.core.registry.queue import work_queue

        item = work_queue(registry).items[0]
    panel = choose(qtbot, chen, item.ref)
    panel.comment.setPlainText("Checked the card, the license and the metrics.")
    info = panel.info
    with qtbot.waitSignal(panel.review_recorded, timeout=LONG):
        qtbot.mouseClick(panel.buttons[item.task], Qt.MouseButton.LeftButton)
        panel.expect_version(info)          # the listing's refresh selecting it again, meanwhile
    qtbot.waitUntil(lambda: panel.detail is not None and panel.comment.toPlainText() == "", timeout=LONG)
    assert panel.info.ref == item.ref
