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
    #: The environment variable, when it is not MODELGATE_<NAME> (a name users set before it was declared).
    environment: str = ""
    #: What an empty value means, in words, for listings (a str setting's empty default is no blank).
    unset: str = ""

    @property
    def env(self) -> str:
        return self.environment or "MODELGATE_" + self.name.upper()


#: Every setting by name, in the order declared (``modelgate settings`` lists them so).
SETTINGS: dict[str, Setting] = {}


def _declare(*args, **kwargs) -> Setting:
    setting = Setting(*args, **kwargs)
    SETTINGS[setting.name] = setting
    return setting


MAX_ARCHIVE_ENTRIES = _declare("max_archive_entries", int, 10_000,
                               "Most entries an archived bundle may hold.")
MAX_ARCHIVE_BYTES = _declare("max_archive_bytes", int, 64 * 1024**3,
                             "Most bytes an archived bundle may expand to.")
MAX_ARCHIVE_RATIO = _declare("max_archive_ratio", int, 200,
                             "Most times an archive, or one zip member, may expand its packed size (beyond "
                             "16 MiB unpacked); model weights compress far less than that.")
MAX_ARCHIVE_MEMBER_BYTES = _declare("max_archive_member_bytes", int, 32 * 1024**3,
                                    "Most bytes one archive member may expand to.")
MAX_ARCHIVE_HEADER_BYTES = _declare("max_archive_header_bytes", int, 1024**2,
                                    "Largest archive header read into memory: a tar PAX or GNU long-name record, or "
                                    "a zip's central directory.")
MAX_MANIFEST_BYTES = _declare("max_manifest_bytes", int, 1024**2,
                              "Largest YAML document read (bundle.yaml, a policy, a model card's front matter), "
                              "in bytes.")
MAX_YAML_NODES = _declare("max_yaml_nodes", int, 100_000,
                          "Most YAML nodes (scalars, lists, mappings) in one manifest or policy, counted "
                          "with every alias expanded.")
MAX_YAML_ALIASES = _declare("max_yaml_aliases", int, 100,
                            "Most YAML aliases (*ref) in one manifest or policy.")
MAX_NESTING_DEPTH = _declare("max_nesting_depth", int, 64,
                             "Deepest nesting of lists and mappings in a YAML or JSON document.")
MAX_NUMBER_DIGITS = _declare("max_number_digits", int, 1000,
                             "Most characters a number in a YAML or JSON document may be written with.")
MAX_STRING_CHARS = _declare("max_string_chars", int, 100_000,
                            "Longest string (or mapping key) in a YAML or JSON document, in characters.")
MAX_FINDINGS_PER_RULE = _declare("max_findings_per_rule", int, 20,
                                 "Findings of one rule about one file that are listed one by one; the rest are "
                                 "counted in a single finding, so a report grows with distinct problems, not with "
                                 "the size of the input.")
HASH_WORKERS = _declare("hash_workers", int, 0,
                        "Threads that hash files in parallel; 0 means one per core.")
MAX_JSON_BYTES = _declare("max_json_bytes", int, 16 * 1024**2,
                          "Largest JSON document read (benchmark results, signatures, attestations), in bytes.")
MAX_SESSION_BYTES = _declare("max_session_bytes", int, 4 * 1024**3,
                             "Largest model (with its external data) loaded into onnxruntime for the smoke "
                             "inference and the runtime checks; a CI runner should not need tens of gigabytes.")
PKCS11_MODULE = _declare("pkcs11_module", str, "",
                          "The PKCS#11 module (a .so, .dylib or .dll) that reaches a hardware token, used when "
                          "a pkcs11: key URI gives no module-path; for SoftHSM2 on Debian "
                          "/usr/lib/softhsm/libsofthsm2.so.", unset="none: a pkcs11: key URI names its module-path")
TRUST_STORE = _declare("trust_store", str, "",
                       "Trusted signers' public keys and CA certificate files (files or folders, ':'-separated) "
                       "used when `verify` and `validate` get no --trust; empty means the registry's trusted "
                       "signers.", unset="the registry's trusted signers")
SMOKE_TIMEOUT_S = _declare("smoke_timeout_s", float, 10.0,
                           "Longest, in seconds of wall-clock time, that checking a model, creating its "
                           "onnxruntime session and running the smoke inference may take together (in the "
                           "bounded model process), plus smoke_timeout_per_gib_s per GiB of model.")
SMOKE_TIMEOUT_PER_GIB_S = _declare("smoke_timeout_per_gib_s", float, 30.0,
                                   "Extra seconds the model process gets per GiB of model and external data.")
MODEL_MEMORY_MB = _declare("model_memory_mb", int, 512,
                           "Memory, in MiB, the bounded model process may use above its idle size to check, "
                           "load and run one model, plus model_memory_per_model_byte times its size.")
MODEL_MEMORY_PER_MODEL_BYTE = _declare("model_memory_per_model_byte", int, 4,
                                       "Extra bytes of memory the model process gets per byte of model and external "
                                       "data (weights are read, converted and laid out for the kernels).")
STORE = _declare("store_url", str, "",
                 "Where versions' bytes live. A folder (or file://FOLDER): the content-addressed folder "
                 "store, used by a registry that is not a SQLite file (a SQLite registry keeps its folder "
                 "store beside it, REGISTRY.store); empty means the user data folder's store. "
                 "oci://HOST[:PORT]/REPO-PREFIX: an OCI registry holds every imported version as a ModelPack "
                 "artifact in REPO-PREFIX/NAME, and no local copy is kept (plain HTTP only to hosts listed "
                 "in oci_insecure_hosts).", "MODELGATE_STORE",
                 unset="the folder beside a SQLite registry, else the user data folder's store")
OCI_STORE = _declare("oci_store", str, "",
                  "Where `modelgate push` sends a version when no target is given: an OCI registry "
                  "as oci://HOST[:PORT]/REPO-PREFIX (each model becomes REPO-PREFIX/NAME); empty "
                  "means the store_url setting when that is an oci:// prefix, else no default.",
                  unset="none: the store_url setting when that is an oci:// prefix")
OCI_TIMEOUT_S = _declare("oci_timeout_s", float, 60.0,
                         "Longest, in seconds, to wait for an OCI registry to connect or to send the next "
                         "bytes of an answer.")
OCI_INSECURE_HOSTS = _declare("oci_insecure_hosts", str, "",
                              "Comma-separated OCI registry hosts (HOST:PORT) that --insecure may reach over "
                              "plain HTTP besides loopback ones.", unset="none: loopback hosts only")
AUDIT_CHECKPOINT_EVERY = _declare("audit_checkpoint_every", int, 100,
                                  "Audit events between two signed checkpoints of the audit log's head; 0 signs "
                                  "one only on `modelgate audit checkpoint`.")

#: Where a value in force came from: nobody set it, or its environment variable did.
DEFAULT, ENVIRONMENT = "default", "environment"


@dataclass(frozen=True)
class Resolved:
    """A setting's value in force and where it came from (:data:`DEFAULT` or :data:`ENVIRONMENT`)."""

    setting: Setting
    value: object
    origin: str

    @property
    def shown(self) -> str:
        """The value as a listing shows it: what an empty one means, rather than nothing."""
        return self.setting.unset if self.value == "" and self.setting.unset else f"{self.value}"


def parse(setting: Setting, raw: str, *, source: str | None = None):
    """``raw`` read as ``setting``'s type; :class:`~modelgate.core.errors.UsageError` naming
    ``source`` (default: the environment variable) when it is not a number of 0 or more."""
    if setting.type is str:
        return raw
    try:
        value = setting.type(raw.strip())
    except ValueError:
        value = None
    if value is None or value != value or value < 0:  # not a number, NaN or negative
        from modelgate.core.errors import UsageError

        raise UsageError(
            f"{source or setting.env}={raw!r} is not a valid {setting.type.__name__}",
            hint=f"{setting.help} It must be a number of 0 or more.",
        )
    return value


def resolve(setting: Setting | str) -> Resolved:
    """The value of ``setting`` (a declared :class:`Setting`, or its name) and its origin:
    from the environment, else its default. Every reader goes through here, so what a
    settings listing says is where a value came from is where it came from."""
    setting = SETTINGS[setting] if isinstance(setting, str) else setting
    raw = os.environ.get(setting.env)
    if raw is None or raw == "":
        return Resolved(setting, setting.default, DEFAULT)
    return Resolved(setting, parse(setting, raw), ENVIRONMENT)


def get(setting: Setting | str):
    """The value of ``setting`` (a declared :class:`Setting`, or its name), from the
    environment or its default."""
    return resolve(setting).value
