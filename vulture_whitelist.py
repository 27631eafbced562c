"""Names that look unused to vulture because something outside this code calls or reads them.

`make deadcode` (and tests/test_dead_code.py) run vulture over core/ and gui/ with tests/ and
packaging/ as users and this file beside them. Only names called or read by Qt, by another
library, by Python itself or by an entry point belong here, each under the comment that says who
uses it; anything else vulture reports is dead and is removed, not listed.
"""

from vulture.whitelist_utils import Whitelist

_ = Whitelist()

# Qt calls these overrides of its models, views, widgets and the web engine by name.
_.rowCount
_.columnCount
_.data
_.headerData
_.canFetchMore
_.fetchMore
_.filterAcceptsRow
_.lessThan
_.closeEvent
_.showEvent
_.resizeEvent
_.paintEvent
_.loadResource          # QTextBrowser: the model card viewer refuses remote images here
_.interceptRequest      # QWebEngineUrlRequestInterceptor: keeps the graph viewer offline

# VersionActions opens each action's dialog by name: getattr(self, f"open_{key}").
_.open_report
_.open_push

# Entry points named in pyproject.toml [project.scripts] and packaging/entry_points/.
_.entry
_.gui_entry

# Python: a module's __getattr__ (PEP 562) loads core.evidence's parts lazily.
_.__getattr__
# The file protocol: EscapingStream hands every other attribute to the raw stream, so it must
# define writelines itself, or a caller of writelines would bypass the escaping.
_.writelines

# http.server / socketserver call these on the Netron server's handler and server.
_.do_GET
_.do_HEAD
_.log_message
_.daemon_threads

# reportlab: paragraph style spacing, and the page template's hook after each flowable.
_.spaceAfter
_.afterFlowable

# onnxruntime SessionOptions and numpy array flags, set on the library's objects.
_.log_severity_level
_.intra_op_num_threads
_.inter_op_num_threads
_.writeable

# PyYAML's parser state, reset by _PyParser.dispose so the parser lets go of the document.
_.states

# The sqlite3 driver's connection: no isolation level, so that SQLAlchemy emits BEGIN itself.
_.isolation_level

# Who recorded a signature or revoked a key, when a waiver was confirmed: columns kept for the record, written here and by
# the PostgreSQL functions (core/registry/pg_operations.py), read by whoever queries the database.
_.recorded_by
_.revoked_by
_.confirmed_at

# ortcompat.Limits fields are read by name through ortcompat.FIELDS.
_.ml_opset

# model-signing's hashing and signer interfaces: it calls these methods and keywords, and
# reads these attributes of its Signer.
_.add_ignored_paths
_.files_to_hash
_._signing_certificate
_._trust_chain

# spdx-python-model serialises the SPDX 3 objects' attributes by name (core/evidence/spdx_bom.py).
_.createdBy
_.createdUsing
_.ai_metric
_.ai_informationAboutApplication
_.ai_limitation
_.ai_informationAboutTraining
_.software_downloadLocation

# requests reads a Session's max_redirects by name (core/store/client.py sets it to 0: no
# manifest may be fetched from wherever a redirect points).
_.max_redirects

# pickle reads these by name while it dumps the demo's PyTorch checkpoint (core/demo/torch_zip.py):
# Pickler.persistent_id, and the stand-in modules' attributes and qualified name it resolves.
_.persistent_id
_.FloatStorage
_._utils
_.__qualname__

# Qt calls an event filter object's eventFilter (gui/app/why_disabled.py).
_.eventFilter
