"""Nothing in core/ or gui/ is dead: vulture, set up in pyproject.toml ([tool.vulture]), finds no
name there that nothing uses, and vulture_whitelist.py lists only names the code still has."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # vulture reads the whole tree

ROOT = Path(__file__).resolve().parents[1]
VULTURE = Path(sys.executable).with_name("vulture")
#: The folders judged; tests/ and packaging/ are scanned as users of what they hold.
JUDGED = ("core/", "gui/")
#: vulture's exit status when it found dead code (0 when it found none).
FOUND = 3


def _vulture(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([str(VULTURE), "--config", str(ROOT / "pyproject.toml"), *args], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode in (0, FOUND), done.stdout[-2000:] + done.stderr[-2000:]
    return done


def _whitelisted() -> list[str]:
    tree = ast.parse((ROOT / "vulture_whitelist.py").read_text(encoding="utf-8"))
    return [node.value.attr for node in tree.body
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Attribute)]


def test_nothing_in_core_or_gui_is_dead():
    found = [line for line in _vulture().stdout.splitlines() if line.startswith(JUDGED)]
    assert found == [], "remove what nothing uses (or, if Qt, a library or an entry point calls it by " \
                        "name, add it to vulture_whitelist.py with a comment saying who):\n" + "\n".join(found)


def test_the_check_reports_a_function_nothing_calls_and_spares_registered_checks(tmp_path):
    module = tmp_path / "core" / "planted.py"
    module.parent.mkdir()
    module.write_text("from modelgate.core.checks import register\n\n\n"
                      "def orphan():\n    return 1\n\n\n"
                      "@register()\ndef planted_check(ctx):\n    return ctx\n", encoding="utf-8")
    done = _vulture(str(module))
    assert done.returncode == FOUND
    assert "unused function 'orphan'" in done.stdout
    assert "planted_check" not in done.stdout


def test_every_whitelisted_name_is_still_in_the_code():
    source = "\n".join(p.read_text(encoding="utf-8") for top in ("core", "gui") for p in (ROOT / top).rglob("*.py"))
    names = _whitelisted()
    assert len(names) > 10
    stale = [name for name in names if not re.search(rf"\b{re.escape(name)}\b", source)]
    assert stale == [], f"no longer in core/ or gui/, drop from vulture_whitelist.py: {stale}"
