"""MG1xx: structure and integrity — digests, missing and unlisted files, the lock."""

from __future__ import annotations

from collections import Counter

from modelgate.core.checks import register
from modelgate.core.findings import Severity
from modelgate.core.bundle.integrity import LockState
from modelgate.core.formats import registry as formats
from modelgate.core.rules import rule

ARTIFACT_DIGEST = rule(
    "MG104", title="Artifact digest does not match", severity=Severity.ERROR,
    rationale="""artifacts[].sha256 is what reviewers approve and signers sign. If the bytes
    differ, the model was changed after it was described, by accident or on purpose.""",
    fix="""If the change is intended, run `modelgate lock BUNDLE_DIR` and have the bundle
    reviewed again; otherwise restore the original artifact.""",
)
LISTED_MISSING = rule(
    "MG105", title="A file the manifest lists is missing", severity=Severity.ERROR,
    rationale="""A bundle must be complete: every artifact and every entry of `files` must be
    present, or deployment and verification will fail later, far from the cause.""",
    fix="""Add the missing file, or remove it from bundle.yaml and run `modelgate lock`.""",
)
UNLISTED = rule(
    "MG106", title="A file is present but not covered by the digests", severity=Severity.ERROR,
    rationale="""Files that `files` does not list are not covered by the lock or by a signature,
    so they could be swapped unnoticed. Anything shipped must be accounted for.""",
    fix="""Remove the stray file, or run `modelgate lock` to record it.""",
)
NOT_LOCKED = rule(
    "MG107", title="Bundle is not locked", severity=Severity.WARNING,
    rationale="""An unlocked bundle records no digests, so nobody can prove later which bytes
    were reviewed. The policy makes this an error from the stage where `require_lock` is set
    (staging and production by default).""",
    fix="""Run `modelgate lock BUNDLE_DIR` once the bundle is complete.""",
)
ARTIFACT_SIZE = rule(
    "MG108", title="Artifact size does not match", severity=Severity.ERROR,
    rationale="""artifacts[].size is checked together with the digest; a different size is the
    quickest sign of a truncated or replaced file.""",
    fix="""Run `modelgate lock BUNDLE_DIR` after an intended change; otherwise restore the file.""",
)
FILE_DIGEST = rule(
    "MG109", title="A file's digest does not match the lock", severity=Severity.ERROR,
    rationale="""The `files` map pins every file of the bundle. A mismatch means the file changed
    after the bundle was locked (and after any review or signature based on it).""",
    fix="""If the change is intended, run `modelgate lock` and review the bundle again.""",
)
PATH_ESCAPES = rule(
    "MG110", title="A path leads outside the bundle", severity=Severity.ERROR,
    rationale="""Paths in a bundle are relative to its folder. A path that climbs out with '..',
    is absolute, or passes through a link could make a tool read files the bundle does not
    own (`../../etc/passwd`); such paths are refused and never opened.""",
    fix="""Use a path relative to the bundle folder, without '..', and without links.""",
)
NO_ARTIFACTS = rule(
    "MG111", title="No artifacts", severity=Severity.ERROR,
    rationale="""A bundle exists to ship a model; one whose `artifacts` list is empty has nothing
    to review, run or sign.""",
    fix="""Copy the ONNX model under model/ and list it in `artifacts` (or run
    `modelgate init NAME --model MODEL.onnx`).""",
)
ARTIFACT_SUFFIX = rule(
    "MG112", title="Artifact file name does not fit its format", severity=Severity.WARNING,
    rationale="""Deployment tools pick loaders by file name; an artifact should end in its format's
    suffix (.onnx, .safetensors, .gguf, .tflite, .pt) and live under model/ as the standard lays out.""",
    fix="""Rename the file to end in its format's suffix, keep it under model/, and lock again.""",
)
DUPLICATE_ARTIFACT = rule(
    "MG113", title="Two artifacts share a path or a variant", severity=Severity.ERROR,
    rationale="""Targets select an artifact by its variant (fp32, int8...). Two artifacts with the
    same variant, or the same file listed twice, make that choice ambiguous.""",
    fix="""Give every artifact its own file and a distinct variant name.""",
)
JUNK_FILE = rule(
    "MG114", title="Stray system or build file in the bundle", severity=Severity.WARNING,
    rationale="""Files such as .DS_Store, __pycache__, .git/ or editor backups are left behind by
    tools, not meant to ship, and may leak information about the machine they came from.""",
    fix="""Delete them and run `modelgate lock` again.""",
)
# MG120 to MG122 are found by the bundle reader (core/bundle), below the checks, by their ids.
rule(
    "MG120", title="Archive entry with an unsafe path", severity=Severity.ERROR,
    rationale="""An archive entry with an absolute path or '..' parts would be written outside
    the extraction folder ("zip slip"). ModelGate refuses the whole archive before writing.""",
    fix="""Rebuild the archive from the bundle folder with relative paths.""",
)
rule(
    "MG121", title="Link or special file in the bundle", severity=Severity.ERROR,
    rationale="""Links that point outside the bundle, links to folders, device files and FIFOs
    could make a reader leak or hang. Bundles hold only folders and regular files (a link that
    stays inside an archive is read as a copy of its target).""",
    fix="""Replace links by the files themselves; remove device files and FIFOs.""",
)
rule(
    "MG122", title="Archive exceeds the extraction limits", severity=Severity.ERROR,
    rationale="""An archive with too many entries or one that expands to too many bytes ("zip
    bomb") could exhaust the disk; extraction stops as soon as a limit is crossed.""",
    fix="""Check the archive's contents; raise MODELGATE_MAX_ARCHIVE_ENTRIES or
    MODELGATE_MAX_ARCHIVE_BYTES if the bundle is genuinely that large.""",
)
SIGNATURE_SCOPE = rule(
    "MG130", title="Something other than a signature under signatures/", severity=Severity.ERROR,
    rationale="""signatures/ is left out of every digest and signature, because a signature
    cannot cover itself. Any other file kept there (a benchmark, a license text), or declared
    there by bundle.yaml, could be edited after signing while `verify` still says OK and
    `validate` reads the edited bytes. `modelgate lock` refuses such a bundle.""",
    fix="""Move the file out of signatures/ (benchmarks/, licenses/...), update bundle.yaml to
    point at its new place, and run `modelgate lock`; signatures/ keeps only
    signatures/<signer>.sig.""",
)
UNDECLARED_MODEL = rule(
    "MG131", title="A model file is not a declared artifact", severity=Severity.ERROR,
    rationale="""Every model in a bundle is reviewed, checked and run as a declared artifact. A
    second ONNX, safetensors, GGUF, TFLite or pickle/PyTorch file beside the declared one
    (whatever its name: files are recognised by their bytes) would ship unreviewed and could
    be loaded in place of the approved model. This holds before the bundle is locked too.""",
    fix="""Declare the file in `artifacts` (with its format and variant) or remove it from the
    bundle, then run `modelgate lock`.""",
)

_JUNK_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
_JUNK_PARTS = {"__pycache__", ".git", ".svn", ".hg", ".ipynb_checkpoints", ".idea", ".vscode"}


@register()
def artifacts(ctx):
    """MG104, MG108, MG105, MG111, MG112, MG113: the artifacts list against the files."""
    if not ctx.typed.is_list("artifacts"):
        return
    if not ctx.typed.list_lengths["artifacts"]:
        yield NO_ARTIFACTS.finding("bundle.yaml lists no artifacts", path="artifacts")
        return
    files = set(ctx.bundle.files())
    typed = ctx.typed.artifacts
    paths = Counter(a.path for a in typed if a.path is not None)
    variants = Counter(a.variant for a in typed if a.variant is not None)
    for artifact in typed:
        if artifact.path is None:
            continue
        path = artifact.path
        where = f"artifacts[{artifact.index}]"
        if paths[path] > 1:
            yield DUPLICATE_ARTIFACT.finding(f"{path} is listed {paths[path]} times", path=f"{where}.path")
        if artifact.variant is not None and variants[artifact.variant] > 1:
            yield DUPLICATE_ARTIFACT.finding(
                f"variant {artifact.variant!r} is used by more than one artifact",
                path=f"{where}.variant")
        fmt = formats.by_name(artifact.format)
        if fmt is not None and not path.lower().endswith(fmt.suffixes):
            yield ARTIFACT_SUFFIX.finding(f"{path} is an {fmt.title} artifact whose name does not end in "
                                          f"{' or '.join(fmt.suffixes)}", path=f"{where}.path")
        if path not in files:
            yield LISTED_MISSING.finding(f"artifact {path} is not in the bundle", path=f"{where}.path")
    for index, key, message in ctx.integrity.artifact_problems:
        which = ARTIFACT_DIGEST if key == "sha256" else ARTIFACT_SIZE
        yield which.finding(message, path=f"artifacts[{index}].{key}",
                            hint="Run `modelgate lock` after an intended change.")


@register()
def lock_state(ctx):
    """MG107, MG109, MG105, MG106: the `files` map against the bundle's bytes."""
    report = ctx.integrity
    if report.state is LockState.UNLOCKED:
        severity = Severity.ERROR if ctx.gates.require_lock else Severity.WARNING
        yield NOT_LOCKED.finding(
            "bundle.yaml has no `files` digests" + (f"; the {ctx.stage} stage requires a locked bundle"
                                                   if severity is Severity.ERROR else ""),
            path="files", severity=severity, hint="Run `modelgate lock BUNDLE_DIR`.")
        return
    for name in report.mismatched:
        yield FILE_DIGEST.finding(f"{name} changed since the bundle was locked", file=name,
                                  path=f"files.{name}")
    for name in report.missing:
        yield LISTED_MISSING.finding(f"{name} is listed in `files` but not in the bundle",
                                     path=f"files.{name}")
    for name in report.unlisted:
        yield UNLISTED.finding(f"{name} is in the bundle but not in `files`", file=name,
                               hint="Remove it, or run `modelgate lock` to record it.")


@register(needs_manifest=False)
def layout(ctx):
    """MG114: stray system and build files."""
    for name in ctx.bundle.files():
        parts = name.split("/")
        if parts[-1] in _JUNK_NAMES or _JUNK_PARTS.intersection(parts[:-1]) or \
                parts[-1].endswith(("~", ".pyc", ".swp")):
            yield JUNK_FILE.finding(f"{name} looks like a stray system or build file", file=name)



@register(needs_manifest=False)
def signature_scope(ctx):
    """MG130: signatures/ holds signature files only, and nothing declared lives there."""
    from modelgate.core.bundle.scope import signature_scope_problems

    for problem in signature_scope_problems(ctx.bundle, ctx.typed):
        yield SIGNATURE_SCOPE.finding(problem.message, file=problem.file if problem.path is None
                                      else "bundle.yaml", path=problem.path,
                                      hint="signatures/ keeps only signatures/<signer>.sig.")


def _covered(ctx) -> set[str]:
    """Files a declared artifact spans besides itself (the shards a safetensors index names)."""
    if ctx.manifest is None:
        return set()
    covered = set()
    for _, artifact in ctx.artifacts():
        fmt = formats.by_name(artifact.format)
        if fmt is not None:
            folder = artifact.path.rsplit("/", 1)[0] + "/" if "/" in artifact.path else ""
            covered.update(folder + name for name in fmt.companions(path=ctx.bundle.resolve(artifact.path)))
    return covered


@register(needs_manifest=False)
def undeclared_models(ctx):
    """MG131: every file whose bytes are a model is a declared artifact, locked or not."""
    from modelgate.core.bundle.scope import undeclared_models as find

    covered = _covered(ctx)
    for name, fmt in find(ctx.bundle, ctx.typed):
        if name in covered:
            continue
        yield UNDECLARED_MODEL.finding(f"{name} is a {fmt} model file but no artifact declares it",
                                       file=name, hint="Declare it in `artifacts`, or remove it.")
