"""GGUF: llama.cpp's single-file format, metadata and quantised tensors read by gguf's reader."""

from __future__ import annotations

import re
from pathlib import Path

from modelgate.core.bundle.manifest_types import Manifest
from modelgate.core.findings import Severity
from modelgate.core.formats.gguf.reader import MAGIC, read_file
from modelgate.core.formats.interface import ModelFacts, RuntimeUnavailable, Starter, single_file
from modelgate.core.formats.rules import METADATA_MISMATCH


def _plain(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _file_type(facts: ModelFacts) -> str | None:
    """The quantisation the whole file was made with (``general.file_type``), as a variant name."""
    raw = facts.meta("general.file_type")
    if raw is None or not raw.isdigit():
        return None
    from gguf import LlamaFileType

    try:
        name = LlamaFileType(int(raw)).name
    except ValueError:
        return None
    return name.removeprefix("MOSTLY_").lower()


class GgufFormat:
    """GGUF files: metadata key-values, then aligned, usually quantised, tensors."""

    names = ("gguf",)
    title = "GGUF"
    suffixes = (".gguf",)
    runtimes = ("llama.cpp",)
    executes_code = False
    onnx_checks = False

    def detect(self, *, head: bytes, path: Path) -> bool:
        """The GGUF magic opens the file."""
        return head.startswith(MAGIC)

    def read(self, *, path: Path, label: str) -> ModelFacts:
        """Metadata, tensor infos and layout; the tensor data is mapped, never read."""
        return read_file(path, label=label)

    def companions(self, *, path: Path) -> tuple[str, ...]:
        """The artifact is this one file."""
        return single_file(path=path)

    def cross_check(self, *, facts: ModelFacts, manifest: Manifest):
        """``general.license`` and ``general.name`` against the manifest's license and name."""
        declared_license, own_license = manifest.license, facts.meta("general.license")
        if declared_license and own_license and \
                _plain(own_license) != _plain(declared_license):
            yield METADATA_MISMATCH.finding(
                f"{facts.path} says its license is {own_license!r}; bundle.yaml declares "
                f"{declared_license!r}", path="license")
        declared_name, own_name = manifest.name, facts.meta("general.name")
        if declared_name and own_name and \
                _plain(own_name) not in _plain(declared_name) and _plain(declared_name) not in _plain(own_name):
            yield METADATA_MISMATCH.finding(
                f"{facts.path} calls itself {own_name!r}; the bundle is {declared_name!r}",
                path="name", severity=Severity.WARNING)

    def starter(self, *, path: Path, facts: ModelFacts) -> Starter:
        """The file type names the variant; license and name come from the metadata."""
        architecture = facts.meta("general.architecture")
        context = facts.meta(f"{architecture}.context_length") if architecture else None
        described = f"{architecture} model" if architecture else None
        if described and context:
            described += f" with a {context}-token context"
        return Starter(variant=_file_type(facts), license=facts.meta("general.license"), description=described)

    def runtime_check(self, *, path: Path) -> str | None:
        """Load the vocabulary with llama.cpp's Python binding, where it is installed."""
        try:
            import llama_cpp
        except ImportError:
            raise RuntimeUnavailable("llama-cpp-python is not installed") from None
        try:
            llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
        except Exception as error:  # the binding raises ValueError or RuntimeError on bad files
            return f"llama.cpp cannot load the model: {error}"
        return None


FORMAT = GgufFormat()
