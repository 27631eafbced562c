"""The documents say what the code is: the architecture picture is the one the contracts draw,
and every module, function and path the documents cite exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from tests import architecture_diagram as diagram

ROOT = diagram.ROOT
#: The documents a newcomer reads; each path and dotted name they cite must exist.
DOCUMENTS = [ROOT / "README.md", ROOT / "packaging" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: Paths inside the project, as documents cite them (``core/registry/pgwrites.py``, ``tests/fuzz/``).
CITED_PATH = re.compile(r"(?<![\w./-])((?:core|gui|tests|resources|packaging|docs)/[\w./-]*)")
#: Dotted names of the project's modules and what they define (``modelgate.core.checks.engine.validate_bundle``).
CITED_NAME = re.compile(r"\bmodelgate\.(?:core|gui)(?:\.\w+)+")
#: A path that goes on into a placeholder (``corpus/<document type>/``, ``v*-key``) names a family, not a file.
PLACEHOLDER = re.compile(r"[<*{]")


#: A Markdown link to a file of the project: ``[packaging/ci/](packaging/ci/)``.
LINK = re.compile(r"\]\((?!https?:|mailto:|#)([^)\s#]+)")


def missing_paths(text: str, *, base: Path) -> list[str]:
    """Paths ``text`` cites between backticks or links to that exist neither under the project's
    root nor under ``base`` (the document's folder)."""
    missing = [link for link in LINK.findall(text) if not (base / link).exists()]
    for quoted in re.findall(r"`([^`]+)`", text):
        for match in CITED_PATH.finditer(quoted):
            path = match.group(1).rstrip(".")
            if PLACEHOLDER.match(quoted, match.end()):
                path = path.rsplit("/", 1)[0]  # check the folder the family lives in
            if not ((ROOT / path).exists() or (base / path).exists()):
                missing.append(path)
    return missing


def unresolved_names(text: str) -> list[str]:
    """Dotted names ``text`` cites that no import and attribute lookup reaches."""
    unresolved = []
    for name in sorted(set(CITED_NAME.findall(text))):
        parts = name.split(".")
        for cut in range(len(parts), 1, -1):
            try:
                target = importlib.import_module(".".join(parts[:cut]))
            except ModuleNotFoundError:
                continue
            try:
                for attribute in parts[cut:]:
                    target = getattr(target, attribute)
            except AttributeError:
                unresolved.append(name)
            break
        else:
            unresolved.append(name)
    return unresolved


def test_the_architecture_document_draws_the_current_contracts_and_packages():
    text = diagram.DOCUMENT.read_text(encoding="utf-8")
    assert diagram.regenerate(text, sections=diagram.generated_sections()) == text, (
        "docs/architecture.md is out of date: run `python -m tests.architecture_diagram --write`")
    assert "```mermaid\nflowchart TB" in text


def test_a_stale_picture_is_rewritten():
    stale = "intro\n<!-- generated: layers -->\nold picture\n<!-- end -->\nafter\n"
    fresh = diagram.regenerate(stale, sections={"layers": "new picture\n"})
    assert fresh == "intro\n<!-- generated: layers -->\nnew picture\n<!-- end -->\nafter\n"
    with pytest.raises(SystemExit, match="nothing writes"):
        diagram.regenerate(stale, sections={"packages": ""})


def test_the_picture_follows_each_layer_and_forbidden_import():
    contracts = [
        {"type": "layers", "layers": ["modelgate.gui", "modelgate.core.a | modelgate.core.b", "modelgate.core.c"]},
        {"type": "forbidden", "source_modules": ["modelgate.core"], "forbidden_modules": ["PySide6"]},
    ]
    picture = diagram.layers_flowchart(contract_list=contracts)
    assert 'subgraph L1["independent siblings"]' in picture
    assert 'core_a["core.a"]' in picture and 'core_b["core.b"]' in picture
    assert "L0 --> L1" in picture and "L1 --> L2" in picture
    assert "core -. never imports .-x PySide6" in picture
    contracts[0]["layers"].append("modelgate.core.d")
    assert "L2 --> L3" in diagram.layers_flowchart(contract_list=contracts)


def test_every_package_has_its_line_in_the_list():
    table = diagram.packages_table()
    packages = [p.parent for top in ("core", "gui") for p in (ROOT / top).rglob("__init__.py")
                if p.parent.name not in ("core", "gui") and "migrations" not in p.parts]
    assert packages
    for folder in packages:
        assert f"| `{folder.relative_to(ROOT).as_posix()}/` |" in table


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_path_a_document_cites_exists(document):
    assert missing_paths(document.read_text(encoding="utf-8"), base=document.parent) == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_module_and_function_a_document_cites_exists(document):
    assert unresolved_names(document.read_text(encoding="utf-8")) == []


def test_the_architecture_document_cites_the_code_it_walks_through():
    cited = set(CITED_NAME.findall(diagram.DOCUMENT.read_text(encoding="utf-8")))
    assert {"modelgate.core.checks.engine.validate_bundle", "modelgate.core.registry.workflow.promote",
            "modelgate.core.registry.audit.append"} <= cited


def test_a_path_or_name_that_does_not_exist_is_reported():
    text = ("See `core/registry/pgwrites.py`, `core/registry/gone.py`, `tests/fuzz/corpus/<type>/`, "
            "`tests/nowhere/<type>/`, `packaging/system-deps.sh list base`, [CI](packaging/ci/), "
            "[old](gui/launch.py), [web](https://example.org/x) and [here](#a-heading).")
    assert missing_paths(text, base=ROOT) == ["gui/launch.py", "core/registry/gone.py", "tests/nowhere"]
    names = "`modelgate.core.checks.engine.validate_bundle`, `modelgate.core.checks.engine.nothing`, `modelgate.core.nope.x`"
    assert unresolved_names(names) == ["modelgate.core.checks.engine.nothing", "modelgate.core.nope.x"]
