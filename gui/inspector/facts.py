"""Everything the inspector shows about one bundle, gathered off the UI thread from the core.

Qt-free: :func:`gather` opens the bundle and asks the core for its summary (hashing
for the lock state), model card, license breakdown, graphs and benchmark results;
:func:`validate` runs the validation engine as ``modelgate validate`` does. Both run
on a worker with the core's one :class:`~modelgate.core.progress.Progress`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from modelgate.core.policy import licensing
from modelgate.core.bundle import modelcard
from modelgate.core.benchmarks.results import BenchmarkProblem, Result, load_results
from modelgate.core.bundle.reader import MODEL_CARD, Bundle, open_bundle
from modelgate.core.errors import BundleError
from modelgate.core.formats import describe
from modelgate.core.formats import registry as formats
from modelgate.core.formats.onnx.graph_info import GraphSummary, PortComparison, compare_ports, summarise_graph
from modelgate.core.bundle.manifest import load_manifest
from modelgate.core.bundle.manifest_types import Manifest, typed_manifest
from modelgate.core.policy.document import Policy
from modelgate.core.progress import Progress
from modelgate.core.bundle.summary import summarise
from modelgate.gui.inspector.card_html import render_card

#: Largest license text shown, in bytes.
LICENSE_TEXT_LIMIT = 512 * 1024
_LICENSE_FILE = re.compile(r"^(licen[cs]e|copying)(\.md|\.txt)?$|^licenses/.+", re.IGNORECASE)


@dataclass(frozen=True)
class LicenseTerm:
    """One license of an expression and its standing under the policy."""

    key: str
    exception: str | None
    status: licensing.Status


@dataclass(frozen=True)
class DatasetLicense:
    """A training or test dataset and its license's standing (``problem`` when unreadable)."""

    name: str
    version: str
    license: str
    status: licensing.Status | None
    problem: str | None = None


@dataclass(frozen=True)
class LicenseFacts:
    """The model's SPDX expression broken down, the license texts and the dataset licenses."""

    expression: str | None
    normalized: str | None
    problem: str | None
    terms: tuple[LicenseTerm, ...]
    evaluation: licensing.Evaluation | None
    texts: tuple[tuple[str, str], ...]          # (file, text or why it cannot be shown)
    datasets: tuple[DatasetLicense, ...]


@dataclass(frozen=True)
class ArtifactGraph:
    """One artifact: an ONNX graph summary and ports, another format's facts, or why it could not be read."""

    path: str
    variant: str
    summary: GraphSummary | None
    ports: tuple[PortComparison, ...] = ()
    problem: str | None = None
    model: dict | None = None        # the format's facts (core.formats.describe) for non-ONNX files
    warnings: tuple[str, ...] = ()   # what reading the file found wrong (unsafe imports, layout)


@dataclass(frozen=True)
class ChampionResults:
    """The current champion's benchmark results, to compare with."""

    label: str
    results: tuple[Result, ...]


@dataclass
class BundleFacts:
    """What the inspector's tabs show; ``bundle`` stays open until :meth:`close`."""

    bundle: Bundle
    summary: dict
    manifest: dict
    card: modelcard.ModelCard | None
    card_problem: str | None
    card_html: object | None          # a RenderedCard: sanitised here, off the UI thread
    licenses: LicenseFacts
    graphs: list[ArtifactGraph]
    results: list[Result]
    result_problems: list[BenchmarkProblem]
    champion: ChampionResults | None = None
    targets: tuple = ()  # the typed manifest's targets

    @cached_property
    def typed(self) -> Manifest:
        """The manifest as typed, frozen objects: what the tabs read."""
        return typed_manifest(self.manifest)

    @property
    def label(self) -> str:
        return f"{self.summary.get('name')}@{self.summary.get('version')}"

    def __getstate__(self) -> dict:
        # The facts cross to a worker process and back; the typed manifest (read-only
        # mappings, which do not pickle) is rebuilt from the plain one on the other side.
        state = dict(self.__dict__)
        state.pop("typed", None)
        return state

    def close(self) -> None:
        """Remove an extracted archive's private folder (a folder bundle is left alone)."""
        self.bundle.close()


def license_facts(bundle: Bundle, manifest: Manifest, policy: Policy) -> LicenseFacts:
    """Break the typed manifest's license down under ``policy`` and read the license texts."""
    written = manifest.license
    expression, problem = None, None
    if written is None:
        problem = "bundle.yaml names no license"
    else:
        try:
            expression = licensing.parse(written)
        except licensing.LicenseSyntaxError as error:
            problem = error.reason + (f" (did you mean {error.suggestion}?)" if error.suggestion else "")
    terms = tuple(LicenseTerm(t.key, t.exception, licensing.classify(t.key, policy.licenses))
                  for t in (expression.terms if expression else ()))
    evaluation = licensing.evaluate(expression, policy.licenses) if expression else None
    datasets = []
    for item in manifest.provenance.dataset_entries:
        name, version, text = item.name or "?", item.version or "", item.license
        if text is None:
            datasets.append(DatasetLicense(name, version, "", None, "no license recorded"))
            continue
        try:
            parsed = licensing.parse(text)
        except licensing.LicenseSyntaxError as error:
            datasets.append(DatasetLicense(name, version, text, None, error.reason))
            continue
        datasets.append(DatasetLicense(name, version, parsed.normalized,
                                       licensing.evaluate(parsed, policy.licenses).status))
    return LicenseFacts(written, expression.normalized if expression else None, problem, terms,
                        evaluation, tuple(_license_texts(bundle, manifest)), tuple(datasets))


def _license_texts(bundle: Bundle, manifest: Manifest) -> list[tuple[str, str]]:
    listed = list(manifest.license_files)
    files = bundle.files()
    names = listed + [f for f in files if _LICENSE_FILE.match(f) and f not in listed]
    texts = []
    for name in names:
        if name not in files:
            texts.append((name, f"{name} is listed in license_files but is not in the bundle."))
            continue
        try:
            data = bundle.read_bytes(name, limit=LICENSE_TEXT_LIMIT)
            texts.append((name, data.decode("utf-8-sig", errors="replace")))
        except BundleError as error:
            texts.append((name, error.message))
    return texts


def _card(bundle: Bundle) -> tuple[modelcard.ModelCard | None, str | None]:
    if MODEL_CARD not in bundle.files():
        return None, "The bundle has no MODEL_CARD.md."
    try:
        text = modelcard.decode(bundle.read_bytes(MODEL_CARD, limit=modelcard.MAX_CARD_BYTES))
    except (BundleError, modelcard.CardError) as error:
        return None, f"MODEL_CARD.md cannot be shown: {error.message}"
    return modelcard.parse_card(text), None


def _graphs(bundle: Bundle, typed: Manifest, progress: Progress) -> list[ArtifactGraph]:
    artifacts = [a for a in typed.artifacts if a.path is not None]
    progress.start(label="reading the graphs", total=len(artifacts))
    graphs, files = [], set(bundle.files())
    for artifact in artifacts:
        path, variant = artifact.path, artifact.variant or ""
        fmt = formats.by_name(artifact.format)
        if path not in files:
            graphs.append(ArtifactGraph(path, variant, None, problem=f"{path} is not in the bundle"))
        elif fmt is None or not fmt.onnx_checks:
            graphs.append(_model(bundle, path, variant, artifact.format))
        else:
            try:
                summary = summarise_graph(bundle, path)
                graphs.append(ArtifactGraph(path, variant, summary, tuple(compare_ports(typed, summary))))
            except BundleError as error:
                graphs.append(ArtifactGraph(path, variant, None, problem=error.message))
            except Exception as error:  # onnx raises DecodeError, ValueError, OSError...
                # The parser's own words, on one line, without Python's name for the exception.
                said = " ".join(str(error).split())[:200]
                graphs.append(ArtifactGraph(path, variant, None, problem=f"{path} is not a readable ONNX "
                                            f"model" + (f": {said}" if said else "")))
        progress.advance()
    return graphs


def _model(bundle: Bundle, path: str, variant: str, declared: str | None) -> ArtifactGraph:
    """A file in a format other than ONNX, described from its header; a pickle is never loaded."""
    facts, found = describe.read_artifact(bundle=bundle, path=path, declared=declared)
    warnings = tuple(f.message for f in found)
    if facts is None:
        return ArtifactGraph(path, variant, None, problem="; ".join(warnings) or f"{path} cannot be read",
                             warnings=warnings)
    return ArtifactGraph(path, variant, None, model=describe.facts_as_dict(facts), warnings=warnings)


def _champion_results(champion: tuple[str, Path] | None) -> ChampionResults | None:
    if champion is None:
        return None
    label, path = champion
    with open_bundle(path) as bundle:
        loaded = load_manifest(bundle)
        manifest, typed = loaded.data or {}, loaded.typed
        results, _ = load_results(bundle, manifest)
        return ChampionResults(f"{typed.name}@{typed.version}" if manifest else label,
                               tuple(results))


def gather(*, path: Path, policy: Policy, champion: tuple[str, Path] | None, progress: Progress) -> BundleFacts:
    """Open the bundle at ``path`` and read everything the inspector shows (see the module doc)."""
    bundle = open_bundle(path, progress=progress)
    try:
        summary = summarise(bundle, progress=progress, verify=True)
        manifest = load_manifest(bundle).require()
        card, card_problem = _card(bundle)
        rendered = render_card(card.body) if card is not None else None
        typed = typed_manifest(manifest)
        licenses = license_facts(bundle, typed, policy)
        graphs = _graphs(bundle, typed, progress)
        results, problems = load_results(bundle, manifest)
        return BundleFacts(bundle, summary, manifest, card, card_problem, rendered, licenses, graphs, results,
                           problems, _champion_results(champion), typed.targets)
    except BaseException:
        bundle.close()
        raise


def validate(*, subject: Subject, stage: str, progress: Progress):
    """Validate the shown bundle for ``stage`` as ``modelgate validate`` does: a bundle opened on
    its own has its signatures checked against the trust store in the settings; a registry
    version's signatures are the ones the registry recorded (read into ``subject.detail``),
    which its signature gate judges."""
    from contextlib import ExitStack

    from modelgate.core.checks.engine import validate_bundle
    from modelgate.core.checks.report import with_waivers
    from modelgate.core.checks.request import RecordedSignatures, ValidationRequest, trust_from

    detail, trust, recorded = subject.detail, None, None
    if detail is not None:
        recorded = RecordedSignatures(detail.info.ref, tuple(s.key_fingerprint for s in detail.signatures))
    else:
        trust = trust_from(location=subject.trust_store)
    with ExitStack() as stack:
        champion = stack.enter_context(open_bundle(subject.champion[1])) if subject.champion else None
        request = ValidationRequest(bundle=subject.facts.bundle, policy=subject.policy, stage=stage,
                                    champion=champion, trust=trust, recorded=recorded)
        report = validate_bundle(request=request, progress=progress)
    # a registry version's waivers show on the findings they excuse; a loose bundle has none
    waivers = getattr(detail, "waivers", ())
    return with_waivers(report, waivers=waivers, policy=subject.policy) if waivers else report


@dataclass
class Subject:
    """What the inspector shows: one bundle's facts, its registry record when it has one, the
    policy it is judged by, the stage it is judged for and the champion it is compared with."""

    facts: BundleFacts
    policy: Policy
    stage: str
    detail: object | None = None                    # a VersionDetail in a registry, else None
    champion: tuple[str, Path] | None = None         # (version, stored folder)
    trust_store: str = ""

    @property
    def label(self) -> str:
        return self.facts.label
