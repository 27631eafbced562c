"""Reading the registry: finding a version, and the paged listing that must stay fast.

The listing first picks one page of version ids (filters, ORDER BY on indexed
columns, LIMIT/OFFSET), then computes the latest validation outcome, the
approval count and the signature count for just those rows, each as a
correlated subquery served by the ``version_id`` indexes. It is one statement
whatever the page size: no query per row.
"""

from __future__ import annotations

from sqlalchemy import Select, and_, distinct, exists, func, or_, select, true
from sqlalchemy.orm import aliased

from modelgate.core.policy.stages import PRODUCTION
from modelgate.core.registry import pgwrites
from modelgate.core.registry.errors import NotFound, RegistryError
from modelgate.core.registry.models import Model, Promotion, Review, Signature, StoreDamage, TrustedKey, ValidationRun, Version, as_utc
from modelgate.core.registry.records import VersionInfo

ORDERS = ("updated", "created", "name")


def get_version(session, *, name: str, version: str, for_update: bool = False) -> Version:
    """The ``Version`` row of ``name@version`` (its ``model`` loaded); :class:`NotFound` otherwise.

    ``for_update`` locks the row until the transaction ends (PostgreSQL).
    """
    query = (select(Version).join(Model, Model.id == Version.model_id)
             .where(Model.name == name, Version.version == version))
    locked_by_function = for_update and pgwrites.guarded(session)
    if for_update and not locked_by_function:
        query = query.with_for_update(of=Version)
    row = session.execute(query).scalar_one_or_none()
    if row is not None and locked_by_function:  # FOR UPDATE needs a write right logins lack
        pgwrites.call(session, "lock_version", version_id=row.id)
        session.refresh(row)
    if row is None:
        known = session.execute(select(Model.id).where(Model.name == name)).scalar_one_or_none()
        hint = (f"`modelgate registry list --name {name}` shows its versions." if known is not None
                else "`modelgate registry list` shows what the registry holds.")
        raise NotFound(f"no version {name}@{version} in the registry", hint=hint)
    return row


def production_versions(session, *, model_id: int, besides: int | None = None) -> list[Version]:
    """The model's versions in production, oldest first, but for the version ``besides`` (an id).

    Promotion keeps one; a promotion to production sees the one it supersedes beside its own.
    """
    query = select(Version).where(Version.model_id == model_id, Version.stage == PRODUCTION)
    if besides is not None:
        query = query.where(Version.id != besides)
    return list(session.scalars(query.order_by(Version.id)))


def champion_of(session, *, model_id: int, besides: int | None = None) -> Version | None:
    """The current champion: the model's production version (but for the version ``besides``),
    the one a candidate is compared with and would replace; None when there is none."""
    current = production_versions(session, model_id=model_id, besides=besides)
    return current[0] if current else None


def get_model(session, *, name: str, for_update: bool = False) -> Model:
    """The ``Model`` row called ``name``; :class:`NotFound` otherwise."""
    query = select(Model).where(Model.name == name)
    if for_update and pgwrites.guarded(session):  # FOR UPDATE needs a write right logins lack
        pgwrites.call(session, "lock_model", name=name)
    elif for_update:
        query = query.with_for_update()
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no model {name} in the registry",
                       hint="`modelgate registry list` shows what the registry holds.")
    return row


def model_names(session, *, limit: int = 10_000) -> list[str]:
    """The names of the models in the registry, in alphabetical order (at most ``limit``)."""
    return list(session.execute(select(Model.name).order_by(Model.name).limit(limit)).scalars())


def _filtered(query: Select, *, name: str | None, stage: str | None, text: str | None) -> Select:
    if name is not None:
        query = query.where(Model.name == name)
    if stage is not None:
        query = query.where(Version.stage == stage)
    if text:
        query = query.where(func.lower(Model.name).contains(text.lower(), autoescape=True))
    return query


def _order(order: str, model_name, version_table) -> list:
    if order == "updated":
        return [version_table.updated_at.desc(), version_table.id.desc()]
    if order == "created":
        return [version_table.created_at.desc(), version_table.id.desc()]
    if order == "name":
        return [model_name.asc(), version_table.id.asc()]
    raise RegistryError(f"unknown order {order!r}", hint=f"Orders are: {', '.join(ORDERS)}.")


def count_versions(session, *, name: str | None = None, stage: str | None = None,
                   text: str | None = None) -> int:
    """How many versions match the filters."""
    query = select(func.count()).select_from(Version).join(Model, Model.id == Version.model_id)
    return session.execute(_filtered(query, name=name, stage=stage, text=text)).scalar_one()


#: Marks a signature made with a certificate: it names no trusted key. Its chain was checked
#: against the registry's CAs when it was recorded, and revoking a certificate or CA withdraws
#: it (``verified`` becomes false), so such a signature stands while it is verified.
CERTIFICATE_MARK = "x509CertificateChain"


def certificate_signed(document: str | None) -> bool:
    """Whether a recorded signature document was made with a certificate (see :data:`CERTIFICATE_MARK`)."""
    return CERTIFICATE_MARK in (document or "")


def counted_signatures():
    """Correlated count of ``Version``'s signatures that can count: verified, over its bytes, by a
    trusted key not revoked (or by a certificate the registry's CAs vouch for); each key once
    (the same key under two names or files is one)."""
    standing = or_(and_(TrustedKey.id.is_not(None), TrustedKey.revoked_at.is_(None)),
                   and_(TrustedKey.id.is_(None), Signature.document.contains(CERTIFICATE_MARK)))
    return (select(func.count(distinct(Signature.key_fingerprint)))
            .join(TrustedKey, TrustedKey.fingerprint == Signature.key_fingerprint, isouter=True)
            .where(Signature.version_id == Version.id, Signature.verified == true(),
                   Signature.bundle_digest == Version.digest, standing)
            .correlate(Version).scalar_subquery())


def _summary_columns():
    """Per-version aggregates as correlated scalar subqueries on ``Version``."""
    latest_validation = (select(ValidationRun.passed).where(ValidationRun.version_id == Version.id)
                         .order_by(ValidationRun.id.desc()).limit(1).correlate(Version)
                         .scalar_subquery())
    approvals = (select(func.count(distinct(Review.reviewer)))
                 .where(Review.version_id == Version.id, Review.decision == "approve",
                        Review.stage == Version.stage, Review.reviewer != Version.submitter)
                 .correlate(Version).scalar_subquery())
    signatures = counted_signatures()
    damaged = exists().where(StoreDamage.version_id == Version.id).correlate(Version)
    return (latest_validation.label("passed"), approvals.label("approvals"), signatures.label("signatures"),
            damaged.label("damaged"))


def _with_break_glass(query: Select) -> Select:
    """Add who, when and why of a break-glass restore to ``query``'s rows, for a version still in
    production by it: its latest stage change is then of kind "break-glass"."""
    move = aliased(Promotion)
    latest = (select(func.max(Promotion.id)).where(Promotion.version_id == Version.id)
              .correlate(Version).scalar_subquery())
    return (query.add_columns(move.actor.label("glass_by"), move.created_at.label("glass_at"),
                              move.reason.label("glass_reason"))
            .outerjoin(move, and_(move.id == latest, move.kind == "break-glass", Version.stage == PRODUCTION)))


def _info(row) -> VersionInfo:
    validation = None if row.passed is None else ("passed" if row.passed else "failed")
    return VersionInfo(row.name, row.version, row.stage, row.digest, row.submitter, row.license,
                       as_utc(row.created_at), as_utc(row.updated_at), validation,
                       int(row.approvals or 0), int(row.signatures or 0), bool(row.damaged),
                       row.glass_by, as_utc(row.glass_at), row.glass_reason)


def list_versions(session, *, name: str | None = None, stage: str | None = None,
                  text: str | None = None, limit: int = 50, offset: int = 0,
                  order: str = "updated") -> list[VersionInfo]:
    """One page of versions matching the filters (see the module docstring)."""
    if limit < 0 or offset < 0:
        raise RegistryError("limit and offset must not be negative")
    page = _filtered(select(Version.id).join(Model, Model.id == Version.model_id),
                     name=name, stage=stage, text=text)
    page = page.order_by(*_order(order, Model.name, Version)).limit(limit).offset(offset).subquery("page")
    query = (select(Model.name, Version.version, Version.stage, Version.digest, Version.submitter,
                    Version.license, Version.created_at, Version.updated_at, *_summary_columns())
             .select_from(page)
             .join(Version, Version.id == page.c.id)
             .join(Model, Model.id == Version.model_id)
             .order_by(*_order(order, Model.name, Version)))
    return [_info(row) for row in session.execute(_with_break_glass(query))]


def version_info(session, version: Version) -> VersionInfo:
    """The listing row of one version."""
    query = (select(Model.name, Version.version, Version.stage, Version.digest, Version.submitter,
                    Version.license, Version.created_at, Version.updated_at, *_summary_columns())
             .join(Model, Model.id == Version.model_id).where(Version.id == version.id))
    return _info(session.execute(_with_break_glass(query)).one())
