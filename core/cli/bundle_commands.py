"""``init``, ``lock``, ``inspect`` and ``demo``: working with bundle folders."""

from __future__ import annotations

import argparse
import datetime
import json
import math
import sys
from pathlib import Path

from modelgate.core.cli.terminal import TerminalProgress, paint
from modelgate.core.outputs import human_bytes


def register(commands) -> None:
    """Add the bundle commands to the ``modelgate`` sub-command parser."""
    init = commands.add_parser(
        "init", help="write a starter bundle",
        description="Write a starter bundle folder from the template: bundle.yaml, MODEL_CARD.md, "
                    "LICENSE, benchmarks/. With --model, the model file is copied in and the "
                    "manifest's interface is filled from its graph.")
    init.add_argument("name", metavar="NAME", help="model name, e.g. credit-risk")
    init.add_argument("--dir", type=Path, help="folder to create (default: ./NAME)")
    init.add_argument("--model", type=Path, help="a model file to put in the bundle: ONNX, safetensors "
                      "(or its .index.json), GGUF, TFLite or PyTorch/pickle")
    init.add_argument("--variant", help="the model's variant (default: what the file says, else fp32)")
    init.add_argument("--samples", type=Path, metavar="DIR",
                      help="sample inputs (and expected outputs) for the contract test: a folder "
                           "of input_K.pb/output_K.pb, or of such folders (default: the "
                           "test_data_set_* folders beside the model, if any)")
    init.add_argument("--force", action="store_true",
                      help="write into a non-empty folder; files already there are kept")
    init.set_defaults(handler=run_init)

    lock = commands.add_parser(
        "lock", help="write digests into bundle.yaml",
        description="Hash every file of a bundle folder (all but bundle.yaml and signatures/) and "
                    "write artifacts[].sha256, artifacts[].size and the `files` map into bundle.yaml.")
    lock.add_argument("bundle", metavar="BUNDLE_DIR", type=Path)
    lock.set_defaults(handler=run_lock)

    inspect = commands.add_parser(
        "inspect", help="show what is in a bundle",
        description="Show a bundle's identity, license, artifacts with sizes and digests, "
                    "interface, targets, provenance and lock state. BUNDLE is a folder or a "
                    ".zip/.tar/.tar.gz archive.")
    inspect.add_argument("bundle", metavar="BUNDLE", type=Path)
    inspect.add_argument("--json", action="store_true", help="print JSON (format modelgate.inspect/v1)")
    inspect.add_argument("--no-verify", action="store_true", help="skip hashing; lock state unchecked")
    inspect.set_defaults(handler=run_inspect)

    demo = commands.add_parser(
        "demo", help="build a demo workspace",
        description="Build a demo workspace from scratch (no downloads): real ONNX bundles of "
                    "several models and versions, a demo policy, and bundles a reviewer must catch.")
    demo.add_argument("directory", metavar="DIR", nargs="?", type=Path, default=Path("modelgate-demo"),
                      help="where to build it (default: ./modelgate-demo)")
    demo.add_argument("--force", action="store_true", help="replace a previous demo in DIR")
    demo.set_defaults(handler=run_demo)


def run_init(args: argparse.Namespace) -> int:
    from modelgate.core.formats.starter import create_starter

    directory = args.dir or Path(args.name)
    result = create_starter(name=args.name, directory=directory, model=args.model,
                            variant=args.variant, force=args.force, samples=args.samples)
    print(f"Wrote {len(result.files)} file(s) in {result.directory}/.")
    if result.kept:
        print(f"Kept what was already there: {', '.join(result.kept)}.")
    if result.model is not None:
        print(f"Added {result.model}; bundle.yaml lists it and declares what the file states.")
    print("Next:")
    if result.model is None:
        print(f"  - add your model: modelgate init {args.name} --dir {directory} --model MODEL_FILE "
              "--force (keeps your edits)")
    print("  - fill in MODEL_CARD.md and the provenance in bundle.yaml")
    print(f"  - modelgate lock {directory}")
    return 0


def run_lock(args: argparse.Namespace) -> int:
    from modelgate.core.bundle.lock import lock_bundle

    renderer = TerminalProgress()
    try:
        result = lock_bundle(args.bundle, progress=renderer.progress())
    finally:
        renderer.finish()
    print(f"Locked {args.bundle}: {result.files} files, {human_bytes(result.bytes)}; "
          f"{len(result.changed)} digest(s) changed.")
    if result.dropped_comments:
        print("note: bundle.yaml was rewritten in canonical form; its comments were not kept.")
    if result.remaining:
        print(f"bundle.yaml still has {len(result.remaining)} problem(s):", file=sys.stderr)
        for finding in result.remaining:
            print(f"  {finding.rule} {finding.location}: {finding.message}", file=sys.stderr)
        return 1
    return 0


def _jsonable(value):
    """``value`` with what JSON cannot hold written as text: NaN and infinities, the dates, bytes
    and sets that explicit YAML tags (``!!timestamp``, ``!!binary``, ``!!set``) make, and keys of
    those types.

    inspect passes on what bundle.yaml holds, and scripts read its output with strict parsers.
    """
    if isinstance(value, dict):
        return {(k if isinstance(k, (str, int, bool)) or k is None else _jsonable_leaf(k)):
                _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return [_jsonable(v) for v in sorted(value, key=repr)]
    return _jsonable_leaf(value)


def _jsonable_leaf(value):
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def run_inspect(args: argparse.Namespace) -> int:
    from modelgate.core.bundle.reader import open_bundle
    from modelgate.core.bundle.manifest import load_manifest
    from modelgate.core.bundle.summary import summarise
    from modelgate.core.formats.describe import describe

    renderer = TerminalProgress()
    try:
        with open_bundle(args.bundle, progress=renderer.progress()) as bundle:
            summary = summarise(bundle, progress=renderer.progress(), verify=not args.no_verify)
            models, found = describe(bundle=bundle, manifest=load_manifest(bundle).typed)
            summary["models"] = models
            summary["findings"].extend(f.as_dict() for f in found)
    finally:
        renderer.finish()
    if args.json:
        print(json.dumps(_jsonable(summary), indent=2, ensure_ascii=False))
    else:
        from modelgate.core.cli.inspect_text import render

        print(render(summary))
    return 1 if any(f["severity"] == "error" for f in summary["findings"]) else 0


def run_demo(args: argparse.Namespace) -> int:
    from modelgate.core.demo.workspace import build_demo

    renderer = TerminalProgress()
    try:
        summary = build_demo(directory=args.directory, force=args.force, progress=renderer.progress())
    finally:
        renderer.finish()
    print(f"Demo workspace in {summary.directory}:")
    for path in summary.bundles:
        print(f"  {path}")
    print(f"  policy: {summary.policy}")
    print(paint(f"Try: modelgate inspect {summary.bundles[0]}", "bold"))
    return 0
