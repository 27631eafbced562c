"""The registry: versions, reviews, promotions and a tamper-evident audit log, on SQLAlchemy.

Importing this package imports SQLAlchemy; the command line imports it only in
the commands that use the registry.
"""

from __future__ import annotations

from modelgate.core.registry import errors
from modelgate.core.registry.audit import AuditEvent, AuditVerdict
from modelgate.core.registry.errors import IdentityError, NotFound, PermissionDenied, RegistryError, WorkflowRefused
from modelgate.core.registry.models import ROLES
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
from modelgate.core.registry.service import Registry, init_registry, open_registry

__all__ = [
    "ROLES",
    "AuditEvent",
    "AuditVerdict",
    "IdentityError",
    "ImportResult",
    "NotFound",
    "PermissionDenied",
    "PromotionInfo",
    "Registry",
    "RegistryError",
    "ReviewInfo",
    "SignatureInfo",
    "UserInfo",
    "ValidationInfo",
    "VersionDetail",
    "VersionInfo",
    "WorkflowRefused",
    "errors",
    "init_registry",
    "open_registry",
]
