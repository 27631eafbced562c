"""Comparison operations: two stored versions side by side, for the compare window.

:func:`plan` reads the registry (registry worker) and says where both bundles are stored;
:func:`run` reads and validates the stored bundles it planned in a worker process (the
"compare" job of :mod:`.process_child`), with no database, as ``modelgate compare`` does:
loading two ONNX models and validating them would hold the window's process for seconds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from modelgate.core.progress import Progress
from modelgate.core.registry import compare as comparing
from modelgate.core.registry.compare import ComparePlan, Comparison


@dataclasses.dataclass(frozen=True)
class StoreAddress:
    """Where a plan's two bundles are stored, as plain values a worker process can pickle: the
    store's URL and folder, and the store path the registry recorded for each digest (a worker
    has no database to ask)."""

    url: str
    root: Path
    places: dict[str, str]

    def open(self):
        """The store back-end these values name (close it after use)."""
        from modelgate.core.store.backends import open_backend

        return open_backend(url=self.url, root=self.root, locate=self.places.get)


@dataclasses.dataclass(frozen=True)
class PortablePlan:
    """A :class:`ComparePlan` in a form that pickles: its store as a :class:`StoreAddress`, its
    regression limits as plain dicts (the policy keeps them read-only, and those do not pickle)."""

    plan: ComparePlan
    store: StoreAddress | None

    @property
    def a(self):
        return self.plan.a

    @property
    def b(self):
        return self.plan.b

    def opened(self, store) -> ComparePlan:
        """The plan again, reading through ``store`` (the opened :attr:`store`)."""
        return dataclasses.replace(self.plan, store=store)


def _plain(value):
    """``value`` with every mapping a dict, so that it pickles."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(_plain(item) for item in value)
    return value


def plan(connection, *, champion: tuple[str, str] | None, challenger: tuple[str, str],
         stage: str | None) -> PortablePlan:
    """What comparing ``champion`` (None: the current champion of the challenger's model) with
    ``challenger``, each ``(name, version)``, reads; judged for ``stage`` under the registry's policy."""
    a = champion or comparing.champion_for(connection.registry, name=challenger[0], version=challenger[1])
    found = comparing.plan_comparison(connection.registry, a=a, b=challenger, stage=stage, policy=connection.policy)
    store = found.store
    address = None if store is None else StoreAddress(
        url=store.location, root=Path(store.root),
        places={side.digest: store.relative(side.digest) for side in (found.a, found.b)})
    return PortablePlan(dataclasses.replace(found, store=None, regression=_plain(found.regression)), address)


def run(plan_: PortablePlan, *, processes, progress: Progress) -> Comparison:
    """Compare the stored bundles of ``plan_`` in one of ``processes`` (the app's ProcessPool):
    manifests, metrics, graphs, then findings. Cancelling ``progress`` stops the worker process."""
    return processes.run("compare", plan=plan_, progress=progress)


def run_here(plan_: PortablePlan, *, progress: Progress) -> Comparison:
    """What the "compare" job runs in the worker process: :func:`run`'s work."""
    store = plan_.store.open() if plan_.store is not None else None
    try:
        return comparing.run_comparison(plan_.opened(store), progress=progress)
    finally:
        if store is not None:
            store.close()
