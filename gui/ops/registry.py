"""An open registry as the app uses it, through the core's public functions only.

Every method here runs on the registry worker (see :mod:`.workers`), never on the UI
thread, except where noted: the core's calls block on the database. The registry worker
owns the :class:`Registry` and its sessions: no other thread uses them, and
:meth:`RegistryConnection.close` runs there too (after the work queued before it), or on
the UI thread once the workers have been shut down and waited for. The one exception is the
listing: :meth:`~RegistryConnection.page` and :meth:`~RegistryConnection.count` run on the
listing thread, read-only, in sessions of their own on the registry's engine (a pool made for
many threads), so that typing never waits behind other registry work. The rest of the
ownership rule is in :mod:`.background`.
"""

from __future__ import annotations

import dataclasses
import secrets
import threading
from contextlib import contextmanager
from pathlib import Path

from modelgate.core.errors import OperationCancelled
from modelgate.core.policy.document import Policy
from modelgate.core.registry import (AuditEvent, ImportResult, Registry, VersionDetail, VersionInfo, audit_browse, browse,
                                     facets, open_registry)
from modelgate.core.registry.browse import STATUSES, VersionQuery
from modelgate.core.registry.database import default_url, redact, session_scope
from modelgate.core.registry.policies import policy_in_force

#: What the registry screen takes from here: the listing's rows, query and statuses.
__all__ = ["STATUSES", "RegistryConnection", "VersionInfo", "VersionQuery"]


def default_registry_url() -> str:
    """The registry opened when neither the settings, the command line nor the environment name one."""
    return default_url()


def shown_url(url: str) -> str:
    """``url`` with any password hidden, for the screen and problem reports; text that is no URL as is."""
    try:
        return redact(url)
    except Exception:  # noqa: BLE001 (SQLAlchemy's ArgumentError and ValueError alike: not a URL)
        return url


class RegistryConnection:
    """A :class:`Registry`, the policy its gates use, and what is known of its tags and owners."""

    def __init__(self, *, registry: Registry, policy: Policy, roles: tuple[str, ...] = ()) -> None:
        self.registry = registry
        self.policy = policy
        #: Names this opening to the worker processes that read the registry on its behalf: a
        #: registry reopened at the same address is a new one to them.
        self.opened = secrets.token_hex(8)
        #: The acting user's roles when the registry was opened.
        self.roles = tuple(roles)
        # Replaced whole, never changed in place, so the registry worker may read it while
        # the UI thread swaps in a bigger one.
        self.facets = facets.FacetIndex()
        # The database connection a listing query runs on now (registry worker), so that the
        # UI thread can stop it when a newer filter overtakes it; the lock keeps a stop from
        # reaching whatever that connection runs next.
        self._listing_lock = threading.Lock()
        self._listing_on = None
        self._listing_stopped = False

    @classmethod
    def open(cls, *, url: str | None, user: str | None) -> RegistryConnection:
        """Open the registry at ``url`` as ``user`` (defaults as on the command line)."""
        registry = open_registry(url=url or None, user=user or None)
        try:
            return cls(registry=registry, policy=policy_in_force(registry), roles=tuple(registry.roles()))
        except BaseException:
            registry.close()
            raise

    @property
    def url(self) -> str:
        """The registry's URL as given, password included (to offer it again for opening)."""
        return self.registry.url

    @property
    def label(self) -> str:
        """The registry's URL without any password (safe on the UI thread)."""
        return redact(self.registry.url)

    def _with_facets(self, query: browse.VersionQuery) -> browse.VersionQuery:
        if not query.text.strip():
            return query
        return dataclasses.replace(query, version_ids=self.facets.matching(query.text),
                                   submitters=self.facets.matching_submitters(query.text))

    @contextmanager
    def _listing(self):
        """A read session whose statements :meth:`stop_listing` may interrupt, on the listing
        thread: its own session on the registry's engine (which is made for use by many threads)."""
        with session_scope(self.registry.engine, write=False) as session:
            raw = session.connection().connection.dbapi_connection
            with self._listing_lock:
                self._listing_on, self._listing_stopped = raw, False
            try:
                yield session
            except Exception:
                if self._listing_stopped:   # the database's own "interrupted" or "canceled" error
                    raise OperationCancelled("a newer filter overtook this query") from None
                raise
            finally:
                with self._listing_lock:
                    self._listing_on = None

    def stop_listing(self) -> None:
        """Stop the listing query running now, if any (any thread: the UI thread when a key is typed).

        SQLite's interrupt only sets a flag, so it is called here under the lock; PostgreSQL's
        cancel is a request to the server, sent from a thread of its own."""
        with self._listing_lock:
            raw = self._listing_on
            if raw is None:
                return
            if self.registry.engine.dialect.name == "sqlite":
                self._listing_stopped = True
                raw.interrupt()
                return
        threading.Thread(target=self._cancel_on_server, args=(raw,), name="modelgate-query-cancel",
                         daemon=True).start()

    def _cancel_on_server(self, raw) -> None:
        with self._listing_lock:
            if self._listing_on is not raw:
                return                       # it ended meanwhile: nothing to stop
            self._listing_stopped = True
            cancel = getattr(raw, "cancel_safe", None) or raw.cancel
            try:
                cancel()
            except Exception:  # the server is gone: the query ends with its own error anyway
                pass

    def page(self, *, query: browse.VersionQuery, offset: int, limit: int) -> list[VersionInfo]:
        """One page of the listing; text also matches the submitters, tags and owners indexed so
        far. :class:`OperationCancelled` when :meth:`stop_listing` stopped it."""
        query = self._with_facets(query)
        with self._listing() as session:
            return browse.page_of(session, query=query, limit=limit, offset=offset)

    def standings(self, *, refs, processes, progress) -> dict:
        """Where each ``(name, version)`` of ``refs`` stands for its next stage, by the promotion's
        gates under the policy in force (no validation is run: see :mod:`~modelgate.core.registry.standing`).

        Judged in a worker process of ``processes`` (a :class:`.processes.ProcessPool`): a page
        of versions costs a few hundred milliseconds of interpreter time, which in this process
        would hold the window back while the user types in the filter."""
        return processes.run("standings", url=self.url, user=self.actor, opened=self.opened, refs=list(refs),
                             policy=self.policy, progress=progress)

    def count(self, *, query: browse.VersionQuery) -> int:
        """How many versions the listing holds under ``query`` (:class:`OperationCancelled` when stopped)."""
        query = self._with_facets(query)
        with self._listing() as session:
            return browse.count_of(session, query=query)

    def unindexed_versions(self) -> list[facets.IndexedVersion]:
        """Versions whose submitters, tags and owners are not indexed yet."""
        return facets.unindexed_versions(self.registry, known=self.facets.versions)

    def index_facets(self, rows: list[facets.IndexedVersion], *, progress) -> facets.FacetIndex:
        """The current index extended with ``rows`` (reads their manifests; no database)."""
        read = facets.read_facets(self.registry.store, (row.digest for row in rows), progress=progress)
        return self.facets.extended(rows, read)

    def import_bundle(self, *, path: Path, progress) -> ImportResult:
        """Import the bundle at ``path``, as ``modelgate registry import`` does."""
        return self.registry.import_bundle(path=path, progress=progress)

    def push(self, *, name: str, version: str, target, insecure: bool, progress):
        """Push ``name@version`` to the OCI repository ``target`` (see ``modelgate push``)."""
        from modelgate.core.registry.publish import push_version

        return push_version(self.registry, name=name, version=version, target=target, insecure=insecure,
                            policy=self.policy, progress=progress)

    def detail(self, *, name: str, version: str) -> VersionDetail:
        """Everything the registry recorded about ``name@version``."""
        return self.registry.show(name=name, version=version)

    def champion(self, *, name: str, version: str) -> tuple[str, Path] | None:
        """``(version, stored folder)`` of the model's production version, unless that is
        ``version`` itself: the champion a candidate's metrics are compared with."""
        return self.registry.champion(name=name, version=version)

    @property
    def actor(self) -> str:
        """Who the app acts as."""
        return self.registry.actor

    def holds(self, *roles: str) -> bool:
        """Whether the acting user holds one of ``roles`` (admins hold every role)."""
        return "admin" in self.roles or any(role in self.roles for role in roles)

    def role_refusal(self, *roles: str, doing: str) -> str | None:
        """Why the acting user may not do ``doing`` (e.g. "signing"), or None when they hold a role."""
        if self.holds(*roles):
            return None
        wanted = " or ".join(roles)
        return f"You ({self.actor}) hold {', '.join(self.roles) or 'no role'}; {doing} needs the {wanted} role."

    def queue(self, *, processes, progress):
        """The acting user's work queue under the registry's policy in force now, read in a worker
        process of ``processes``: on a large registry it is seconds of interpreter time, which in
        this process would hold the window back."""
        return processes.run("queue", url=self.url, user=self.actor, opened=self.opened, progress=progress)

    def model_names(self) -> list[str]:
        """Every model's name, alphabetically."""
        from modelgate.core.registry.queries import model_names

        with self.registry.session(write=False) as session:
            return model_names(session)

    def versions_of(self, *, name: str) -> list[VersionInfo]:
        """The versions of model ``name``, newest first."""
        return self.registry.list_versions(name=name, limit=1000, order="created")

    def audit_values(self, *, known: audit_browse.AuditValues | None = None) -> audit_browse.AuditValues:
        """The audit log's distinct actors, actions and subjects (``known`` extended, or afresh)."""
        return audit_browse.values(self.registry, known=known)

    def audit_page(self, *, query: audit_browse.AuditQuery, values: audit_browse.AuditValues | None,
                   limit: int, after: int | None = None, before: int | None = None) -> list[AuditEvent]:
        """One page of the audit log under ``query``, after or before the event with that number."""
        return audit_browse.page(self.registry, query=query, values=values, limit=limit, after=after,
                                 before=before)

    def audit_count(self, *, query: audit_browse.AuditQuery,
                    values: audit_browse.AuditValues | None) -> audit_browse.AuditCount:
        """How many audit events ``query`` selects (exact up to a cap)."""
        return audit_browse.count(self.registry, query=query, values=values)

    def check_audit_chain(self, *, progress) -> audit_browse.ChainCheck:
        """Verify the audit log's hash chain, with the events to show for the verdict."""
        return audit_browse.check_chain(self.registry, progress=progress)

    def close(self) -> None:
        self.stop_listing()
        self.registry.close()
