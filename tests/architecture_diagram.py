"""The generated parts of docs/architecture.md: the layers picture and the list of packages.

The picture is drawn from the import-linter contracts in pyproject.toml (the same contracts
``lint-imports`` enforces), and the list from each package's own docstring, so neither can drift
from the code by hand. tests/test_docs.py fails when the document differs from what this writes.

    python -m tests.architecture_diagram            # print both parts
    python -m tests.architecture_diagram --write    # rewrite them in docs/architecture.md
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "docs" / "architecture.md"
#: Where each installed package's source folder is (pyproject's [tool.setuptools.package-dir]).
SOURCES = {"modelgate.core": ROOT / "core", "modelgate.gui": ROOT / "gui"}
#: The markers around each generated part of the document: ``<!-- generated: NAME -->`` ... ``<!-- end -->``.
SECTION = re.compile(r"(<!-- generated: (?P<name>[a-z-]+) -->\n)(?P<body>.*?)(<!-- end -->)", re.S)


def contracts(*, pyproject: Path = ROOT / "pyproject.toml") -> list[dict]:
    """The import-linter contracts declared in ``pyproject``."""
    return tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]


def _short(module: str) -> str:
    return module.removeprefix("modelgate.")


def _node_id(module: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", _short(module))


def layers_flowchart(*, contract_list: list[dict]) -> str:
    """A Mermaid flowchart of the layers contract (top layer first) and the forbidden contracts.

    Each layer is a box; modules a ``|`` separates are independent siblings (neither imports the
    other), those a ``:`` separates may import each other. An arrow reads "may import".
    """
    lines = ["```mermaid", "flowchart TB"]
    drawn: set[str] = set()
    for contract in (c for c in contract_list if c["type"] == "layers"):
        boxes = []
        for index, layer in enumerate(contract["layers"]):
            members = [m.strip() for m in re.split(r"[|:]", layer)]
            label = "independent siblings" if "|" in layer else "one layer"
            lines += [f'  subgraph L{index}["{label}"]', "    direction LR"]
            lines += [f'    {_node_id(m)}["{_short(m)}"]' for m in members]
            lines.append("  end")
            drawn.update(_node_id(m) for m in members)
            boxes.append(f"L{index}")
        lines += [f"  {upper} --> {lower}" for upper, lower in zip(boxes, boxes[1:])]
    for contract in (c for c in contract_list if c["type"] == "forbidden"):
        for source in contract["source_modules"]:
            for forbidden in contract["forbidden_modules"]:
                for module in (source, forbidden):
                    if _node_id(module) not in drawn:
                        lines.append(f'  {_node_id(module)}(["{_short(module)}"])')
                        drawn.add(_node_id(module))
                lines.append(f"  {_node_id(source)} -. never imports .-x {_node_id(forbidden)}")
    lines.append("```")
    return "\n".join(lines) + "\n"


def _summary(module: Path) -> str:
    """The first paragraph of the module's docstring, its reStructuredText roles made Markdown."""
    docstring = ast.get_docstring(ast.parse(module.read_text(encoding="utf-8"))) or ""
    first = " ".join(docstring.strip().split("\n\n")[0].split())
    first = re.sub(r":[a-z]+:`~?(?:[\w.]+\.)?(\w+)`", r"`\1`", first)  # :class:`~a.b.Report` -> `Report`
    if not first:
        raise SystemExit(f"{module.relative_to(ROOT)} has no docstring: say in one line what lives there")
    return first.replace("``", "`").replace("|", "\\|")


def packages_table(*, sources: dict[str, Path] = SOURCES) -> str:
    """One row per package of the core and the app, and per base module at the top of the core:
    its path and the first paragraph of its docstring."""
    rows = ["| where | what lives there |", "|---|---|"]
    for folder in sources.values():
        for init in sorted(folder.rglob("__init__.py")):
            relative = init.parent.relative_to(folder)
            if init.parent != folder and "migrations" not in relative.parts:
                rows.append(f"| `{init.parent.relative_to(ROOT).as_posix()}/` | {_summary(init)} |")
    base = sorted(p for p in SOURCES["modelgate.core"].glob("*.py") if p.name != "__init__.py")
    rows += [f"| `{p.relative_to(ROOT).as_posix()}` | {_summary(p)} |" for p in base]
    return "\n".join(rows) + "\n"


def generated_sections() -> dict[str, str]:
    """What each generated part of docs/architecture.md holds, from the current code and contracts."""
    return {"layers": layers_flowchart(contract_list=contracts()), "packages": packages_table()}


def regenerate(text: str, *, sections: dict[str, str]) -> str:
    """``text`` with the body of each ``<!-- generated: NAME -->`` part replaced by ``sections[NAME]``."""
    unknown = {m["name"] for m in SECTION.finditer(text)} - sections.keys()
    if unknown:
        raise SystemExit(f"docs/architecture.md has generated parts nothing writes: {', '.join(sorted(unknown))}")
    return SECTION.sub(lambda m: m.group(1) + sections[m["name"]] + m.group(4), text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.architecture_diagram", description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="rewrite the generated parts of docs/architecture.md")
    args = parser.parse_args(argv)
    sections = generated_sections()
    if not args.write:
        for name, body in sections.items():
            sys.stdout.write(f"<!-- generated: {name} -->\n{body}<!-- end -->\n\n")
        return 0
    text = DOCUMENT.read_text(encoding="utf-8")
    DOCUMENT.write_text(regenerate(text, sections=sections), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
