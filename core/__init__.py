"""ModelGate core: the Qt-free library behind the desktop app and the headless CLI.

Heavy modules (onnx, onnxruntime, license-expression) are imported lazily inside the
functions that need them, so that importing this package and starting the CLI
stays fast.
"""

import os as _os

# onnxruntime (1.29 and later) writes a device id under ~/.cache and tries to upload usage
# events unless told not to. ModelGate promises no surprise network access, and it runs
# on air-gapped signing stations: opt out before onnxruntime can be imported. A user
# who wants onnxruntime's telemetry sets ORT_DISABLE_TELEMETRY=0 explicitly.
_os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

__version__ = "0.1.0"

BUNDLE_FORMAT = "modelgate.bundle/v1"
POLICY_FORMAT = "modelgate.policy/v1"
