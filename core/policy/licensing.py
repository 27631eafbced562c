"""SPDX license expressions against a policy's allow and deny lists.

:func:`parse` turns an expression such as ``MIT OR (Apache-2.0 WITH LLVM-exception)``
into a small tree of :class:`Term`, :class:`AllOf` and :class:`AnyOf` with canonical
SPDX ids, or raises :class:`LicenseSyntaxError` with the reason and the closest SPDX
id. :func:`evaluate` decides whether a licensee can pick an option made only of
licenses the policy allows: ``A OR B`` is as good as its better side, ``A AND B``
as bad as its worse side. ``LicenseRef-...`` ids are custom licenses: valid, but
never known to the policy unless it lists them.

The ``license_expression`` package is imported lazily; its SPDX index is built once.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass
from functools import cache

#: Longer expressions are refused rather than parsed: real ones are a few ids long.
MAX_EXPRESSION_CHARS = 2000

_SINGLE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.:+-]*$")
_CUSTOM = re.compile(r"^(DocumentRef-[A-Za-z0-9.-]+:)?(LicenseRef|AdditionRef)-[A-Za-z0-9.-]+$",
                     re.IGNORECASE)


class LicenseSyntaxError(ValueError):
    """An expression that is not valid SPDX; ``suggestion`` is the closest SPDX id, if any."""

    def __init__(self, reason: str, suggestion: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.suggestion = suggestion


@dataclass(frozen=True)
class Term:
    """One license, optionally ``WITH`` an exception (ids in canonical SPDX case)."""

    key: str
    exception: str | None = None

    def __str__(self) -> str:
        return f"{self.key} WITH {self.exception}" if self.exception else self.key


@dataclass(frozen=True)
class AllOf:
    """``A AND B``: every part applies."""

    parts: tuple


@dataclass(frozen=True)
class AnyOf:
    """``A OR B``: the licensee picks one part."""

    parts: tuple


@dataclass(frozen=True)
class LicenseExpression:
    """A parsed expression: ``text`` as written, ``normalized`` in canonical SPDX form."""

    text: str
    normalized: str
    tree: Term | AllOf | AnyOf

    @property
    def terms(self) -> tuple[Term, ...]:
        """Every license term, in order, without repeats."""
        return tuple(dict.fromkeys(_terms(self.tree)))

    @property
    def keys(self) -> tuple[str, ...]:
        """The license ids (exceptions left out), in order, without repeats."""
        return tuple(dict.fromkeys(t.key for t in self.terms))


class Status(enum.Enum):
    """A license's standing under a policy, best first."""

    ALLOWED = "allowed"
    UNKNOWN = "unknown"
    DENIED = "denied"


@dataclass(frozen=True)
class Evaluation:
    """The best option an expression offers under a policy.

    ``chosen`` is the licenses of that option; ``denied`` the denied licenses that
    cannot be avoided (only when ``status`` is DENIED); ``unknown`` the unreviewed
    licenses of the chosen option.
    """

    status: Status
    chosen: tuple[str, ...]
    denied: tuple[str, ...]
    unknown: tuple[str, ...]


#: The SPDX table shipped with ModelGate, derived from license-expression's index by
#: :func:`spdx_table_from_index`; a test keeps the two equal.
SPDX_TABLE = "spdx-ids.json"


def spdx_table_from_index() -> dict[str, list]:
    """Lower-case SPDX id or alias -> ``[canonical id, is_exception]``, from license-expression's index.

    A plain mapping: license-expression's full Licensing object also builds a
    matching automaton that ids looked up one by one never use. ScanCode's own
    ``LicenseRef-scancode-...`` ids are left out: custom ids never need a lookup.
    """
    from license_expression import get_license_index

    table: dict[str, list] = {}
    aliases: list[tuple[str, list]] = []
    for entry in get_license_index():
        key = entry.get("spdx_license_key")
        if not key or is_custom(key):
            continue
        value = [key, bool(entry.get("is_exception"))]
        table.setdefault(key.lower(), value)
        aliases.extend((alias.lower(), value) for alias in entry.get("other_spdx_license_keys") or [])
    for alias, value in aliases:  # a primary id always wins over another entry's alias
        table.setdefault(alias, value)
    return dict(sorted(table.items()))


@cache
def _shipped() -> dict[str, list]:
    # Reading the 1 MB index costs more than the rest of a small bundle's
    # license checks; the shipped table holds only what a lookup needs.
    from modelgate.core import resources
    return json.loads(resources.text(SPDX_TABLE))


@cache
def _indexed() -> dict[str, list]:
    return spdx_table_from_index()


def _lookup(key: str) -> tuple[str, bool] | None:
    """``(canonical id, is_exception)`` for an id or alias, any case; ``None`` if unknown.

    An id missing from the shipped table is looked up in the installed index,
    so a newer license-expression's ids are never refused.
    """
    found = _shipped().get(key.lower()) or _indexed().get(key.lower())
    return (found[0], found[1]) if found else None


def _terms(node):
    if isinstance(node, Term):
        yield node
    else:
        for part in node.parts:
            yield from _terms(part)


def is_custom(key: str) -> bool:
    """Whether ``key`` is a custom id (``LicenseRef-...``, ``DocumentRef-...:LicenseRef-...``)."""
    return bool(_CUSTOM.match(key))


def _canonical(key: str, *, exception: bool) -> str:
    """The canonical SPDX id for ``key``; raise :class:`LicenseSyntaxError` if there is none."""
    if is_custom(key):
        return key
    if key.lower().startswith(("licenseref-", "documentref-", "additionref-")):
        raise LicenseSyntaxError(f"{key!r} is not a valid custom id: write LicenseRef- followed by "
                                 "letters, digits, '.' or '-'")
    # Deprecated ids and `+` forms (GPL-2.0, GPL-2.0+) resolve through the aliases.
    found = _lookup(key)
    if found is None:
        shown = key if len(key) <= 60 else key[:57] + "..."
        raise LicenseSyntaxError(f"unknown license id {shown!r}", None if exception else suggest(key))
    canonical, is_exception = found
    if is_exception and not exception:
        raise LicenseSyntaxError(f"{canonical} is a license exception; it can only follow WITH")
    if exception and not is_exception:
        raise LicenseSyntaxError(f"{canonical} is a license, not an exception to put after WITH")
    return canonical


def _convert(node, licensing):
    from license_expression import LicenseSymbol, LicenseWithExceptionSymbol

    if isinstance(node, LicenseWithExceptionSymbol):
        return Term(_canonical(node.license_symbol.key, exception=False),
                    _canonical(node.exception_symbol.key, exception=True))
    if isinstance(node, LicenseSymbol):
        return Term(_canonical(node.key, exception=False))
    parts = tuple(_convert(arg, licensing) for arg in node.args)
    return AllOf(parts) if isinstance(node, licensing.AND) else AnyOf(parts)


def _render(node, top: bool = True) -> str:
    if isinstance(node, Term):
        return str(node)
    joiner = " AND " if isinstance(node, AllOf) else " OR "
    text = joiner.join(_render(part, top=False) for part in node.parts)
    return text if top else f"({text})"


def parse(text: str) -> LicenseExpression:
    """Parse an SPDX license expression; raise :class:`LicenseSyntaxError` if it is not one.

    Ids are matched case-insensitively and returned in canonical case; deprecated
    ids map to their replacement (``GPL-2.0+`` becomes ``GPL-2.0-or-later``).
    """
    if not isinstance(text, str) or not text.strip():
        raise LicenseSyntaxError("the license expression is empty")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise LicenseSyntaxError(f"the license expression is longer than {MAX_EXPRESSION_CHARS} "
                                 "characters")
    lone = text.strip()
    if _SINGLE_ID.match(lone) and lone.lower() not in ("and", "or", "with"):
        # Most bundles name one license: no expression parser needed for that.
        term = Term(_canonical(lone, exception=False))
        return LicenseExpression(text=text, normalized=str(term), tree=term)
    from license_expression import ExpressionError, Licensing

    # A symbol-free parser keeps the ids as written; the SPDX index would silently
    # rewrite some LicenseRef ids (LicenseRef-Apache) into SPDX ones.
    plain = Licensing()
    try:
        parsed = plain.parse(text, validate=False, simple=False)
        if parsed is None:
            raise LicenseSyntaxError("the license expression is empty")
        tree = _convert(parsed, plain)
    except ExpressionError as exc:
        # "MIT License" fails as a sequence of two symbols; a lone name deserves a suggestion.
        single = not re.search(r"\b(and|or|with)\b|[()]", text, re.IGNORECASE)
        raise LicenseSyntaxError(str(exc).split("\n")[0], suggest(text) if single else None) from None
    except RecursionError:
        raise LicenseSyntaxError("the license expression is nested too deeply") from None
    return LicenseExpression(text=text, normalized=_render(tree), tree=tree)


def _words(text: str) -> str:
    text = re.sub(r"\b(the|licen[cs]e|version)\b", " ", text.lower())
    return re.sub(r"[^a-z0-9]", "", re.sub(r"v(?=\d)", "", text))


def suggest(text: str) -> str | None:
    """The SPDX license id closest to ``text`` (``Apache 2`` gives ``Apache-2.0``), or ``None``."""
    import difflib

    keys = sorted({key for key, is_exception in _indexed().values()
                   if not is_exception and not key.startswith("LicenseRef-")})
    compact = _words(text)
    if compact:
        by_compact = {_words(k): k for k in keys}
        if compact in by_compact:
            return by_compact[compact]
        # "gpl3" and "cc-by" name a family: take its shortest member, latest version first.
        family = [k for c, k in by_compact.items() if c.startswith(compact)]
        if family and len(compact) >= 3:
            shortest = min(len(k) for k in family)
            return max(k for k in family if len(k) == shortest)
    lower = {k.lower(): k for k in keys}
    query = text.strip().lower().replace(" ", "-")
    close = difflib.get_close_matches(query, list(lower), n=1, cutoff=0.6)
    return lower[close[0]] if close else None


def _listed(policy_licenses: dict, name: str) -> set[str]:
    entries = policy_licenses.get(name) if isinstance(policy_licenses, dict) else None
    return {e.lower() for e in entries if isinstance(e, str)} if isinstance(entries, list) else set()


def classify(key: str, policy_licenses: dict) -> Status:
    """A license id's status under a policy's ``licenses`` mapping (deny wins over allow)."""
    if key.lower() in _listed(policy_licenses, "deny"):
        return Status.DENIED
    if key.lower() in _listed(policy_licenses, "allow"):
        return Status.ALLOWED
    return Status.UNKNOWN


def evaluate(expression: LicenseExpression, policy_licenses: dict) -> Evaluation:
    """Judge ``expression`` under the policy by the best option it lets a licensee choose.

    A ``WITH`` term is judged by its license: an exception only adds permissions.
    """
    rank = {Status.ALLOWED: 0, Status.UNKNOWN: 1, Status.DENIED: 2}

    def walk(node) -> tuple[Status, tuple[str, ...], tuple[str, ...]]:
        if isinstance(node, Term):
            status = classify(node.key, policy_licenses)
            return status, (node.key,), (node.key,) if status is Status.DENIED else ()
        results = [walk(part) for part in node.parts]
        if isinstance(node, AllOf):
            status = max((r[0] for r in results), key=rank.__getitem__)
            chosen = tuple(k for r in results for k in r[1])
            blockers = tuple(k for r in results for k in r[2])
            return status, chosen, blockers
        best = min(results, key=lambda r: rank[r[0]])
        blockers = tuple(k for r in results for k in r[2]) if best[0] is Status.DENIED else ()
        return best[0], best[1], blockers

    status, chosen, blockers = walk(expression.tree)
    chosen = tuple(dict.fromkeys(chosen))
    unknown = tuple(k for k in chosen if classify(k, policy_licenses) is Status.UNKNOWN)
    return Evaluation(status, chosen, tuple(dict.fromkeys(blockers)), unknown)


def unavoidable(expression: LicenseExpression, predicate) -> bool:
    """Whether every option of ``expression`` includes a license id for which ``predicate`` holds."""

    def walk(node) -> bool:
        if isinstance(node, Term):
            return bool(predicate(node.key))
        results = [walk(part) for part in node.parts]
        return any(results) if isinstance(node, AllOf) else all(results)

    return walk(expression.tree)


def is_noncommercial(key: str) -> bool:
    """Whether the id names non-commercial terms (CC-BY-NC-4.0 and the like)."""
    return "-NC" in key.upper()


def is_share_alike(key: str) -> bool:
    """Whether the id names share-alike terms for data (CC-BY-SA-4.0, CDLA-Sharing-1.0)."""
    upper = key.upper()
    return "-SA" in upper or upper.startswith("CDLA-SHARING")


def equivalent(a: LicenseExpression, b: LicenseExpression) -> bool:
    """Whether two expressions say the same, up to case, order and grouping."""

    def canon(node):
        if isinstance(node, Term):
            return ("T", node.key.lower(), (node.exception or "").lower())
        kind = type(node)
        flat = []
        for part in node.parts:
            inner = canon(part)
            if inner[0] == kind.__name__:
                flat.extend(inner[1])
            else:
                flat.append(inner)
        items = frozenset(flat)
        return next(iter(items)) if len(items) == 1 else (kind.__name__, items)

    return canon(a.tree) == canon(b.tree)
