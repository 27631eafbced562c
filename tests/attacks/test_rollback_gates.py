"""Attacks on rollback: restoring a version that would not pass today's production gates.

On the demo workspace defect-detector 1.0.0 was rolled back to 0.9.0, so 1.0.0 is a deprecated
version that may come back by name. Each attack is refused with exit 1, every gate named, one
refusal event, and nothing else in the registry changes.
"""

from __future__ import annotations

import pytest

from modelgate.core.demo.registry import ADMIN
from tests.attacks._rollback_support import demo_copy, eve_fingerprint, flip_byte, gate_line, model_file

pytestmark = pytest.mark.slow

MODEL = "defect-detector"


@pytest.fixture()
def demo(demo_workspace, tmp_path):
    return demo_copy(demo_workspace, tmp_path)


def _revoke_eve(demo, capsys) -> None:
    code, _, err = demo.run(capsys, "keys", "revoke", eve_fingerprint(demo), "--reason", "key leaked")
    assert code == 0, err


def test_a_version_signed_only_by_a_revoked_key_is_not_rolled_back(demo, capsys):
    _revoke_eve(demo, capsys)
    before = demo.snapshot()

    code, out, err = demo.run(capsys, "rollback", MODEL, "--to", "1.0.0", "--reason", "x", user="dana")

    assert code == 1, out + err
    assert "nothing was rolled back" in err and "--break-glass" in err
    signature_line = gate_line(out, "signature")
    assert "✘" in signature_line and "no longer trusted" in signature_line
    after = demo.snapshot()
    assert {k: v for k, v in after.items() if k != "events"} == \
        {k: v for k, v in before.items() if k != "events"}
    new = demo.events_since(before)
    assert [(action, subject) for _, action, subject in new] == [("rollback.refused", MODEL)]
    unmet = {gate["name"] for gate in demo.payload(new[0][0])["unmet"]}
    assert "signature" in unmet


def test_the_same_rollback_passes_while_the_key_is_trusted(demo, capsys):
    """The control case: without the revocation the signature gate holds."""
    code, out, err = demo.run(capsys, "rollback", MODEL, "--to", "1.0.0", "--reason", "x", user="dana")
    assert code == 0 and "✔" in gate_line(out, "signature"), out + err
    assert demo.sql("SELECT v.stage FROM versions v WHERE v.version = '1.0.0' AND v.model_id = "
                    "(SELECT id FROM models WHERE name = :n)", n=MODEL)[0][0] == "production"


def test_a_damaged_stored_copy_is_not_rolled_back_even_by_break_glass(demo, capsys):
    flip_byte(model_file(demo.stored_folder(MODEL, "1.0.0")))
    before = demo.snapshot()

    for extra, user in (((), "dana"), (("--break-glass",), ADMIN)):
        code, out, err = demo.run(capsys, "rollback", MODEL, "--to", "1.0.0", "--reason", "x", *extra,
                                  user=user)
        assert code == 1, out + err
        copy_line = gate_line(out, "stored copy")
        assert "✘" in copy_line and "changed: model/" in copy_line and ".onnx" in copy_line
        assert "Digest(" not in out + err and "StoreCheck(" not in out + err

    after = demo.snapshot()
    assert after["stages"] == before["stages"] and after["promotions"] == before["promotions"]
    actions = [action for _, action, _ in demo.events_since(before)]
    # The damage is marked once, and each attempt is a refusal; nothing was restored.
    assert actions == ["store.damaged", "rollback.refused", "rollback.refused"]
    assert len(after["damage"]) == 1


def test_break_glass_is_for_admins_only(demo, capsys):
    _revoke_eve(demo, capsys)
    before = demo.snapshot()

    code, out, err = demo.run(capsys, "rollback", MODEL, "--to", "1.0.0", "--reason", "x", "--break-glass",
                              user="dana")

    assert code == 1 and "lacks the admin role" in err
    after = demo.snapshot()
    assert {k: v for k, v in after.items() if k != "events"} == \
        {k: v for k, v in before.items() if k != "events"}
    assert [action for _, action, _ in demo.events_since(before)] == ["denied"]


def test_break_glass_restores_loudly_until_a_normal_promotion_replaces_it(demo, capsys):
    _revoke_eve(demo, capsys)
    before = demo.snapshot()

    code, out, err = demo.run(capsys, "rollback", MODEL, "--to", "1.0.0", "--reason", "line 3 is down",
                              "--break-glass")

    assert code == 0, out + err
    assert "BREAK-GLASS" in out and "signature" in out
    new = demo.events_since(before)
    glass = [(seq, subject) for seq, action, subject in new if action == "rollback.break-glass"]
    assert glass and glass[0][1] == f"{MODEL}@1.0.0"
    failed = {gate["name"] for gate in demo.payload(glass[0][0])["failed_gates"]}
    assert "signature" in failed
    kinds = demo.sql("SELECT p.kind FROM promotions p JOIN versions v ON v.id = p.version_id "
                     "WHERE v.version = '1.0.0' ORDER BY p.id DESC LIMIT 1")
    assert kinds == [("break-glass",)]

    code, out, _ = demo.run(capsys, "registry", "show", f"{MODEL}@1.0.0")
    assert code == 0 and "RESTORED BY BREAK-GLASS" in out and ADMIN in out and "line 3 is down" in out
    code, out, _ = demo.run(capsys, "registry", "list", "--name", MODEL)
    assert code == 0 and "BREAK-GLASS by " + ADMIN in out
    code, out, _ = demo.run(capsys, "registry", "list", "--name", MODEL, "--json")
    assert code == 0 and '"break_glass_by": "' + ADMIN + '"' in out

    # The mark goes with the stage: once 1.0.0 leaves production it is no longer flagged.
    code, out, err = demo.run(capsys, "rollback", MODEL, "--to", "0.9.0", "--reason", "back", "--break-glass")
    assert code == 0, out + err
    code, out, _ = demo.run(capsys, "registry", "show", f"{MODEL}@1.0.0")
    assert code == 0 and "BREAK-GLASS" not in out


def test_break_glass_when_every_gate_holds_is_an_ordinary_rollback(demo, capsys):
    code, out, err = demo.run(capsys, "rollback", MODEL, "--to", "1.0.0", "--reason", "x", "--break-glass")
    assert code == 0 and "no break-glass needed" in out, out + err
    assert not demo.sql("SELECT seq FROM audit_events WHERE action = 'rollback.break-glass'")


def test_a_gate_the_policy_does_not_require_is_never_a_red_cross(demo, capsys):
    """Promoting to staging, where the demo policy asks for no signature."""
    code, out, err = demo.run(capsys, "promote", "credit-risk@1.2.0", "--to", "staging", user="chen")
    line = gate_line(out, "signature")
    assert line.lstrip().startswith("–") and "✘" not in line and "not required for staging" in line, out + err


def test_a_signature_whose_key_left_the_trust_store_does_not_count(demo, capsys):
    """Deleting the key's row (not revoking it) must not turn its signatures into trusted ones."""
    demo.sql("DELETE FROM trusted_keys WHERE name = 'eve'")
    before = demo.snapshot()
    code, out, err = demo.run(capsys, "rollback", MODEL, "--to", "1.0.0", "--reason", "x", user="dana")
    assert code == 1 and "no longer trusted" in gate_line(out, "signature"), out + err
    assert demo.snapshot()["stages"] == before["stages"]


def test_a_signature_record_edited_in_the_database_does_not_count(demo, capsys):
    """The record says "verified", but the document no longer verifies against the stored bytes."""
    (count,) = demo.sql("SELECT count(*) FROM signatures s JOIN versions v ON v.id = s.version_id "
                        "WHERE v.version = '1.0.0' AND v.model_id = (SELECT id FROM models WHERE name = :n)",
                        n=MODEL)[0]
    assert count == 1
    # One character of the signed payload changed: the envelope's signature no longer covers it.
    demo.sql("UPDATE signatures SET document = replace(document, '\"payload\":\"ew', '\"payload\":\"eX') "
             "WHERE version_id = (SELECT v.id FROM versions v JOIN models m ON m.id = v.model_id "
             "WHERE m.name = :n AND v.version = '1.0.0')", n=MODEL)
    before = demo.snapshot()
    code, out, err = demo.run(capsys, "rollback", MODEL, "--to", "1.0.0", "--reason", "x", user="dana")
    assert code == 1, out + err
    assert "does not verify against the stored bytes" in gate_line(out, "signature")
    assert {k: v for k, v in demo.snapshot().items() if k != "events"} == \
        {k: v for k, v in before.items() if k != "events"}
