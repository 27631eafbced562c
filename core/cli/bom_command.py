"""``modelgate bom``: an AI bill of materials of a stored version or a bundle, CycloneDX or SPDX."""

from __future__ import annotations

import json
from pathlib import Path

from modelgate.core.cli.registry_options import add_registry_options, open_from_args, parse_ref

BOM_FORMATS = ("cyclonedx", "spdx")


def register(commands) -> None:
    bom = commands.add_parser(
        "bom", help="write an AI bill of materials (CycloneDX 1.6 ML-BOM or SPDX 3.0.1 AI profile)",
        description="Describe NAME@VERSION (or a bundle folder or archive) as an AI-BOM: the model with "
                    "its license, digests, datasets, dependencies, metrics and the card's "
                    "considerations. cyclonedx writes CycloneDX 1.6 JSON (checked against the 1.6 "
                    "schema before it is written); spdx writes SPDX 3.0.1 JSON-LD with the AI and "
                    "Dataset profiles.")
    bom.add_argument("ref", metavar="NAME@VERSION|BUNDLE")
    bom.add_argument("--format", required=True, choices=BOM_FORMATS, dest="bom_format")
    bom.add_argument("--output", required=True, type=Path, metavar="FILE")
    add_registry_options(bom)
    bom.set_defaults(handler=run_bom)


def _facts(args):
    from modelgate.core.bundle.digests import bundle_digest
    from modelgate.core.errors import UsageError
    from modelgate.core.evidence.bom_facts import read_facts
    from modelgate.core.registry.errors import StoreDamaged

    path = Path(args.ref)
    if path.exists() or "@" not in args.ref:
        if not path.exists():
            raise UsageError(f"bundle {path} does not exist")
        return read_facts(path=path)
    name, version = parse_ref(args.ref)
    with open_from_args(args) as registry:
        folder = registry.bundle_path(name=name, version=version)
        digest = registry.show(name=name, version=version).info.digest
    facts = read_facts(path=folder)
    if bundle_digest(facts.files) != digest:  # a BOM vouches for the bytes that were imported
        raise StoreDamaged(f"the stored copy of {args.ref} no longer matches its digest",
                           hint="`modelgate registry fsck` says what changed.")
    return facts


def run_bom(args) -> int:
    from modelgate.core.outputs import write_output

    facts = _facts(args)
    if args.bom_format == "cyclonedx":
        from modelgate.core.evidence.cyclonedx_bom import cyclonedx_document

        document = cyclonedx_document(facts)
    else:
        from modelgate.core.evidence.spdx_bom import spdx_document

        document = spdx_document(facts)
    write_output(args.output, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote the {args.bom_format} AI-BOM of {facts.name}@{facts.version} to {args.output}")
    return 0
