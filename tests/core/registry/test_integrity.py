"""The store's integrity checks, file by file: inspecting, verified reads, the kept file lists,
housekeeping of interrupted imports, and how gates that are not required are shown."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

import pytest

from modelgate.core.registry.errors import StoreDamaged
from modelgate.core.registry.gates import MET, NOT_MET, GateResult
from modelgate.core.store.folder import BundleStore
from tests.attacks._rollback_support import flip_byte, writable


@pytest.fixture
def stored(admin_registry, template):
    """``(store, digest, folder)`` of the template imported into a new registry."""
    result = admin_registry.import_bundle(path=template)
    return admin_registry.store, result.digest, result.store_path


def test_an_intact_copy_inspects_clean(stored):
    store, digest, _ = stored
    check = store.inspect(digest)
    assert check.intact and check.describe() == "intact" and store.verify(digest) is None


def test_inspect_names_missing_changed_and_extra_files(stored):
    store, digest, folder = stored
    flip_byte(folder / "MODEL_CARD.md")
    writable(folder / "LICENSE")
    (folder / "LICENSE").unlink()
    (folder / "notes.txt").write_text("planted")
    check = store.inspect(digest)
    assert (check.missing, check.changed, check.extra) == (("LICENSE",), ("MODEL_CARD.md",), ("notes.txt",))
    assert "changed after import" in store.verify(digest) and "MODEL_CARD.md" in store.verify(digest)


def test_a_missing_folder_names_every_file(stored):
    store, digest, folder = stored
    from modelgate.core.store.folder import remove_tree

    remove_tree(folder)
    check = store.inspect(digest)
    assert "bundle.yaml" in check.missing and not check.intact


def test_a_file_list_that_does_not_hash_to_the_digest_is_ignored(stored):
    store, digest, folder = stored
    listing = store.listing_path(digest)
    listing.write_bytes(listing.read_bytes().replace(b'"LICENSE"', b'"LICENSE2"'))
    assert store.listing(digest) is None
    # Without a trustworthy list an intact copy is still intact, and the list is kept again.
    assert store.inspect(digest).intact and store.listing(digest) is not None
    flip_byte(folder / "MODEL_CARD.md")
    listing.write_bytes(b"{}")
    check = store.inspect(digest)
    assert not check.intact and "no longer hash to its digest" in check.problem


def test_verified_reads_check_the_bytes_as_they_stream(stored):
    store, digest, folder = stored
    assert store.read_verified(digest, "LICENSE") == (folder / "LICENSE").read_bytes()
    with store.open_verified(digest, "LICENSE") as reader:      # chunked reads, checked at the end
        while reader.read(3):
            pass
    flip_byte(folder / "LICENSE")
    with pytest.raises(StoreDamaged, match="LICENSE of the stored bundle .* was changed after import"):
        store.read_verified(digest, "LICENSE")
    with pytest.raises(StoreDamaged, match="not part of the stored bundle"):
        store.read_verified(digest, "../registry.db")


def test_write_listing_refuses_a_list_of_other_bytes(tmp_path):
    from modelgate.core.store.errors import StoreError

    with pytest.raises(StoreError):
        BundleStore(tmp_path).write_listing("0" * 64, {"a": "b"})


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_interrupted_imports_are_removed_old_or_dead_and_logged(tmp_path, caplog):
    store = BundleStore(tmp_path)
    incoming = tmp_path / ".incoming"
    old, dead, live, young = (incoming / name for name in
                              ("import-1-old", f"import-{_dead_pid()}-dead", f"import-{os.getpid()}-live",
                               "import-x-young"))
    for folder in (old, dead, live, young):
        folder.mkdir(parents=True)
        (folder / "bundle.yaml").write_text("half")
    os.chmod(dead / "bundle.yaml", 0o444)       # the copy is made read-only before its rename
    hour_ago = time.time() - 3600
    os.utime(old, (hour_ago, hour_ago))
    with caplog.at_level(logging.INFO, logger="modelgate.store"):
        removed = store.clean_incoming()
    assert sorted(removed) == sorted([old.name, dead.name])
    assert live.exists() and young.exists() and not old.exists() and not dead.exists()
    assert sum("interrupted import" in record.message for record in caplog.records) == 2


def test_opening_a_registry_cleans_the_incoming_area(backend, template):
    registry = backend.init()
    leftover = registry.store_root / ".incoming" / "import-1-crashed"
    leftover.mkdir(parents=True)
    os.utime(leftover, (time.time() - 3600,) * 2)
    registry.close()
    backend.open().close()
    assert not leftover.exists()


def test_a_helper_process_opening_the_registry_leaves_the_incoming_area_alone(backend, template):
    """The desktop app's worker processes open the registry the app opened: what lies in its
    incoming area may be the app's own working copy, however old, so they leave it."""
    from modelgate.core.registry import open_registry

    registry = backend.init()
    leftover = registry.store_root / ".incoming" / "import-1-working-copy"
    leftover.mkdir(parents=True)
    os.utime(leftover, (time.time() - 3600,) * 2)
    registry.close()
    url, user = backend.login(backend.admin)
    open_registry(url=url, user=user, store=backend.store, housekeeping=False).close()
    assert leftover.exists()
    backend.open().close()
    assert not leftover.exists()


def test_a_gate_that_is_not_required_has_a_neutral_mark_in_the_cli():
    from modelgate.core.cli.registry_text import render_gates

    shown = render_gates([GateResult("signature", NOT_MET, "not required for staging by the policy",
                                     required=False),
                          GateResult("approvals", MET, "not required for staging", required=False),
                          GateResult("validation", NOT_MET, "1 error(s)")])
    lines = shown.splitlines()
    assert "–" in lines[0] and "✘" not in lines[0]
    assert "–" in lines[1] and "✔" not in lines[1]
    assert "✘" in lines[2]


def test_promoting_to_a_stage_without_a_signature_requirement_says_so(admin_registry, template):
    from modelgate.core.registry.gates import _signature  # the gate's own wording
    from modelgate.core.registry.models import Version
    from modelgate.core.registry.policies import policy_in_force

    result = admin_registry.import_bundle(path=template)
    policy = policy_in_force(admin_registry)
    with admin_registry.session() as session:
        row = session.query(Version).filter_by(digest=result.digest).one()
        gate = _signature(session, row, to_stage="candidate", policy=policy)
    assert not gate.required and not gate.blocking
    assert gate.reason.startswith("not required for candidate")


def test_a_planted_link_is_named_not_followed(stored, tmp_path):
    store, digest, folder = stored
    outside = tmp_path / "outside.txt"
    outside.write_text("not part of the bundle")
    os.symlink(outside, folder / "model" / "linked.onnx")
    check = store.inspect(digest)
    assert check.extra == ("model/linked.onnx",) and not check.changed


def test_reimporting_over_a_vanished_copy_reports_it_and_does_not_restore_it(admin_registry, template):
    from modelgate.core.store.folder import remove_tree

    result = admin_registry.import_bundle(path=template)
    remove_tree(result.store_path)
    with pytest.raises(StoreDamaged) as refused:
        admin_registry.import_bundle(path=template)
    assert "modelgate registry repair tiny-classifier@1.0.0 BUNDLE" in refused.value.explain()
    assert "missing: " in refused.value.message and "bundle.yaml" in refused.value.message
    assert not result.store_path.exists()
    assert [e.action for e in admin_registry.audit_log()][-1] == "store.damaged"


def test_the_search_index_reads_only_verified_manifests(stored):
    from modelgate.core.registry.facets import Facets, read_facets

    store, digest, folder = stored
    assert "tabular" in read_facets(store, [digest])[digest].tags
    writable(folder / "bundle.yaml")
    (folder / "bundle.yaml").write_text((folder / "bundle.yaml").read_text().replace("tabular", "planted"))
    assert read_facets(store, [digest])[digest] == Facets()
