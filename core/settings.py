"""Every tunable setting, declared once with its type, default and environment variable.

Values come from the environment (``MODELGATE_<NAME>``) or the default. Code
asks :func:`get` for a value; it never reads the environment itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str
    type: type
    default: object
    help: str

    @property
    def env(self) -> str:
        return "MODELGATE_" + self.name.upper()


SETTINGS = {
    s.name: s
    for s in (
        Setting("max_archive_entries", int, 10_000,
                "Most entries an archived bundle may hold."),
        Setting("max_archive_bytes", int, 64 * 1024**3,
                "Most bytes an archived bundle may expand to."),
        Setting("max_archive_ratio", int, 1000,
                "Most times an archive may expand its own size (beyond 16 MiB unpacked)."),
        Setting("max_manifest_bytes", int, 1024**2,
                "Largest bundle.yaml read, in bytes."),
        Setting("max_yaml_nodes", int, 100_000,
                "Most YAML nodes (scalars, lists, mappings) in one manifest or policy, counted "
                "with every alias expanded."),
        Setting("max_yaml_aliases", int, 100,
                "Most YAML aliases (*ref) in one manifest or policy."),
        Setting("hash_workers", int, 0,
                "Threads that hash files in parallel; 0 means one per core."),
        Setting("max_json_bytes", int, 16 * 1024**2,
                "Largest benchmark results file read, in bytes."),
        Setting("max_session_bytes", int, 4 * 1024**3,
                "Largest model (with its external data) loaded into onnxruntime for the smoke "
                "inference and the runtime checks; a CI runner should not need tens of gigabytes."),
        Setting("trust_store", str, "",
                "Trusted signers' public keys (files or folders, ':'-separated) used when "
                "`verify` and `validate` get no --trust; empty means the registry's trusted signers."),
        Setting("smoke_timeout_s", float, 120.0,
                "Longest a smoke inference on a batch of one may run before it is reported."),
        Setting("audit_checkpoint_every", int, 100,
                "Audit events between two signed checkpoints of the audit log's head; 0 signs "
                "one only on `modelgate audit checkpoint`."),
    )
}


def get(name: str):
    """The value of setting ``name``, from the environment or its default."""
    setting = SETTINGS[name]
    raw = os.environ.get(setting.env)
    if raw is None or raw == "":
        return setting.default
    if setting.type is str:
        return raw
    try:
        value = setting.type(raw)
    except ValueError:
        value = None
    if value is None or value != value or value < 0:  # not a number, NaN or negative
        from modelgate.core.errors import UsageError

        raise UsageError(
            f"{setting.env}={raw!r} is not a valid {setting.type.__name__}",
            hint=f"{setting.help} It must be a number of 0 or more.",
        )
    return value
