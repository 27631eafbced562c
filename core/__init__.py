"""ModelGate core: the Qt-free library behind the desktop app and the headless CLI.

Heavy modules (onnx, onnxruntime, jsonschema) are imported lazily inside the
functions that need them, so that importing this package and starting the CLI
stays fast.
"""

__version__ = "0.1.0"

BUNDLE_FORMAT = "modelgate.bundle/v1"
POLICY_FORMAT = "modelgate.policy/v1"
