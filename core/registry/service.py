"""The registry facade: open a registry, manage users, import, list and show versions.

Every method runs in one transaction of its own and returns frozen records
(:mod:`.records`). Every change writes its audit event in that same
transaction, so a change and its event are committed together or not at all.
The promotion workflow (``workflow.py``) and comparison (``compare.py``) build
on :meth:`Registry.session` and the helpers of :mod:`.queries`.
"""

from __future__ import annotations

from contextlib import contextmanager, suppress
from pathlib import Path

from sqlalchemy import select

from modelgate.core import settings
from modelgate.core.bundle.manifest_types import Manifest, typed_manifest
from modelgate.core.errors import ModelGateError
from modelgate.core.policy.stages import DRAFT

from modelgate.core.registry import audit, database, identity, pgwrites, queries
from modelgate.core.registry.errors import RegistryError, StoreDamaged
from modelgate.core.registry.modelfacts import measured_config
from modelgate.core.registry.models import Model, Promotion, Review, Signature, TrustedKey, User, UserRole, ValidationRun, Version, as_utc
from modelgate.core.registry.records import (
    ImportResult,
    PromotionInfo,
    ReviewInfo,
    SignatureInfo,
    UserInfo,
    ValidationInfo,
    VersionDetail,
    VersionInfo,
)
from modelgate.core.store.backends import open_backend
from modelgate.core.store.reference import SCHEME


#: Where :meth:`Registry.show` points a version whose OCI copy cannot be pulled (never created).
UNAVAILABLE = ".unavailable"


class Registry:
    """An open registry. Use as a context manager, or call :meth:`close`."""

    def __init__(self, *, url: str, engine, actor: str, store_root: Path, store_url: str = "") -> None:
        self.url = url
        self.engine = engine
        self.dialect: str = engine.dialect.name
        self.actor = actor
        self.store_root = Path(store_root)
        # The folder store, or an OCI registry with store_root as its local incoming area.
        self.store = open_backend(url=store_url or str(self.store_root), root=self.store_root, locate=self._locate,
                                  measure=measured_config)

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Registry({database.redact(self.url)!r}, actor={self.actor!r})"

    def close(self) -> None:
        """Release the database connections and the store's working copies."""
        self.store.close()
        self.engine.dispose()

    def _locate(self, digest: str) -> str | None:
        """The store path recorded for the bundle ``digest`` (committed rows only; the store
        remembers what it placed in a transaction still open)."""
        with self.engine.connect() as connection:
            return connection.execute(select(Version.store_path).where(Version.digest == digest).limit(1)).scalar()

    @property
    def checkpoint_folder(self) -> Path:
        """Where the audit log's signed checkpoints and their key live (see :mod:`.checkpoints`)."""
        from modelgate.core.registry.checkpoints import folder_for

        return folder_for(self.store_root)

    @contextmanager
    def session(self, *, write: bool = True, checkpoint: bool = True):
        """One transaction as an ORM session: committed on success, rolled back on error.

        Write sessions take SQLite's write lock at BEGIN; pass ``write=False`` for reads.
        When an event appended in it makes a signed audit checkpoint due, the committed head
        is signed once the transaction is over, even if it ended in an error after an event
        (a refusal) was committed; ``checkpoint=False`` leaves that to the caller.
        """
        info: dict = {}
        try:
            with database.session_scope(self.engine, write=write) as session:
                info = session.info
                yield session
        except BaseException:
            if checkpoint and info.pop(audit.CHECKPOINT_DUE, False):
                with suppress(RegistryError):  # the error in flight is the one to report
                    self._sign_due()
            raise
        if checkpoint and info.pop(audit.CHECKPOINT_DUE, False):
            self._sign_due()

    def _sign_due(self) -> None:
        from modelgate.core.registry import checkpoints

        checkpoints.due(self)

    # ------------------------------------------------------------------ users
    def roles(self, *, name: str | None = None) -> list[str]:
        """The roles ``name`` (default: the acting user) holds."""
        with self.session(write=False) as session:
            return identity.roles_of(session, name or self.actor)

    def add_user(self, *, name: str, roles: list[str]) -> UserInfo:
        """Add a user or give them more roles (admins only, except for the very first user)."""
        with self.session() as session:
            held = identity.add_user(session, actor=self.actor, name=name, roles=roles)
            user = identity.find_user(session, name)
        return UserInfo(user.name, held, as_utc(user.created_at))

    def revoke_roles(self, *, name: str, roles: list[str]) -> UserInfo:
        """Take roles from a user (admins only; never the last admin's admin role)."""
        with self.session() as session:
            held = identity.revoke_roles(session, actor=self.actor, name=name, roles=roles)
            user = identity.find_user(session, name)
        return UserInfo(user.name, held, as_utc(user.created_at))

    def remove_user(self, *, name: str) -> UserInfo:
        """Remove a user (admins only; never the last admin): they keep their record, not their roles."""
        with self.session() as session:
            identity.remove_user(session, actor=self.actor, name=name)
            user = identity.find_user(session, name)
        return UserInfo(user.name, [], as_utc(user.created_at), as_utc(user.removed_at), user.removed_by)

    def users(self, *, removed: bool = True) -> list[UserInfo]:
        """Every user with their roles, by name; ``removed=False`` leaves out removed users."""
        with self.session(write=False) as session:
            query = select(User).order_by(User.name)
            if not removed:
                query = query.where(User.removed_at.is_(None))
            users = session.execute(query).scalars().all()
            held: dict[int, set[str]] = {}
            for user_id, role in session.execute(select(UserRole.user_id, UserRole.role)):
                held.setdefault(user_id, set()).add(role)
        order = identity.ROLES
        return [UserInfo(u.name, [r for r in order if r in held.get(u.id, ())], as_utc(u.created_at),
                         as_utc(u.removed_at), u.removed_by) for u in users]

    # ----------------------------------------------------------------- import
    def import_bundle(self, *, path: Path, progress=None) -> ImportResult:
        """Copy a bundle (folder or archive) into the store and record it as a draft.

        Needs the submitter (or admin) role. Runs no validation. The same bytes
        imported again change nothing (``created`` is false); the same
        ``name@version`` with different bytes is refused.
        """
        path = Path(path)
        with self.session() as session:
            identity.require(session, self.actor, "submitter", action="import bundles", subject=str(path))
        staged = self.store.stage(path, progress=progress)
        try:
            name, version, license_ = _identify(typed_manifest(staged.manifest), path)
            with self.session() as session:
                audit.lock_head(session)  # one importer at a time: no race on new model names
                result = self._record(session, staged, name, version, license_)
        finally:
            if staged.folder.exists():
                self.store.discard(staged)
        if isinstance(result, StoreDamaged):
            raise result  # the damage mark and its event are committed; the store is untouched
        return result

    def _record(self, session, staged, name: str, version: str, license_: str | None) -> ImportResult:
        model = session.execute(select(Model).where(Model.name == name)).scalar_one_or_none()
        existing = None
        if model is not None:
            existing = session.execute(select(Version).where(
                Version.model_id == model.id, Version.version == version)).scalar_one_or_none()
        if existing is not None:
            if existing.digest != staged.digest:
                raise RegistryError(
                    f"{name}@{version} is already in the registry with different contents "
                    f"(digest {existing.digest[:16]}…, this bundle {staged.digest[:16]}…)",
                    hint="A version never changes once imported: give the bundle a new version.")
            return self._reimport(session, existing, staged, name, version)
        guarded = pgwrites.guarded(session)
        if model is None and not guarded:
            model = Model(name=name)
            session.add(model)
            session.flush()
        folder, _ = self.store.place(staged)
        relative = self.store.relative(staged.digest)
        if guarded:
            pgwrites.call(session, "import_version", model=name, version=version, digest=staged.digest,
                          store_path=relative, license=license_)
        else:
            session.add(Version(model_id=model.id, version=version, digest=staged.digest, stage=DRAFT,
                                submitter=self.actor, store_path=relative, license=license_))
            session.flush()
        audit.append(session, actor=self.actor, action="version.imported", subject=f"{name}@{version}",
                     payload={"digest": staged.digest, "store_path": relative, "license": license_})
        return ImportResult(name, version, staged.digest, True, folder)

    def _reimport(self, session, existing: Version, staged, name: str, version: str):
        """The same bytes again: nothing to record, but a damaged stored copy (changed, missing
        or extra files, or the whole folder gone) is reported, marked and audited instead of
        quietly replaced; only ``registry repair`` replaces it."""
        from modelgate.core.registry.damage import damage_of, mark_damaged, refusal

        label = f"{name}@{version}"
        marked = damage_of(session, existing.id)
        if marked is not None:
            return refusal(label, marked, action="import")
        check = self.store.inspect(existing.digest)
        if not check.intact:
            mark_damaged(session, existing, check=check, actor=self.actor, label=label)
            return refusal(label, check, action="import")
        self.store.discard(staged)
        folder = self.store.path_of(existing.store_path)
        return ImportResult(name, version, staged.digest, False, folder)

    # ---------------------------------------------------------------- reading
    def list_versions(self, *, name: str | None = None, stage: str | None = None, text: str | None = None,
                      limit: int = 50, offset: int = 0, order: str = "updated") -> list[VersionInfo]:
        """One page of versions, most recently changed first by default (``order``: updated|created|name)."""
        with self.session(write=False) as session:
            return queries.list_versions(session, name=name, stage=stage, text=text, limit=limit,
                                         offset=offset, order=order)

    def count_versions(self, *, name: str | None = None, stage: str | None = None,
                       text: str | None = None) -> int:
        """How many versions match the same filters as :meth:`list_versions`."""
        with self.session(write=False) as session:
            return queries.count_versions(session, name=name, stage=stage, text=text)

    def show(self, *, name: str, version: str) -> VersionDetail:
        """Everything recorded about ``name@version``; :class:`NotFound` if it is not there."""
        from modelgate.core.registry.damage import damage_of
        from modelgate.core.registry.waivers import terms_of

        with self.session(write=False) as session:
            row = queries.get_version(session, name=name, version=version)
            info = queries.version_info(session, row)

            def rows(model):
                return session.execute(select(model).where(model.version_id == row.id)
                                       .order_by(model.id)).scalars().all()

            try:
                folder = self.store.path_of(row.store_path).resolve()
            except ModelGateError:
                if not row.store_path.startswith(SCHEME):
                    raise
                # The record and its damage mark need no bytes: a version whose OCI copy cannot be
                # pulled (damaged, registry down) is still shown; readers of the folder meet its absence.
                folder = self.store_root / UNAVAILABLE / row.digest
            return VersionDetail(
                info=info,
                store_path=folder,
                stored_at=row.store_path if row.store_path.startswith(SCHEME) else str(folder),
                reviews=[ReviewInfo.of(r) for r in rows(Review)],
                promotions=[PromotionInfo.of(r) for r in rows(Promotion)],
                validations=[ValidationInfo.of(r) for r in rows(ValidationRun)],
                signatures=[SignatureInfo.of(r, revoked_at=revoked) for r, revoked in session.execute(
                    select(Signature, TrustedKey.revoked_at)
                    .join(TrustedKey, TrustedKey.fingerprint == Signature.key_fingerprint, isouter=True)
                    .where(Signature.version_id == row.id).order_by(Signature.id))],
                events=audit.events(session, subject=f"{name}@{version}"),
                damage=damage_of(session, row.id),
                waivers=terms_of(session, row.id),
            )

    def champion(self, *, name: str, version: str) -> tuple[str, Path] | None:
        """``(version, stored folder)`` of the current champion of model ``name``, the production
        version ``version`` is compared with; None when there is none or it is ``version`` itself."""
        with self.session(write=False) as session:
            model = session.scalars(select(Model).where(Model.name == name)).first()
            current = queries.champion_of(session, model_id=model.id) if model is not None else None
            if current is None or current.version == version:
                return None
            return current.version, self.store.path_of(current.store_path).resolve()

    def bundle_path(self, *, name: str, version: str) -> Path:
        """The stored (read-only) folder of ``name@version``."""
        with self.session(write=False) as session:
            row = queries.get_version(session, name=name, version=version)
            return self.store.path_of(row.store_path).resolve()

    def audit_log(self, *, limit: int | None = None, subject: str | None = None,
                  action: str | None = None, seq: int | None = None) -> list[audit.AuditEvent]:
        """Audit events oldest first; ``limit`` keeps the newest ``limit`` of them; ``seq`` one."""
        with self.session(write=False) as session:
            return audit.events(session, subject=subject, action=action, limit=limit, seq=seq)

    def verify_audit(self, *, progress=None) -> audit.AuditVerdict:
        """Check the audit log's hash chain from the first event to the chain head, then that the
        log still holds the event of its latest signed checkpoint (see :mod:`.checkpoints`)."""
        from modelgate.core.registry import checkpoints

        verdict = audit.verify(self.engine, progress=progress)
        if not verdict.ok:
            return verdict
        anchored = checkpoints.verify_anchor(self)
        if anchored.state != "broken":
            return verdict
        made = anchored.checkpoint
        first = min(made.seq, verdict.checked + 1) if made is not None else verdict.checked + 1
        return audit.AuditVerdict(False, min(verdict.checked, first - 1), first, anchored.reason)


def _identify(manifest: Manifest, path: Path) -> tuple[str, str, str | None]:
    name, version, license_ = manifest.name, manifest.version, manifest.license
    for key, value, size in (("name", name, 100), ("version", version, 100)):
        if value is None or not value.strip() or len(value) > size or "@" in value:
            shown = repr(value) if value is not None else manifest.shown(key) or "None"
            raise RegistryError(f"{path}: bundle.yaml has no usable {key} ({shown})",
                                hint=f"The registry files bundles by name@version; the {key} must be "
                                     f"text of 1 to {size} characters without '@'.")
    return name, version, license_[:200] if license_ else None


def _store_choice(url: str, store: Path | str | None) -> tuple[Path, str]:
    """``(local folder, store URL)``. The URL is ``store`` or the ``store_url`` setting
    (``MODELGATE_STORE``) when either is ``oci://…`` (bytes in an OCI registry; the folder then
    holds only the incoming area and working copies), else empty (the folder store)."""
    text = str(store) if store is not None else ""
    configured = settings.get(settings.STORE)
    chosen = text if text.startswith(SCHEME) else configured if configured.startswith(SCHEME) else ""
    folder = Path(text.removeprefix("file://")) if text and not text.startswith(SCHEME) else None
    return _store_root(url, folder), chosen


def _store_root(url: str, store: Path | None) -> Path:
    if store is not None:
        return Path(store).expanduser().resolve()
    file = database.sqlite_file(url)
    if file is not None:
        return file.with_suffix(".store") if file.suffix else file.with_name(file.name + ".store")
    configured = settings.get(settings.STORE).removeprefix("file://")
    if configured and not configured.startswith(SCHEME):
        return Path(configured).expanduser().resolve()
    return database.data_dir() / "store"


def open_registry(*, url: str | None = None, user: str | None = None, store: Path | str | None = None,
                  create: bool = False, housekeeping: bool = True) -> Registry:
    """Open the registry at ``url`` (default ``$MODELGATE_REGISTRY``, else the SQLite file in
    the user's data folder), upgrading its schema if this ModelGate is newer.

    ``create`` makes a new registry when there is none; otherwise a missing one is
    a :class:`RegistryError` suggesting ``modelgate registry init``. ``store`` is a folder, or
    ``oci://HOST[:PORT]/PREFIX``; by default the ``store_url`` setting (see :func:`_store_choice`).
    Without ``housekeeping`` the leftovers of interrupted imports stay: for a helper process of
    an app that opened the registry itself, whose working copies they may be.
    """
    url = database.resolve_url(url)
    file = database.sqlite_file(url)
    if file is not None and not file.exists():
        if not create:
            raise RegistryError(f"no registry at {file}; run `modelgate registry init`",
                                hint="Or point --registry / MODELGATE_REGISTRY at an existing registry.")
        file.parent.mkdir(parents=True, exist_ok=True)
    engine = database.create_registry_engine(url)
    try:
        database.ensure_schema(engine, url=url, create=create)
        with engine.connect() as connection:
            actor = identity.acting_user(connection, explicit=user)
        root, store_url = _store_choice(url, store)
        registry = Registry(url=url, engine=engine, actor=actor, store_root=root, store_url=store_url)
        if housekeeping:
            registry.store.clean_incoming()  # leftovers of interrupted imports; each is logged
        return registry
    except BaseException:
        engine.dispose()
        raise


def init_registry(*, url: str | None = None, user: str | None = None, store: Path | str | None = None) -> Registry:
    """Create (or upgrade) a registry; on a new one the acting user becomes its admin.

    Running it again is harmless for an admin; anyone else is told the registry
    already exists. On PostgreSQL, run by the registry's owner, it also puts the
    guarded write functions and the grants back as :mod:`.pgwrites` sets them.
    """
    registry = open_registry(url=url, user=user, store=store, create=True)
    try:
        with database.writer(registry.engine).begin() as connection:
            if pgwrites.owns_registry(connection):  # re-apply the grants someone may have widened
                pgwrites.install(connection)
        with registry.session() as session:
            identity.ensure_first_admin(session, registry.actor)
            held = identity.roles_of(session, registry.actor)
            if "admin" not in held:
                admins = session.execute(select(User.name).join(UserRole).where(
                    UserRole.role == "admin").order_by(User.name)).scalars().all()
                raise RegistryError(
                    f"a registry already exists at {database.redact(registry.url)} "
                    f"(admins: {', '.join(admins) or 'none'})",
                    hint=f"Ask an admin to add you: modelgate users add {registry.actor} --role ROLE")
        registry.store_root.mkdir(parents=True, exist_ok=True)
        return registry
    except BaseException:
        registry.close()
        raise
