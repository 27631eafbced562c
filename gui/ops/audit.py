"""The audit log as the audit screen reads it: the queries, counts and chain checks it shows.

The queries themselves run through :class:`~modelgate.gui.ops.registry.RegistryConnection`
on the registry worker; the audit screen's widgets take their types from here, so that
nothing in the app outside :mod:`modelgate.gui.ops` imports the registry.
"""

from __future__ import annotations

from modelgate.core.registry import AuditEvent
from modelgate.core.registry.audit_browse import FAMILY, AuditCount, AuditQuery, AuditValues, ChainCheck

__all__ = ["FAMILY", "AuditCount", "AuditEvent", "AuditQuery", "AuditValues", "ChainCheck"]
