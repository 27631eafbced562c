"""The whole rule catalogue: every rule, which needs every module that declares rules.

Rules are declared beside their checks (:func:`modelgate.core.rules.rule`); the catalogue is
complete only once each of those modules is imported, which is what this module does.
"""

from __future__ import annotations

from modelgate.core.errors import PolicyError, UsageError
from modelgate.core.rules import CATALOG, Rule


def catalog() -> dict[str, Rule]:
    """Every rule, by id, in id order (imports every check module)."""
    import modelgate.core.bundle.manifest  # noqa: F401  (MG101-MG103)
    import modelgate.core.checks.engine  # noqa: F401  (MG100)
    from modelgate.core.checks import load_all

    load_all()
    return dict(sorted(CATALOG.items()))


def get_rule(rule_id: str) -> Rule:
    """The rule with this id (any case); a usage error names the command that lists them."""
    rules = catalog()
    key = rule_id.strip().upper()
    if key not in rules:
        raise UsageError(f"no rule {rule_id!r}", hint="`modelgate rules` lists every rule id.")
    return rules[key]


def check_rule_ids(policy) -> None:
    """Refuse a policy that overrides rules that do not exist (a typo would silently do nothing)."""
    unknown = sorted(set(policy.overridden_rules) - set(catalog()))
    if unknown:
        raise PolicyError(f"policy {policy.source} names rules that do not exist: {', '.join(unknown)}",
                          hint="`modelgate rules` lists every rule id.")
