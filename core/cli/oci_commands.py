"""``push``, ``pull``, ``export`` and ``import``: versions to and from OCI registries and image
layouts (as CNCF ModelPack artifacts) and plain folders."""

from __future__ import annotations

import argparse
from pathlib import Path

from modelgate.core.cli.registry_options import add_registry_options, open_from_args, parse_ref
from modelgate.core.cli.terminal import TerminalProgress

PUSH_EPILOG = """\
what is pushed (the mapping is in docs/oci.md):
  the manifest    artifactType application/vnd.cncf.model.manifest.v1+json, tagged with the
                  version ('+' in SemVer build metadata becomes '_': 1.0.0+b5 -> 1.0.0_b5)
  the config      application/vnd.cncf.model.config.v1+json, filled from bundle.yaml
  one layer per file, uncompressed, with its path in org.cncf.model.filepath: declared models
                  as weights, bundle.yaml, the card, licenses and benchmarks as docs, samples as
                  datasets
  referrers       each verified release signature and a decision record (reviews, promotions,
                  the gates), whose subject is the manifest; a registry without the referrers
                  API gets the sha256-<digest> fallback tag

Only a version whose current stage's gates hold today is pushed, by a signer or an admin.
Credentials come from `docker login` / `podman login` (~/.docker/config.json,
$REGISTRY_AUTH_FILE and their credential helpers), never from the command line.

exit codes: 0 pushed; 1 a gate does not hold, or the registry refused or failed;
2 bad input (unknown version, bad reference)."""

EXPORT_EPILOG = """\
--dir DIR         every file of the bundle, and the verified release signatures in
                  DIR/signatures/; the decision record (reviews, promotions, gates) goes
                  beside it as DIR.decisions.json. The stock verifier accepts it:
                    model_signing verify key DIR --signature DIR/signatures/SIG \\
                      --public_key KEY.pub --ignore-paths DIR/signatures
--oci-layout DIR  an OCI image layout: the same ModelPack artifact `push` sends, tagged
                  with the version, with signatures and the decision record as referrers;
                  `skopeo inspect oci:DIR:TAG` reads it, `modelgate import oci:DIR:TAG`
                  verifies and registers it on the other side of the air gap.

exit codes: 0 exported; 1 a gate does not hold; 2 bad input. DIR must be new or empty;
nothing is left in it when the export fails."""

PULL_EPILOG = """\
Every byte is checked before anything is written to DIR: each layer against its digest
as it streams (into a hidden folder beside DIR), the config against the ModelPack schema
and bundle.yaml, every file against the digests bundle.yaml records. Signatures attached
as referrers go to DIR/signatures/. Then the folder is renamed to DIR in one step; on
any refusal DIR is left absent (or empty, as it was).

exit codes: 0 pulled and verified; 1 the artifact was refused (damaged, missing or
oversized blob, wrong media type, unsafe path) or the registry failed; 2 bad input."""


def register(commands) -> None:
    push = commands.add_parser(
        "push", help="publish a version to an OCI registry (CNCF ModelPack)",
        description="Push NAME@VERSION from the registry's store to an OCI registry as a "
                    "CNCF ModelPack artifact, with its signatures and decision record attached.",
        epilog=PUSH_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    push.add_argument("ref", metavar="NAME@VERSION")
    push.add_argument("target", nargs="?", metavar="oci://HOST[:PORT]/REPO",
                      help="the repository (default: $MODELGATE_OCI_STORE/NAME when that is set)")
    push.add_argument("--insecure", action="store_true",
                      help="plain HTTP, for a registry on this machine (127.0.0.1, localhost) only")
    add_registry_options(push)
    push.set_defaults(handler=run_push)

    pull = commands.add_parser(
        "pull", help="fetch a bundle from an OCI registry, verified before it is written",
        description="Pull a CNCF ModelPack artifact pushed by ModelGate into a new folder DIR.",
        epilog=PULL_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    pull.add_argument("reference", metavar="oci://HOST[:PORT]/REPO:TAG | oci:DIR:TAG",
                      help="a registry's artifact, or one in an OCI image layout folder")
    pull.add_argument("--dir", required=True, type=Path, metavar="DIR", help="a new (or empty) folder")
    pull.add_argument("--insecure", action="store_true",
                      help="plain HTTP, for a registry on this machine (127.0.0.1, localhost) only")
    pull.set_defaults(handler=run_pull)

    export = commands.add_parser(
        "export", help="hand a cleared version to deployment, or across an air gap",
        description="Write NAME@VERSION, read back through the store's verification, as a plain "
                    "folder or as an OCI image layout. Only a version whose stage's gates hold is "
                    "exported, by a signer or an admin.",
        epilog=EXPORT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    export.add_argument("ref", metavar="NAME@VERSION")
    where = export.add_mutually_exclusive_group(required=True)
    where.add_argument("--dir", "--output", type=Path, metavar="DIR", dest="dir",
                       help="a plain bundle folder carrying its signatures and signed decision "
                            "attestations in signatures/ (`modelgate verify --attestations` checks it offline)")
    where.add_argument("--oci-layout", type=Path, metavar="DIR", dest="layout",
                       help="an OCI image layout (ModelPack artifact tagged with the version)")
    add_registry_options(export)
    export.set_defaults(handler=run_export)

    imp = commands.add_parser(
        "import", help="register a bundle from an OCI registry or an OCI image layout, verified",
        description="Pull SOURCE as `pull` does (every digest verified before anything is kept), "
                    "then import it into the registry as `registry import` does. A folder (one `pull` "
                    "wrote) is imported only when every file matches the digests its bundle.yaml records.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit codes: 0 imported; 1 the artifact was refused; 2 bad input.")
    imp.add_argument("source", metavar="oci://HOST[:PORT]/REPO:TAG | oci:DIR:TAG | DIR",
                     help="a registry's artifact, one in an OCI image layout, or a folder `pull` wrote")
    imp.add_argument("--insecure", action="store_true",
                     help="plain HTTP, for a registry on this machine (127.0.0.1, localhost) only")
    add_registry_options(imp)
    imp.set_defaults(handler=run_import)


def _target(args, name: str):
    from modelgate.core import settings
    from modelgate.core.errors import UsageError
    from modelgate.core.store.reference import SCHEME, parse_reference

    text = args.target
    if text is None:
        prefix = settings.get(settings.OCI_STORE) or settings.get(settings.STORE)
        if not prefix.startswith(SCHEME):
            raise UsageError("push needs a target oci://HOST[:PORT]/REPO",
                             hint="Name one, or set MODELGATE_OCI_STORE to an oci:// repository prefix.")
        text = f"{prefix.rstrip('/')}/{name}"
    reference = parse_reference(text=text, need_target=False)
    if reference.target:
        raise UsageError(f"{text!r} names a tag or digest; push tags with the version itself",
                         hint="Give the repository only, e.g. oci://registry:5000/models/resnet.")
    return reference


def run_push(args) -> int:
    from modelgate.core.registry.publish import push_version

    name, version = parse_ref(args.ref)
    target = _target(args, name)
    renderer = TerminalProgress()
    try:
        with open_from_args(args) as registry:
            pushed = push_version(registry, name=name, version=version, target=target, insecure=args.insecure,
                                  progress=renderer.progress())
    finally:
        renderer.finish()
    print(f"pushed {name}@{version} to {pushed.reference}")
    print(f"  manifest {pushed.digest}, {pushed.layers} layer(s), {pushed.attachments} attachment(s) "
          f"({'referrers API' if pushed.referrers_api else 'referrers tag fallback'})")
    return 0


def run_pull(args) -> int:
    from modelgate.core.registry.modelfacts import measured_config
    from modelgate.core.store.interface import open_source
    from modelgate.core.store.oci import pull_bundle

    source = open_source(text=args.reference, insecure=args.insecure)
    renderer = TerminalProgress()
    try:
        pulled = pull_bundle(client=source, dest=args.dir, progress=renderer.progress(), measure=measured_config)
    finally:
        renderer.finish()
    print(f"pulled {pulled.name}@{pulled.version} ({pulled.files} file(s), every digest verified) into {pulled.folder}")
    print(f"  manifest {pulled.digest}; {len(pulled.signatures)} signature(s) in signatures/, "
          f"{len(pulled.decisions)} decision record(s) attached")
    return 0


def run_export(args) -> int:
    from modelgate.core.registry.publish import export_folder, export_layout
    from modelgate.core.store.reference import tag_for

    name, version = parse_ref(args.ref)
    renderer = TerminalProgress()
    try:
        with open_from_args(args) as registry:
            if args.layout is not None:
                exported = export_layout(registry, name=name, version=version, dest=args.layout,
                                         progress=renderer.progress())
            else:
                folder = export_folder(registry, name=name, version=version, dest=args.dir)
    finally:
        renderer.finish()
    if args.layout is not None:
        print(f"exported {name}@{version} as the OCI image layout oci:{args.layout}:{tag_for(version)}")
        print(f"  manifest {exported.digest}, {exported.layers} layer(s), {exported.attachments} attachment(s)")
    else:
        print(f"exported {name}@{version} to {folder} (decision record: {folder}.decisions.json)")
    return 0


def run_import(args) -> int:
    import tempfile

    from modelgate.core import fsutil
    from modelgate.core.registry.modelfacts import measured_config
    from modelgate.core.store.interface import open_source
    from modelgate.core.store.oci import pull_bundle

    if not args.source.startswith("oci:"):
        return _import_folder(args)
    source = open_source(text=args.source, insecure=args.insecure)
    renderer = TerminalProgress()
    scratch = Path(tempfile.mkdtemp(prefix="modelgate-import-"))
    try:
        pulled = pull_bundle(client=source, dest=scratch / "bundle", progress=renderer.progress(),
                             measure=measured_config)
        with open_from_args(args) as registry:
            result = registry.import_bundle(path=pulled.folder, progress=renderer.progress())
    finally:
        renderer.finish()
        fsutil.remove_tree(scratch, ignore_errors=True)
    print(f"imported {pulled.name}@{pulled.version} from {args.source} (every digest verified; "
          f"bundle digest {result.digest[:12]}…)")
    if pulled.signatures:
        print(f"  {len(pulled.signatures)} signature(s) came with it: `modelgate verify {pulled.name}@{pulled.version}` "
              "checks them against the registry's trusted signers")
    return 0


def _import_folder(args) -> int:
    """A pulled folder travels without its manifest: its own lock is what is verified."""
    from modelgate.core.bundle.integrity import LockState, check_integrity
    from modelgate.core.bundle.manifest import load_manifest
    from modelgate.core.bundle.reader import open_bundle
    from modelgate.core.errors import UsageError
    from modelgate.core.store.errors import ArtifactRefused

    folder = Path(args.source)
    if not folder.is_dir():
        raise UsageError(f"{args.source!r} is neither an oci: reference nor a folder",
                         hint="oci://HOST[:PORT]/REPO:TAG, oci:DIR:TAG (an image layout) or a pulled folder.")
    renderer = TerminalProgress()
    try:
        with open_bundle(folder) as bundle:
            report = check_integrity(bundle, load_manifest(bundle).typed, progress=renderer.progress())
        if report.state is not LockState.LOCKED or report.artifact_problems:
            damaged = [*report.mismatched, *report.missing, *report.unlisted] or [m for _, _, m in report.artifact_problems]
            raise ArtifactRefused(f"{folder} does not match the digests its bundle.yaml records"
                                  + (f" ({', '.join(damaged[:5])})" if damaged else f" ({report.state.value})"),
                                  hint="Pull it again; a folder is imported only when its lock holds.")
        with open_from_args(args) as registry:
            result = registry.import_bundle(path=folder, progress=renderer.progress())
    finally:
        renderer.finish()
    print(f"imported {result.name}@{result.version} from {folder} (every file matches bundle.yaml; "
          f"bundle digest {result.digest[:12]}…)")
    return 0
