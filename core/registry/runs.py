"""Recorded validation runs with the findings they stored, for whoever must show what was found.

:meth:`Registry.show` lists each run's outcome; a run's full report (the
``modelgate.report/v1`` JSON ``modelgate validate --format json`` writes) stays in
the database and is read here. Nothing here writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import select

from modelgate.core.registry.models import ValidationRun
from modelgate.core.registry.queries import get_version
from modelgate.core.registry.records import ValidationInfo


@dataclass(frozen=True)
class ValidationRecord:
    """One stored run: its outcome, the production version it was compared with (its digest,
    ``None`` when there was none) and the stored report (``{}`` when it cannot be read)."""

    info: ValidationInfo
    champion_digest: str | None
    report: dict = field(default_factory=dict)

    @property
    def findings(self) -> list[dict]:
        """The report's findings, as ``Finding.as_dict`` wrote them."""
        found = self.report.get("findings")
        return [f for f in found if isinstance(f, dict)] if isinstance(found, list) else []


def _report(text: str) -> dict:
    try:
        report = json.loads(text)
    except ValueError:  # an edited row must not hide the other runs
        return {}
    return report if isinstance(report, dict) else {}


def validation_records(registry, *, name: str, version: str) -> list[ValidationRecord]:
    """Every validation run recorded for ``name@version``, oldest first; :class:`NotFound`
    when the version is not there. Needs no role: anyone who may read the registry may
    read what its gates found."""
    with registry.session(write=False) as session:
        row = get_version(session, name=name, version=version)
        runs = session.execute(select(ValidationRun).where(ValidationRun.version_id == row.id)
                               .order_by(ValidationRun.id)).scalars().all()
        return [ValidationRecord(ValidationInfo.of(run), run.champion_digest, _report(run.report))
                for run in runs]
