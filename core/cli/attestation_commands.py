"""``attest``, ``export`` and ``verify --attestations``: decision evidence that travels with a bundle."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from modelgate.core.cli.registry_options import add_registry_options, open_from_args, parse_ref

PASSPHRASE_HELP = ("file holding the key's passphrase (default: $MODELGATE_KEY_PASSPHRASE, else a prompt; "
                   "never on the command line)")


def register(commands) -> None:
    attest = commands.add_parser(
        "attest", help="sign a version's decision attestations",
        description="Sign every unsigned decision attestation of NAME@VERSION (one per promotion, "
                    "with its SLSA verification summary) as DSSE envelopes. The key must be trusted "
                    "in the registry as yours, and you need the signer role.")
    attest.add_argument("ref", metavar="NAME@VERSION")
    attest.add_argument("--key", required=True, type=Path, metavar="PRIVATE.pem",
                        help="your private key (NAME.key from `keys generate`), or a key in a hardware "
                             "token as an RFC 7512 URI: 'pkcs11:token=LABEL;object=KEY' (the PIN from "
                             "pin-source=file:PATH, $MODELGATE_PKCS11_PIN or a prompt)")
    attest.add_argument("--passphrase-file", type=Path, metavar="FILE", help=PASSPHRASE_HELP)
    add_registry_options(attest)
    attest.set_defaults(handler=run_attest)


def add_verify_options(verify) -> None:
    """The ``verify`` options that check decision attestations instead of signatures."""
    verify.add_argument("--attestations", action="store_true",
                        help="check the bundle's decision attestations (signatures/decisions.intoto.jsonl): "
                             "file digests, signer trust, the order of decisions and their approvals")
    verify.add_argument("--stage", metavar="STAGE",
                        help="with --attestations: the stage the bundle claims (default: the last decision's)")
    verify.add_argument("--policy", type=Path, metavar="FILE",
                        help="with --attestations: decisions must have been made under this policy")


def is_token_key(key) -> bool:
    """Whether a ``--key`` value names a key in a PKCS#11 token rather than a key file."""
    from modelgate.core.signing.pkcs11 import is_token_uri

    return is_token_uri(str(key))


def _signer(key: Path, passphrase_file: Path | None):
    """A DSSE signer over the key file (asking its passphrase) or the token key (asking its PIN)."""
    from contextlib import nullcontext

    from modelgate.core.signing.dsse import KeySigner
    from modelgate.core.signing.keys import load_private_key, read_passphrase

    if is_token_key(key):
        from modelgate.core.signing.pkcs11 import TokenSigner

        return TokenSigner(str(key))
    passphrase = read_passphrase(passphrase_file=passphrase_file, prompt=f"Passphrase for {key}: ")
    return nullcontext(KeySigner(load_private_key(key, passphrase=passphrase)))


def run_attest(args) -> int:
    from modelgate.core.registry.attestations import sign_attestations

    name, version = parse_ref(args.ref)
    with _signer(args.key, args.passphrase_file) as signer, open_from_args(args) as registry:
        signed = sign_attestations(registry, name=name, version=version, signer=signer)
    for info in signed:
        print(f"{args.ref}: signed decision {info.sequence} ({info.predicate_type}) {info.digest[:12]}…")
    if not signed:
        print(f"{args.ref}: every decision attestation was already signed")
    return 0


def _bundle_evidence(args) -> tuple[dict[str, str], bytes]:
    """The file digests and the attestation lines of the bundle folder, archive or stored version."""
    from modelgate.core.bundle.reader import open_bundle
    from modelgate.core.errors import UsageError
    from modelgate.core.signing.attestations import BUNDLE_FILE
    from modelgate.core.signing.payload import hash_while_importing

    if not args.bundle.exists() and "@" in str(args.bundle):
        return _stored_evidence(args)
    if not args.bundle.exists():
        raise UsageError(f"bundle {args.bundle} does not exist")
    with open_bundle(args.bundle) as bundle:
        files = hash_while_importing(bundle, progress=None)
        if BUNDLE_FILE not in bundle.files():
            return files, b""
        return files, bundle.read_bytes(BUNDLE_FILE, limit=16 * 1024 * 1024)


def _stored_evidence(args) -> tuple[dict[str, str], bytes]:
    from modelgate.core.registry.attestations import attestations, version_files
    from modelgate.core.registry.queries import get_version

    name, version = parse_ref(str(args.bundle))
    with open_from_args(args) as registry:
        with registry.session(write=False) as session:
            digest = get_version(session, name=name, version=version).digest
        files = version_files(registry.store, digest)
        lines = "".join(json.dumps(s.envelope) + "\n" for s in attestations(registry, name=name, version=version)
                        if s.envelope is not None)
    return files, lines.encode("utf-8")


def run_verify_attestations(args, *, trust) -> int:
    """``verify BUNDLE --attestations``: exit 0 when the decisions hold, 1 with every reason otherwise."""
    from modelgate.core.policy.document import load_policy
    from modelgate.core.policy.stages import check_stage
    from modelgate.core.evidence.attestation_verify import read_lines, verify_decisions

    if args.stage is not None:
        check_stage(args.stage)
    policy = load_policy(args.policy) if args.policy is not None else None
    files, data = _bundle_evidence(args)
    verdict = verify_decisions(files=files, envelopes=read_lines(data), trust=trust, stage=args.stage,
                               policy=policy)
    if args.json:
        print(json.dumps({"bundle": str(args.bundle), "passed": verdict.ok, "stage": verdict.stage,
                          "decisions": [{"from": a, "to": b, "signer": s} for a, b, s in verdict.steps],
                          "problems": list(verdict.problems)}, indent=2))
    else:
        for before, after, signer in verdict.steps:
            print(f"  {before} -> {after}  signed by {signer}")
        if verdict.ok:
            print(f"{args.bundle}: decisions verified up to {verdict.stage}")
    for problem in verdict.problems:
        print(f"{args.bundle}: {problem}", file=sys.stderr)
    return 0 if verdict.ok else 1


def run_sign_with_token(args) -> int:
    """``sign BUNDLE_DIR --key pkcs11:...``: a model-signing signature made inside the token."""
    from modelgate.core.errors import UsageError
    from modelgate.core.signing.keys import short
    from modelgate.core.signing.pkcs11 import TokenSigner, parse_uri
    from modelgate.core.signing.token_sign import sign_bundle_with_token

    if args.certificate is not None or args.certificate_chain:
        raise UsageError("a token key signs with its public key hint; --certificate is for key files")
    uri = parse_uri(str(args.key))
    if not args.bundle.exists() and "@" in str(args.bundle):
        from modelgate.core.registry.token_signatures import sign_version_with_token

        name, version = parse_ref(str(args.bundle))
        with open_from_args(args) as registry:
            recorded = sign_version_with_token(registry, name=name, version=version, uri=str(args.key), pin=None,
                                               signer=args.signer or registry.actor)
        for info in recorded:
            print(f"{name}@{version} signed by {info.signer} with the token key {short(info.key_fingerprint)}; "
                  "recorded")
        return 0
    if not args.bundle.exists():
        raise UsageError(f"bundle {args.bundle} does not exist")
    with TokenSigner(uri) as signer:
        result = sign_bundle_with_token(path=args.bundle, signer=signer, name=args.signer or uri.label or "token")
    print(f"signed {result.files} files of {args.bundle} with the token key {short(result.fingerprint)}")
    print(f"signature   {result.signature}")
    return 0
