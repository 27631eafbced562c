"""MG220-MG239: rules every model format reports under, declared once for all of them.

The format packages find the problems while reading a file; the checks engine
(core/checks/formats.py) adds the ones that need the manifest or the stage.
"""

from __future__ import annotations

from modelgate.core.findings import Severity
from modelgate.core.rules import rule

FORMAT_MISMATCH = rule(
    "MG220", title="Model file is not in its declared format", severity=Severity.ERROR,
    rationale="""Each artifact declares its `format`. A file whose bytes are another format (a
    pickle named .safetensors, an ONNX file declared as GGUF) is read by the wrong tools and
    slips past the checks meant for it; a renamed pickle is a classic way to smuggle code.""",
    fix="""Declare the format the file really is, or replace the file with one in the declared
    format.""",
)
UNREADABLE = rule(
    "MG221", title="Model file cannot be read", severity=Severity.ERROR,
    rationale="""A file that is truncated, malformed or claims more than it holds cannot be
    reviewed or deployed, and a reader that trusted its sizes could be made to allocate or read
    far more than the file holds.""",
    fix="""Save the model again with its format's own library and copy the complete file into
    the bundle.""",
)
LAYOUT = rule(
    "MG222", title="Tensor data is out of bounds, overlapping or padded with stray bytes",
    severity=Severity.ERROR,
    rationale="""Every tensor's bytes must lie inside the file, no two tensors may share bytes,
    and nothing may hide between or after them. Overlaps let one tensor silently alias another;
    stray bytes can carry data nobody reviewed; ranges past the end crash loaders.""",
    fix="""Save the model again with its format's own library; do not edit model files by hand.""",
)
UNSAFE_IMPORT = rule(
    "MG223", title="Pickle imports a callable that can run code", severity=Severity.ERROR,
    rationale="""Loading a pickle calls every callable it imports. A checkpoint that imports
    `os.system`, `builtins.exec`, `subprocess.Popen`, `runpy` or similar runs arbitrary
    commands on every machine that loads it. The file is never unpickled here: it is read
    opcode by opcode and by a static scanner.""",
    fix="""Do not use this file. Convert the weights to safetensors from a trusted copy
    (`safetensors.torch.save_file(model.state_dict(), ...)`).""",
)
UNLISTED_IMPORT = rule(
    "MG224", title="Pickle imports a callable outside the tensor allow-list",
    severity=Severity.ERROR,
    rationale="""A weights checkpoint needs only the callables that rebuild tensors and plain
    containers (torch._utils._rebuild_tensor_v2, collections.OrderedDict, numpy's array
    reconstruction). Anything else runs code nobody reviewed when the file is loaded.""",
    fix="""Save only the state dict (tensors), or convert the weights to safetensors.""",
)
PICKLE_STAGE = rule(
    "MG225", title="Pickle-based format beyond candidate", severity=Severity.ERROR,
    rationale="""Pickle-based files (PyTorch .pt/.bin/.ckpt, joblib, .pkl) execute code when
    loaded, however clean a scan looks today. They may be reviewed at draft and candidate
    (a warning), but are refused from staging on.""",
    fix="""Convert the weights to safetensors, or, where a pickle is unavoidable, lower this
    rule's severity in the policy and have the exception approved.""",
)
METADATA_MISMATCH = rule(
    "MG226", title="The model file's metadata contradicts bundle.yaml", severity=Severity.ERROR,
    rationale="""GGUF and safetensors files carry their own metadata (name, license). A file
    whose license differs from the manifest's may ship under terms the bundle does not
    declare; a different name suggests the wrong file was packaged.""",
    fix="""Check which file is right; fix `license`/`name` in bundle.yaml or package the
    intended file.""",
)
CUSTOM_OPERATOR = rule(
    "MG227", title="Model uses custom operators", severity=Severity.WARNING,
    rationale="""A custom operator is code outside the runtime's standard operator set: the
    target must ship it, and reviewers cannot see what it computes.""",
    fix="""Replace the custom operator with built-in ones, or document where its
    implementation comes from.""",
)
SHARDS = rule(
    "MG228", title="Sharded checkpoint is incomplete or inconsistent", severity=Severity.ERROR,
    rationale="""A sharded safetensors checkpoint is one artifact: its index names a shard for
    every tensor. A missing shard, a shard outside the model's folder, a tensor in a shard the
    index does not name or a wrong total size leave the model unloadable or ambiguous.""",
    fix="""Save the checkpoint again (`save_pretrained`) and copy the index with every shard.""",
)
TARGET_FORMAT = rule(
    "MG229", title="Target runtime cannot run the artifact's format", severity=Severity.ERROR,
    rationale="""Each target names a runtime and an artifact variant. onnxruntime runs ONNX,
    llama.cpp runs GGUF, TFLite runs .tflite, transformers loads safetensors and PyTorch; a
    target whose artifact is in another format cannot be deployed as declared.""",
    fix="""Point the target at a variant in a format its runtime reads, or change its runtime.""",
)
WEIGHTS_ONLY = rule(
    "MG230", title="The interface cannot be checked against a weights-only file",
    severity=Severity.INFO,
    rationale="""safetensors, GGUF and pickle checkpoints store weights, not a graph, so the
    declared `interface` is the manifest's promise alone; nothing in the file confirms it.""",
    fix="""Keep the interface accurate by hand, or add an ONNX or TFLite export that states it.""",
)
PICKLE_LIMIT = rule(
    "MG231", title="Pickle exceeds the scanning limits", severity=Severity.ERROR,
    rationale="""A pickle with an unknown protocol, absurd nesting, an oversized member or an
    archive that inflates far beyond its size (a zip bomb) cannot be scanned completely, and
    what was not scanned cannot be vouched for.""",
    fix="""Convert the weights to safetensors from a trusted copy.""",
)
RUNTIME_FAILED = rule(
    "MG232", title="The format's runtime cannot load the model", severity=Severity.ERROR,
    rationale="""Where a runtime for the format is installed (llama.cpp's Python binding for GGUF,
    LiteRT for TFLite), a stage that requires inference loads the model in it, in the same
    bounded process as ONNX smoke runs. A model its own runtime refuses cannot be deployed.""",
    fix="""Load the model in the target runtime yourself and fix the error it reports.""",
)
RUNTIME_SKIPPED = rule(
    "MG233", title="The format's runtime check was not run", severity=Severity.INFO,
    rationale="""No runtime for the format is installed where ModelGate runs (llama-cpp-python,
    ai-edge-litert or tflite-runtime), or the format holds weights only. A stage that requires
    inference then relies on the header checks alone; this is a warning there.""",
    fix="""Install the runtime (pip install 'modelgate[runtimes]') where validation runs, or run
    the model in the target runtime yourself.""",
)
DEVICE_POLICY = rule(
    "MG234", title="The policy does not allow this model on the target's device", severity=Severity.ERROR,
    rationale="""A policy may say what each device runs (`devices:`): a mobile NPU, for example,
    only int8 TFLite models. A target whose artifact is in another format, or whose weights are
    stored in other types, would not run there as reviewed.""",
    fix="""Ship a variant in an allowed format and quantisation for this target, or point the
    target at another device.""",
)
