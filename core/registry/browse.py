"""Browsing the registry a page at a time: filter by text, stage and validation status, sort
by any listed column.

This is the listing the desktop app scrolls through. Like ``list_versions`` it first picks
one page of version ids (filters, ORDER BY, LIMIT/OFFSET) and only then computes the
per-version aggregates for those rows, so a page costs the same on 100 or 100,000 versions
whatever the sort. Text matches the model name in SQL; the submitters whose names contain it
(``submitters``) and the versions whose manifest tags or owners do (``version_ids``) are found
first by :class:`.facets.FacetIndex` among the few distinct values, since tags and owners live
in the stored manifests, not in the tables. Typing a name answers in a few tens of
milliseconds on 100,000 versions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Integer, Numeric, bindparam, case, cast, exists, func, or_, select, true

from modelgate.core.policy.stages import STAGES

from modelgate.core.registry.errors import RegistryError
from modelgate.core.registry.models import Model, ValidationRun, Version
from modelgate.core.registry.queries import _info, _summary_columns, _with_break_glass, counted_signatures
from modelgate.core.registry.records import VersionInfo

#: Columns a listing can be sorted by.
SORTS = ("name", "version", "stage", "validation", "signatures", "updated")
#: Validation statuses a listing can be filtered by: the latest run passed or failed, or none ran.
STATUSES = ("passed", "failed", "unvalidated")


@dataclass(frozen=True)
class VersionQuery:
    """What to list: every field narrows the listing; ``sort`` and ``descending`` order it."""

    text: str = ""
    stage: str | None = None
    status: str | None = None
    sort: str = "updated"
    descending: bool = True
    #: Versions whose manifest tags or owners match ``text`` (see :meth:`.facets.FacetIndex.matching`).
    version_ids: frozenset[int] = field(default_factory=frozenset)
    #: Submitters whose names match ``text`` (see :meth:`.facets.FacetIndex.matching_submitters`).
    submitters: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.sort not in SORTS:
            raise RegistryError(f"unknown sort {self.sort!r}", hint=f"Sorts are: {', '.join(SORTS)}.")
        if self.status is not None and self.status not in STATUSES:
            raise RegistryError(f"unknown validation status {self.status!r}",
                                hint=f"Statuses are: {', '.join(STATUSES)}.")
        if self.stage is not None and self.stage not in STAGES:
            raise RegistryError(f"unknown stage {self.stage!r}", hint=f"Stages are: {', '.join(STAGES)}.")


def _latest_passed():
    return (select(ValidationRun.passed).where(ValidationRun.version_id == Version.id)
            .order_by(ValidationRun.id.desc()).limit(1).correlate(Version).scalar_subquery())


#: Above this many versions of the models whose names match, walking all versions newest
#: first (and stopping at the page's end) beats fetching the matching ones and sorting them.
WALK_ABOVE = 20_000


def _inline(number: int, name: str):
    """``number`` written into the SQL rather than bound: SQLite plans an ``ORDER BY ... LIMIT``
    on an index walk only when it can see the limit, and a bound one made a page of the
    newest versions ten times slower. It is an int the caller checked, so inline is safe."""
    return bindparam(name, int(number), literal_execute=True)


def _named_models(text: str):
    """The ids of the models whose name contains ``text``, as a subquery: the database scans the
    small models table inside the statement that uses it, with ``text`` a bound parameter, so
    the statement compiles once whatever is typed and no id list travels through Python."""
    return select(Model.id).where(func.lower(Model.name).contains(text, autoescape=True))


def _many_versions(session, models) -> bool:
    """Whether the ``models`` subquery's models hold more than :data:`WALK_ABOVE` versions
    (counted on the model index, stopping at the limit)."""
    capped = select(Version.id).where(Version.model_id.in_(models)).limit(_inline(WALK_ABOVE + 1, "cap")).subquery()
    return session.execute(select(func.count()).select_from(capped)).scalar_one() > WALK_ABOVE


def _filtered(statement, query: VersionQuery, *, models=None, walk_by_date: bool = False):
    """``statement`` narrowed by ``query``; ``models`` selects the ids whose names match its text."""
    if query.stage is not None:
        statement = statement.where(Version.stage == query.stage)
    if query.status == "unvalidated":
        statement = statement.where(~exists().where(ValidationRun.version_id == Version.id))
    elif query.status is not None:
        statement = statement.where(_latest_passed() == (query.status == "passed"))
    text = query.text.strip().lower()
    if text:
        # SQLite would fetch the matching versions by model and sort them all; when there are
        # many, "+ 0" hides the model index so that it walks the date index instead.
        model_id = Version.model_id + 0 if walk_by_date else Version.model_id
        matches = [model_id.in_(models if models is not None else _named_models(text))]
        if query.submitters:
            matches.append(Version.submitter.in_(sorted(query.submitters)))
        if query.version_ids:
            # Integers are safe to render inline, and inline they escape the drivers' limits
            # on bound parameters however many versions share a tag.
            matches.append(Version.id.in_(bindparam("facet_ids", sorted(query.version_ids),
                                                    expanding=True, literal_execute=True)))
        statement = statement.where(or_(*matches))
    return statement


def _version_parts(dialect: str) -> list:
    """Sort keys that order SemVer text numerically: major, minor, patch, then a release after
    its pre-releases (1.1.0-rc.1 before 1.1.0); the text itself breaks the remaining ties."""
    text = Version.version
    if dialect == "postgresql":
        numbers = [cast(func.substring(func.split_part(text, ".", n), "^[0-9]+"), Numeric) for n in (1, 2, 3)]
        release = case((func.strpos(text, "-") > 0, 0), else_=1)
    else:
        # SQLite's CAST to INTEGER reads the longest leading integer: '2.3' -> 2, '3-rc.1' -> 3.
        after_major = func.substr(text, func.instr(text, ".") + 1)
        after_minor = func.substr(after_major, func.instr(after_major, ".") + 1)
        numbers = [cast(part, Integer) for part in (text, after_major, after_minor)]
        release = case((func.instr(text, "-") > 0, 0), else_=1)
    return [*numbers, release, text]


def _sort_keys(query: VersionQuery, dialect: str) -> list:
    if query.sort == "name":
        keys = [Model.name, *_version_parts(dialect)]
    elif query.sort == "version":
        keys = [*_version_parts(dialect), Model.name]
    elif query.sort == "stage":
        keys = [case(*((Version.stage == s, i) for i, s in enumerate(STAGES)), else_=len(STAGES))]
    elif query.sort == "validation":
        # Ascending puts what needs attention first: failed, then never validated, then passed.
        latest = _latest_passed()
        keys = [case((latest == true(), 2), (latest.is_(None), 1), else_=0)]
    elif query.sort == "signatures":
        keys = [counted_signatures()]
    else:
        # The newest first walks ix_versions_updated_at and stops at the page's end; the id
        # breaks ties in the same direction, so the index serves the whole order.
        direction = (lambda key: key.desc()) if query.descending else (lambda key: key.asc())
        return [direction(Version.updated_at), direction(Version.id)]
    ordered = [key.desc() if query.descending else key.asc() for key in keys]
    # Ties fall back to a fixed order so pages never overlap or skip a row.
    return ordered + [Model.name.asc(), Version.id.asc()]


def page_of(session, *, query: VersionQuery, limit: int, offset: int) -> list[VersionInfo]:
    """One page of the versions ``query`` selects, in its order (see the module docstring)."""
    if limit < 0 or offset < 0:
        raise RegistryError("limit and offset must not be negative")
    dialect = session.get_bind().dialect.name
    text = query.text.strip().lower()
    models = _named_models(text) if text else None
    walk = models is not None and query.sort == "updated" and dialect == "sqlite" and _many_versions(session, models)
    ids = _filtered(select(Version.id).join(Model, Model.id == Version.model_id), query, models=models,
                    walk_by_date=walk)
    chosen = (ids.order_by(*_sort_keys(query, dialect)).limit(_inline(limit, "page_limit"))
              .offset(_inline(offset, "page_offset")).subquery("page"))
    statement = (select(Model.name, Version.version, Version.stage, Version.digest, Version.submitter,
                        Version.license, Version.created_at, Version.updated_at, *_summary_columns())
                 .select_from(chosen)
                 .join(Version, Version.id == chosen.c.id)
                 .join(Model, Model.id == Version.model_id)
                 .order_by(*_sort_keys(query, dialect)))
    return [_info(row) for row in session.execute(_with_break_glass(statement))]


def count_of(session, *, query: VersionQuery) -> int:
    """How many versions ``query`` selects."""
    statement = select(func.count()).select_from(Version)
    return session.execute(_filtered(statement, query)).scalar_one()


def page(registry, *, query: VersionQuery, limit: int = 100, offset: int = 0) -> list[VersionInfo]:
    """One page of ``registry``'s versions selected and ordered by ``query`` (a read transaction)."""
    with registry.session(write=False) as session:
        return page_of(session, query=query, limit=limit, offset=offset)


def count(registry, *, query: VersionQuery) -> int:
    """How many of ``registry``'s versions ``query`` selects (a read transaction)."""
    with registry.session(write=False) as session:
        return count_of(session, query=query)
