"""The governance policy (``modelgate.policy/v1``): licenses, model card, rule overrides, stage gates."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from modelgate.core import resources, settings
from modelgate.core.bundle import safeyaml
from modelgate.core.errors import PolicyError
from modelgate.core.findings import Severity
from modelgate.core.bundle.schema import validate

DEFAULT_POLICY = "default-policy.yaml"
#: Rules no waiver may cover when a policy does not say: signatures vouch for the bytes, and a
#: pickle that imports code-running callables (MG223, MG224) runs it on every machine loading it.
DEFAULT_FORBIDDEN_WAIVERS = ("MG8*", "MG223", "MG224")


def _number(value) -> float | int | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def _texts(value) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _frozen(value):
    """A parsed YAML value with every mapping read-only and every list a tuple."""
    if isinstance(value, dict):
        return MappingProxyType({key: _frozen(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    return value


@dataclass(frozen=True)
class MetricGate:
    """One ``stages.<stage>.metrics`` entry: a floor and/or ceiling for a metric."""

    metric: str
    dataset: str | None
    split: str | None
    min: float | int | None
    max: float | int | None

    def scope(self) -> str:
        """The metric and, when the gate narrows it, the dataset/split it applies to."""
        where = "/".join(part for part in (self.dataset, self.split) if part is not None)
        return self.metric + (f" on {where}" if where else "")

    def applies_to(self, *, metric: str, dataset: str, split: str) -> bool:
        return metric == self.metric and self.dataset in (None, dataset) and self.split in (None, split)


@dataclass(frozen=True)
class PeopleGate:
    """Approvals (``count``) or a release signature (``required``), with the roles that count."""

    count: int
    required: bool
    roles: tuple[str, ...]


@dataclass(frozen=True)
class StageGates:
    """The gates a version must pass to enter one stage, typed; absent gates are empty or off."""

    require_lock: bool
    require_inference: bool
    allow_pickle: bool
    provenance: tuple[str, ...]
    metrics: tuple[MetricGate, ...]
    regression: MappingProxyType | None  # the tolerances as given, for regression.compare
    approvals: PeopleGate
    signature: PeopleGate


def stage_gates(data) -> StageGates:
    """The typed gates of a stage's mapping (anything else gives no gates)."""
    data = data if isinstance(data, dict) else {}
    approvals = data.get("approvals") if isinstance(data.get("approvals"), dict) else {}
    signature = data.get("signature") if isinstance(data.get("signature"), dict) else {}
    count = approvals.get("count")
    metrics = data.get("metrics") if isinstance(data.get("metrics"), list) else []
    regression = data.get("regression")
    return StageGates(
        require_lock=bool(data.get("require_lock")), require_inference=bool(data.get("require_inference")),
        allow_pickle=bool(data.get("allow_pickle")),
        provenance=_texts(data.get("provenance")),
        metrics=tuple(MetricGate(g["metric"], _text(g.get("dataset")), _text(g.get("split")),
                                 _number(g.get("min")), _number(g.get("max")))
                      for g in metrics if isinstance(g, dict) and isinstance(g.get("metric"), str)),
        regression=_frozen(regression) if isinstance(regression, dict) else None,
        approvals=PeopleGate(count if isinstance(count, int) and not isinstance(count, bool) else 0,
                             False, _texts(approvals.get("roles"))),
        signature=PeopleGate(0, bool(signature.get("required")), _texts(signature.get("roles"))),
    )


@dataclass(frozen=True)
class Policy:
    """A loaded, schema-valid policy. ``digest`` is the sha256 of the file's bytes."""

    data: dict
    digest: str
    source: str

    @property
    def name(self) -> str:
        return self.data["name"]

    def stage(self, stage: str) -> dict:
        """The gates for ``stage`` (an empty mapping when the policy sets none)."""
        return (self.data.get("stages") or {}).get(stage) or {}

    def gates(self, stage: str) -> StageGates:
        """The gates for ``stage`` as a typed, frozen :class:`StageGates`."""
        return stage_gates(self.stage(stage))

    def severity_for(self, rule_id: str, default: Severity) -> Severity | None:
        """The severity the policy gives ``rule_id``; ``None`` when the rule is disabled."""
        override = (self.data.get("rules") or {}).get(rule_id) or {}
        if override.get("enabled") is False:
            return None
        return Severity(override["severity"]) if "severity" in override else default

    @property
    def overridden_rules(self) -> frozenset[str]:
        """The rule ids whose severity or switch the policy sets."""
        return frozenset(self.data.get("rules") or {})

    @property
    def licenses(self) -> dict:
        """The ``licenses`` mapping (allow and deny lists), as :mod:`.licensing` judges it."""
        return self.data.get("licenses") or {}

    @property
    def unknown_license_severity(self) -> Severity:
        """How a license neither allowed nor denied is reported (a warning unless the policy says)."""
        try:
            return Severity(self.licenses.get("unknown", "warning"))
        except ValueError:
            return Severity.WARNING

    @property
    def model_card(self) -> dict:
        return self.data.get("model_card") or {}

    @property
    def required_sections(self) -> tuple[str, ...]:
        """The model card sections the policy requires (blank names left out)."""
        return tuple(n for n in _texts(self.model_card.get("required_sections")) if n.strip())

    @property
    def min_words_per_section(self) -> int:
        """Fewest words a required model card section must hold (0: no floor)."""
        floor = self.model_card.get("min_words_per_section") or 0
        return floor if isinstance(floor, int) else 0

    @property
    def section_synonyms(self):
        """Other headings that count as each required section (``None``: the policy sets none)."""
        return self.model_card.get("section_synonyms")

    @property
    def forbidden_waivers(self) -> tuple[str, ...]:
        """The rule ids and family prefixes (``MG8*``) no waiver may cover, as the policy lists
        them under ``waivers.forbidden_rules``; :data:`DEFAULT_FORBIDDEN_WAIVERS` when absent."""
        waivers = self.data.get("waivers") or {}
        if "forbidden_rules" not in waivers:
            return DEFAULT_FORBIDDEN_WAIVERS
        return _texts(waivers.get("forbidden_rules"))

    def waiver_forbidden(self, rule_id: str) -> str | None:
        """The entry of :attr:`forbidden_waivers` that covers ``rule_id``, or ``None`` when a
        waiver of it is allowed."""
        for entry in self.forbidden_waivers:
            if rule_id == entry or (entry.endswith("*") and rule_id.startswith(entry[:-1])):
                return entry
        return None

    def device(self, name: str | None) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
        """The formats and weight types the policy allows on device ``name`` (``None``: any)."""
        rules = (self.data.get("devices") or {}).get(name) or {} if name else {}
        formats, dtypes = rules.get("formats"), rules.get("dtypes")
        return (tuple(formats) if formats is not None else None,
                tuple(d.lower() for d in dtypes) if dtypes is not None else None)


def _where(location) -> str:
    """`` (line N, column C)`` of a problem in the policy file, as far as it is known."""
    if not location.line:
        return ""
    return f" (line {location.line}" + (f", column {location.column})" if location.column else ")")


def parse_policy(raw: bytes, *, source: str) -> Policy:
    """Parse and validate policy bytes; raise :class:`PolicyError` on any problem."""
    limit = settings.get(settings.MAX_MANIFEST_BYTES)
    if len(raw) > limit:
        raise PolicyError(f"policy {source} is larger than {limit} bytes")
    try:
        document = safeyaml.load_document(safeyaml.decode_utf8(raw, what=f"policy {source}"))
        data = document.data
    except safeyaml.YamlProblem as problem:
        where = f" (line {problem.line})" if problem.line else ""
        raise PolicyError(f"policy {source}{where}: {problem.message}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"policy {source} is not a YAML mapping",
                          hint="A policy starts with `policy_format: modelgate.policy/v1`.")
    problems = validate(data, schema_name="policy.schema.json", rule="MG000", file=source, document=document)
    if problems:
        details = "\n".join(f"  - {p.message}" + _where(p.location)
                            + (f" ({p.hint})" if p.hint else "") for p in problems[:10])
        more = f"\n  … and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise PolicyError(f"policy {source} is not valid:\n{details}{more}",
                          hint="Compare it with the default: `modelgate policy show`.")
    licenses = data.get("licenses") or {}
    both = sorted({x.lower() for x in licenses.get("allow") or []} & {x.lower() for x in licenses.get("deny") or []})
    if both:
        raise PolicyError(f"policy {source} both allows and denies {', '.join(both)}",
                          hint="Keep each license in one list: `licenses.allow` or `licenses.deny`.")
    return Policy(data=data, digest=hashlib.sha256(raw).hexdigest(), source=source)


def load_policy(path: str | Path | None = None) -> Policy:
    """Load the policy at ``path``, or the default policy shipped with ModelGate."""
    if path is None:
        target = resources.path(DEFAULT_POLICY)
        return parse_policy(target.read_bytes(), source="default policy")
    target = Path(path)
    try:
        raw = target.read_bytes()
    except FileNotFoundError:
        raise PolicyError(f"policy file {target} does not exist") from None
    except IsADirectoryError:
        raise PolicyError(f"policy file {target} is a folder") from None
    except OSError as exc:
        raise PolicyError(f"policy file {target} could not be read: {exc.strerror}") from None
    return parse_policy(raw, source=str(target))
