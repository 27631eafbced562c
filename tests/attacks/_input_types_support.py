"""Builders of bundles whose text is hostile in its types: written as raw YAML/JSON text."""

from __future__ import annotations

import json
from pathlib import Path

from modelgate.core.cli.main import main
from tests.factory import make_bundle


def bundle_with_text(root: Path, *, replace: tuple[str, str] | None = None, append: str = "",
                     results_text: str | None = None) -> Path:
    """A clean locked bundle whose bundle.yaml is then edited as text (no re-lock)."""
    make_bundle(root)
    manifest = root / "bundle.yaml"
    text = manifest.read_text(encoding="utf-8")
    if replace is not None:
        old, new = replace
        assert old in text, f"{old!r} is not in the starter manifest"
        text = text.replace(old, new, 1)
    manifest.write_text(text + append, encoding="utf-8")
    if results_text is not None:
        (root / "benchmarks" / "results.json").write_text(results_text, encoding="utf-8")
    return root


def results_text(entries: list[str]) -> str:
    """A benchmark results file whose entries are given as raw JSON text."""
    return '{"results": [' + ", ".join(entries) + "]}"


def entry(value: str = "0.9", metric: str = "accuracy", extra: str = "") -> str:
    return ('{"dataset": "loans", "split": "test", "metric": ' + json.dumps(metric)
            + ', "value": ' + value + extra + "}")


def run(argv: list[str], capsys, monkeypatch) -> tuple[int, str, str]:
    """Run the CLI; an internal error re-raises (MODELGATE_DEBUG) so that it fails the test."""
    monkeypatch.setenv("MODELGATE_DEBUG", "1")
    code = main(argv)
    out, err = capsys.readouterr()
    assert "internal error" not in err
    assert "MG100" not in out, out
    return code, out, err
