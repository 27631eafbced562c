"""``modelgate keys``, ``sign`` and ``verify``: the signing station on the command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from modelgate.core.cli import attestation_commands
from modelgate.core.cli.parser import Parser
from modelgate.core.cli.registry_options import add_registry_options, open_from_args
from modelgate.core.cli.terminal import TerminalProgress, paint, use_colour
from modelgate.core.outputs import human_bytes

PASSPHRASE_HELP = ("read the passphrase from FILE (first line); otherwise $MODELGATE_KEY_PASSPHRASE, "
                   "otherwise a prompt. Never on the command line.")
SIGN_EPILOG = """\
The signature is an OpenSSF model-signing signature (a Sigstore bundle with a DSSE
envelope); anyone can check it with the stock tool:
  model_signing verify key BUNDLE_DIR --signature BUNDLE_DIR/signatures/NAME.sig \\
      --public_key NAME.pub --ignore-paths "$PWD/BUNDLE_DIR/signatures"
(it resolves --ignore-paths against the current folder; add --no-ignore-git-paths
when the bundle holds .git* files).

examples:
  modelgate keys generate --name release-officer --out ~/keys
  modelgate sign ./credit-risk-1.2.0 --key ~/keys/release-officer.key
  modelgate verify ./credit-risk-1.2.0 --trust ~/trusted-keys/"""


def register(commands) -> None:
    keys = commands.add_parser("keys", help="generate signing keys; manage the registry's trusted signers",
                               description="`keys generate` writes an EC key pair for signing.")
    actions = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True,
                                  parser_class=Parser)
    generate = actions.add_parser(
        "generate", help="write NAME.key (encrypted, mode 0600) and NAME.pub",
        description="Generate an elliptic-curve key pair. The private key is encrypted with a "
                    "passphrase (asked twice, or $MODELGATE_KEY_PASSPHRASE / --passphrase-file) and "
                    "written with mode 0600; existing files are never overwritten.")
    generate.add_argument("--name", required=True, help="the key's name, e.g. the signer's user name")
    generate.add_argument("--out", required=True, type=Path, metavar="DIR", help="folder to write into")
    generate.add_argument("--curve", choices=("p256", "p384"), default="p256",
                          help="elliptic curve (default: p256)")
    generate.add_argument("--passphrase-file", type=Path, metavar="FILE", help=PASSPHRASE_HELP)
    generate.set_defaults(handler=run_keys_generate)

    trust = actions.add_parser("trust", help="trust a signer's public key in the registry (admin)",
                               description="Trust PUBKEY as NAME's signing key. NAME must be a registry "
                                           "user; the production gate counts signatures only from "
                                           "trusted, unrevoked keys.")
    trust.add_argument("name", metavar="NAME", help="the signer's registry user name")
    trust.add_argument("public_key", metavar="PUBKEY", type=Path, help="NAME.pub from `keys generate`")
    add_registry_options(trust)
    trust.set_defaults(handler=run_keys_trust)

    listing = actions.add_parser("list", help="the registry's trusted signer keys")
    listing.add_argument("--json", action="store_true", help="print JSON")
    add_registry_options(listing)
    listing.set_defaults(handler=run_keys_list)

    revoke = actions.add_parser("revoke", help="stop trusting a key (admin)",
                                description="Revoke a trusted key by its fingerprint (or a unique "
                                            "prefix); signatures it made stop counting.")
    revoke.add_argument("fingerprint", metavar="FINGERPRINT")
    revoke.add_argument("--reason", required=True, help="why (recorded)")
    add_registry_options(revoke)
    revoke.set_defaults(handler=run_keys_revoke)

    trust_ca = actions.add_parser(
        "trust-ca", help="trust a CA certificate that issues signing certificates (admin)",
        description="Trust the CA certificate(s) in CA.pem under NAME: signatures whose certificate chain "
                    "leads to it are trusted, and the signer is the user named by the signing "
                    "certificate's common name.")
    trust_ca.add_argument("name", metavar="NAME", help="a name for the CA, e.g. the organisation's")
    trust_ca.add_argument("ca_file", metavar="CA.pem", type=Path)
    add_registry_options(trust_ca)
    trust_ca.set_defaults(handler=run_keys_trust_ca)

    revoke_cert = actions.add_parser(
        "revoke-certificate", help="stop trusting a certificate or a CA (admin)",
        description="Revoke a CA, intermediate or signing certificate, given as its PEM file or by its "
                    "fingerprint (a unique prefix); every chain through it stops being trusted, and "
                    "recorded signatures made under it stop counting.")
    revoke_cert.add_argument("certificate", metavar="CERT.pem|FINGERPRINT")
    revoke_cert.add_argument("--reason", required=True, help="why (recorded)")
    add_registry_options(revoke_cert)
    revoke_cert.set_defaults(handler=run_keys_revoke_certificate)

    listing_certs = actions.add_parser("certificates", help="the registry's CA certificates and revoked certificates")
    listing_certs.add_argument("--json", action="store_true", help="print JSON")
    add_registry_options(listing_certs)
    listing_certs.set_defaults(handler=run_keys_certificates)

    sign = commands.add_parser(
        "sign", help="sign a locked bundle folder",
        description="Sign every file of BUNDLE_DIR except signatures/ with a private key and write "
                    "signatures/SIGNER.sig. Several signatures coexist. An unlocked bundle, or one "
                    "whose bytes no longer match its lock, is refused (exit 1).",
        epilog=SIGN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sign.add_argument("bundle", metavar="BUNDLE_DIR", type=Path,
                      help="a bundle folder, or NAME@VERSION to sign the registry's stored copy "
                           "and record the signature")
    sign.add_argument("--key", required=True, type=Path, metavar="PRIVATE.pem",
                      help="the signer's private key (NAME.key from `keys generate`), or a key in a "
                           "hardware token as an RFC 7512 URI: 'pkcs11:token=LABEL;object=KEY'")
    sign.add_argument("--signer", metavar="NAME", help="signature file name (default: the key file's name)")
    sign.add_argument("--certificate", type=Path, metavar="CERT.pem",
                      help="sign with this X.509 signing certificate of the key (valid now, issued for code "
                           "signing); the signature carries it instead of a key hint")
    sign.add_argument("--certificate-chain", action="append", type=Path, metavar="PEM", default=[],
                      help="intermediate CA certificates to carry with --certificate (repeatable)")
    sign.add_argument("--passphrase-file", type=Path, metavar="FILE", help=PASSPHRASE_HELP)
    add_registry_options(sign)
    sign.set_defaults(handler=run_sign)

    verify = commands.add_parser(
        "verify", help="check a bundle's signatures, or one signature over a model, against a trust store",
        description="Verify every signatures/*.sig of BUNDLE (folder or archive) against the trusted "
                    "public keys and CA certificates, and report each signer, key fingerprint and verdict. "
                    "With --signature, verify that one signature over MODEL_PATH (a folder or a single "
                    "file), as `model_signing verify key|certificate` does. Exit 1 when any signature "
                    "fails or none is trusted.",
        epilog="trust store: --trust (files NAME.pub, CA certificate files, or folders of them; repeatable) "
               "and --certificate-chain, else $MODELGATE_TRUST_STORE, else the registry's trusted signers. "
               "Every model-signing format version (0.2 to 1.1) is read. Files a signature leaves out (its "
               "own ignore paths, or --ignore-paths) are listed as not covered; `modelgate validate` "
               "reports them as MG805.")
    verify.add_argument("bundle", metavar="BUNDLE|MODEL_PATH", type=Path)
    verify.add_argument("--signature", type=Path, metavar="SIG",
                        help="verify this signature file over MODEL_PATH (folder or single file)")
    verify.add_argument("--trust", action="append", type=Path, metavar="PUBKEY_OR_DIR", default=[],
                        help="a trusted public key (its file name is the signer's name), a file of CA "
                             "certificates, or a folder of them")
    verify.add_argument("--certificate-chain", action="append", type=Path, metavar="PEM", default=[],
                        help="CA certificates that certificate signatures must chain to (repeatable)")
    verify.add_argument("--ignore-paths", action="extend", nargs="+", type=Path, metavar="PATH", default=[],
                        help="with --signature: files or folders of the model the signature does not cover "
                             "(relative to the current folder, as model_signing takes them); they are "
                             "listed as not covered")
    verify.add_argument("--no-ignore-git-paths", action="store_true",
                        help="with --signature: do not leave out .git, .github, .gitattributes, .gitignore "
                             "(model_signing leaves them out by default)")
    verify.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    attestation_commands.add_verify_options(verify)
    add_registry_options(verify)
    verify.set_defaults(handler=run_verify)


def run_keys_generate(args) -> int:
    from modelgate.core.signing.keys import check_name, generate_key_pair, read_passphrase, short

    check_name(args.name)
    passphrase = read_passphrase(passphrase_file=args.passphrase_file, confirm=True,
                                 prompt=f"Passphrase for {args.name}.key: ")
    pair = generate_key_pair(name=args.name, out_dir=args.out, passphrase=passphrase, curve=args.curve)
    print(f"private key {pair.private_path} (encrypted, mode 0600)")
    print(f"public key  {pair.public_path}")
    print(f"fingerprint {short(pair.fingerprint)} ({pair.curve})")
    print("Keep the private key and its passphrase apart; hand out only the .pub file.")
    return 0


def run_keys_trust(args) -> int:
    from modelgate.core.registry.signatures import trust_key
    from modelgate.core.signing.keys import short

    with open_from_args(args) as registry:
        info = trust_key(registry, name=args.name, public_key=args.public_key)
    print(f"trusted {short(info.fingerprint)} as {info.name}'s signing key")
    return 0


def run_keys_list(args) -> int:
    from modelgate.core.registry.signatures import trusted_keys
    from modelgate.core.signing.keys import short

    with open_from_args(args) as registry:
        keys = trusted_keys(registry)
    if args.json:
        print(json.dumps([{"name": k.name, "fingerprint": k.fingerprint, "added_by": k.added_by,
                           "added_at": k.created_at.isoformat(),
                           "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
                           "revoke_reason": k.revoke_reason} for k in keys], indent=2))
        return 0
    if not keys:
        print("no trusted signer keys; an admin adds one with `modelgate keys trust NAME NAME.pub`")
    for k in keys:
        state = f"revoked {k.revoked_at:%Y-%m-%d} ({k.revoke_reason})" if k.revoked_at else "trusted"
        print(f"{k.name:<20} {short(k.fingerprint)}  added by {k.added_by} {k.created_at:%Y-%m-%d}  {state}")
    return 0


def run_keys_revoke(args) -> int:
    from modelgate.core.registry.signatures import revoke_key
    from modelgate.core.signing.keys import short

    with open_from_args(args) as registry:
        info = revoke_key(registry, fingerprint=args.fingerprint, reason=args.reason)
    print(f"revoked {short(info.fingerprint)} ({info.name}); its signatures no longer count")
    return 0


def run_keys_trust_ca(args) -> int:
    from modelgate.core.registry.certificates import trust_ca

    _require_exists(args.ca_file, "CA certificate file")
    with open_from_args(args) as registry:
        added = trust_ca(registry, name=args.name, path=args.ca_file)
    for info in added:
        print(f"trusted CA {info.subject} (SHA256:{info.fingerprint[:16]}) as {info.name}")
    return 0


def run_keys_revoke_certificate(args) -> int:
    from modelgate.core.registry.certificates import revoke_certificate

    with open_from_args(args) as registry:
        info = revoke_certificate(registry, certificate=args.certificate, reason=args.reason)
    print(f"revoked {info.subject} (SHA256:{info.fingerprint[:16]}); chains through it are no longer trusted")
    return 0


def run_keys_certificates(args) -> int:
    from modelgate.core.registry.certificates import trusted_certificates

    with open_from_args(args) as registry:
        rows = trusted_certificates(registry)
    if args.json:
        print(json.dumps([{"name": r.name, "subject": r.subject, "fingerprint": r.fingerprint, "ca": r.is_ca,
                           "added_by": r.added_by, "added_at": r.created_at.isoformat(),
                           "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
                           "revoke_reason": r.revoke_reason} for r in rows], indent=2))
        return 0
    if not rows:
        print("no CA certificates; an admin adds one with `modelgate keys trust-ca NAME CA.pem`")
    for r in rows:
        state = f"revoked {r.revoked_at:%Y-%m-%d} ({r.revoke_reason})" if r.revoked_at else "trusted"
        kind = "CA" if r.is_ca else "certificate"
        print(f"{r.name:<20} {kind:<11} SHA256:{r.fingerprint[:16]}  {r.subject}  {state}")
    return 0


def run_sign(args) -> int:
    from modelgate.core.signing.keys import read_passphrase, short
    from modelgate.core.signing.sign import sign_bundle

    if attestation_commands.is_token_key(args.key):
        return attestation_commands.run_sign_with_token(args)
    signer = args.signer or args.key.name.split(".")[0]
    _require_exists(args.key, "key file")
    if args.certificate_chain and args.certificate is None:
        from modelgate.core.errors import UsageError

        raise UsageError("--certificate-chain needs --certificate", hint="Pass the signing certificate too.")
    for path in ([args.certificate] if args.certificate else []) + args.certificate_chain:
        _require_exists(path, "certificate file")
    if args.bundle.exists() or "@" not in str(args.bundle):
        _require_exists(args.bundle, "bundle")
    passphrase = read_passphrase(passphrase_file=args.passphrase_file, prompt=f"Passphrase for {args.key}: ")
    if not args.bundle.exists() and "@" in str(args.bundle):
        return _sign_version(args, signer, passphrase)
    renderer = TerminalProgress()
    try:
        result = sign_bundle(path=args.bundle, key=args.key, passphrase=passphrase, signer=signer,
                             progress=renderer.progress(), certificate=args.certificate,
                             chain=tuple(args.certificate_chain))
    finally:
        renderer.finish()
    print(f"signed {result.files} files ({human_bytes(result.size)}) of {args.bundle}")
    print(f"signature   {result.signature}")
    print(f"key         {short(result.fingerprint)}")
    print(f"bundle      {result.bundle_digest}")
    return 0


def _sign_version(args, signer: str, passphrase: bytes) -> int:
    from modelgate.core.cli.registry_options import parse_ref
    from modelgate.core.registry.signatures import sign_version
    from modelgate.core.signing.keys import short

    name, version = parse_ref(str(args.bundle))
    renderer = TerminalProgress()
    try:
        with open_from_args(args) as registry:
            recorded = sign_version(registry, name=name, version=version, key=args.key,
                                    passphrase=passphrase, signer=signer, progress=renderer.progress(),
                                    certificate=args.certificate, chain=tuple(args.certificate_chain))
    finally:
        renderer.finish()
    for info in recorded:
        print(f"{name}@{version} signed by {info.signer} with {short(info.key_fingerprint)}; recorded")
    if not recorded:
        print(f"{name}@{version}: this signature was already recorded")
    return 0


def trust_from_args(args):
    """The trust store: --trust, else $MODELGATE_TRUST_STORE, else the registry's trusted signers."""
    from modelgate.core import settings
    from modelgate.core.signing.trust import load_trust_store

    chains = getattr(args, "certificate_chain", [])
    if args.trust or chains:
        return load_trust_store(args.trust, certificate_chains=chains)
    configured = settings.get(settings.TRUST_STORE)
    if configured:
        return load_trust_store([Path(p) for p in configured.split(":") if p])
    from modelgate.core.registry.signatures import trust_store

    with open_from_args(args) as registry:
        return trust_store(registry)


def _trusts_the_registry(args) -> bool:
    """Whether :func:`trust_from_args` fell back on the registry's trusted signers."""
    from modelgate.core import settings
    return not args.trust and not getattr(args, "certificate_chain", []) and not settings.get(settings.TRUST_STORE)


def _with_revocations(args, report):
    """``report`` with signatures by keys the registry revoked shown as revoked, not unknown."""
    from dataclasses import replace

    from modelgate.core.registry.signatures import mark_revoked

    with open_from_args(args) as registry:
        return replace(report, checks=mark_revoked(registry, report.checks))


def _require_exists(path: Path, what: str) -> None:
    """Say what is missing before asking for a passphrase or opening a registry."""
    from modelgate.core.errors import UsageError

    if not path.exists():
        raise UsageError(f"{what} {path} does not exist")


def run_verify(args) -> int:
    from modelgate.core.errors import UsageError
    from modelgate.core.semver import split_reference
    from modelgate.core.signing.verify import verify_bundle

    if args.signature is not None:
        return _verify_model(args)
    if args.ignore_paths or args.no_ignore_git_paths:
        raise UsageError("--ignore-paths and --no-ignore-git-paths apply to MODEL_PATH --signature SIG",
                         hint="A bundle's signatures must cover every file but signatures/.")
    if args.attestations:
        if "@" not in str(args.bundle):  # NAME@VERSION names a stored version, anything else a path
            _require_exists(args.bundle, "bundle")
        return attestation_commands.run_verify_attestations(args, trust=trust_from_args(args))
    if not args.bundle.exists() and split_reference(str(args.bundle)) is not None:
        return _verify_stored(args, *split_reference(str(args.bundle)))
    _require_exists(args.bundle, "bundle")
    trust = trust_from_args(args)
    renderer = TerminalProgress()
    try:
        report = verify_bundle(path=args.bundle, trust=trust, progress=renderer.progress())
    finally:
        renderer.finish()
    if _trusts_the_registry(args):
        report = _with_revocations(args, report)
    if args.json:
        print(json.dumps(_as_json(report, args.bundle), indent=2))
    else:
        sys.stdout.write(_as_text(report, args.bundle, colour=use_colour(sys.stdout)))
    return 0 if report.passed else 1


def _verify_stored(args, name: str, version: str) -> int:
    """``verify NAME@VERSION``: the stored bytes (wherever the store keeps them) against the
    digests recorded at import, then every signature against the trust store. Damage is
    marked, audited and refused with exit 1 before any signature is looked at."""
    from modelgate.core.registry.damage import require_intact
    from modelgate.core.registry.signatures import verify_version

    explicit = None if _trusts_the_registry(args) else trust_from_args(args)
    renderer = TerminalProgress()
    try:
        with open_from_args(args) as registry:
            require_intact(registry, name=name, version=version, action="verify", progress=renderer.progress())
            report = verify_version(registry, name=name, version=version, trust=explicit,
                                    progress=renderer.progress())
    finally:
        renderer.finish()
    label = f"{name}@{version}"
    if args.json:
        print(json.dumps(_as_json(report, label), indent=2))
    else:
        sys.stdout.write(_as_text(report, label, colour=use_colour(sys.stdout)))
    return 0 if report.passed else 1


def _verify_model(args) -> int:
    from modelgate.core.signing.model_verify import verify_model

    _require_exists(args.bundle, "model")
    _require_exists(args.signature, "signature")
    for path in args.certificate_chain:
        _require_exists(path, "certificate file")
    trust = trust_from_args(args)
    renderer = TerminalProgress()
    try:
        verdict = verify_model(model=args.bundle, signature=args.signature, trust=trust,
                               ignore_paths=args.ignore_paths, ignore_git_paths=not args.no_ignore_git_paths,
                               progress=renderer.progress())
    finally:
        renderer.finish()
    check = verdict.check
    if args.json:
        print(json.dumps({"model": str(args.bundle), "trust": verdict.trust, "passed": verdict.passed,
                          "covered_files": verdict.covered, "signature": _check_json(check)}, indent=2))
        return 0 if verdict.passed else 1
    colour = use_colour(sys.stdout)
    lines = [f"ModelGate: signature {args.signature} over {args.bundle}",
             f"trust store: {verdict.trust or '(empty)'}", ""]
    lines += _check_lines(check, colour=colour)
    outcome = "PASS" if verdict.passed else "FAIL"
    if colour:
        outcome = paint(outcome, "green" if verdict.passed else "red")
    if check.valid:
        scope = f"covers {verdict.covered} file(s)" + (f", {len(check.uncovered)} not covered" if check.uncovered else "")
        lines += ["", f"signature valid and trusted; {scope}: {outcome}"]
    else:
        lines += ["", f"signature not accepted: {outcome}"]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0 if verdict.passed else 1


#: How many uncovered files the text output names before it says "and N more".
SHOWN_UNCOVERED = 20


def _check_json(check) -> dict:
    return {"file": check.file, "status": check.status, "signer": check.signer,
            "key_fingerprint": check.fingerprint, "reason": check.reason or None,
            "signer_kind": check.signer_kind or None, "format": check.format_version or None,
            "certificate_chain": list(check.chain), "uncovered": list(check.uncovered)}


def _check_lines(check, *, colour: bool) -> list[str]:
    from modelgate.core.signing.keys import short

    status = check.status.upper().ljust(10)
    status = paint(status, "green" if check.valid else "red") if colour else status
    who = f"signer {check.signer}" if check.signer else "unknown signer"
    noun = "certificate" if check.signer_kind == "certificate" else "key"
    key = f"{noun} {short(check.fingerprint)}" if check.fingerprint else "names no key"
    lines = [f"  {status} {check.file}  {who}  {key}"]
    if check.format_version:
        lines.append(f"             format {check.format_version}, signer named by {check.signer_kind}")
    if check.chain:
        lines.append(f"             chain: {' <- '.join(check.chain)}")
    if check.reason:
        lines.append(f"             {check.reason}")
    if check.uncovered:
        shown = ", ".join(check.uncovered[:SHOWN_UNCOVERED])
        more = f" and {len(check.uncovered) - SHOWN_UNCOVERED} more" if len(check.uncovered) > SHOWN_UNCOVERED else ""
        lines.append(f"             not covered by this signature (MG805): {shown}{more}")
    return lines


def _as_json(report, bundle: Path) -> dict:
    return {"bundle": str(bundle), "bundle_digest": report.bundle_digest, "trust": report.trust,
            "passed": report.passed,
            "signatures": [_check_json(c) for c in report.checks]}


def _as_text(report, bundle: Path, *, colour: bool) -> str:
    lines = [f"ModelGate: signatures of {bundle} · bundle digest {report.bundle_digest[:16]}…",
             f"trust store: {report.trust or '(empty)'}", ""]
    if not report.checks:
        lines.append("  no signatures (signatures/*.sig) in this bundle")
    for check in report.checks:
        lines += _check_lines(check, colour=colour)
    valid = sum(c.valid for c in report.checks)
    verdict = "PASS" if report.passed else "FAIL"
    if colour:
        verdict = paint(verdict, "green" if report.passed else "red")
    lines += ["", f"{valid} of {len(report.checks)} signatures valid and trusted: {verdict}"]
    return "\n".join(lines) + "\n"
