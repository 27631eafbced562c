"""safetensors: single files and sharded checkpoints, read from their headers alone."""

from __future__ import annotations

import struct
from pathlib import Path

from modelgate.core.formats.interface import ModelFacts, RuntimeUnavailable, Starter
from modelgate.core.formats.safetensors.header import read_file
from modelgate.core.formats.safetensors.shards import INDEX_SUFFIX, read_index, shard_names


class SafetensorsFormat:
    """Hugging Face's safetensors: a JSON header and raw tensor bytes, nothing executable."""

    names = ("safetensors",)
    title = "safetensors"
    suffixes = (".safetensors", ".safetensors.index.json")
    runtimes = ("transformers",)
    executes_code = False
    onnx_checks = False

    def detect(self, *, head: bytes, path: Path) -> bool:
        """A header length the file can hold followed by a JSON object, or a shard index."""
        if path.name.endswith(INDEX_SUFFIX):
            return head.lstrip()[:1] == b"{"
        if len(head) < 9 or head[8:9] != b"{":
            return False
        (length,) = struct.unpack("<Q", head[:8])
        return 2 <= length <= path.stat().st_size - 8

    def read(self, *, path: Path, label: str) -> ModelFacts:
        """One file's header, or every shard of an index; never the weights."""
        if path.name.endswith(INDEX_SUFFIX):
            return read_index(path, label=label)
        return read_file(path, label=label)

    def companions(self, *, path: Path) -> tuple[str, ...]:
        """The shards an index names (only plain names beside it; others are MG228's business)."""
        return shard_names(path) if path.name.endswith(INDEX_SUFFIX) else ()

    def cross_check(self, *, facts: ModelFacts, manifest):
        """safetensors metadata is free-form (``format: pt``); nothing in it binds the manifest."""
        return iter(())

    def starter(self, *, path: Path, facts: ModelFacts) -> Starter:
        """The shards travel with their index; the dominant dtype names the variant."""
        dtype = facts.dtypes[0] if facts.dtypes else None
        variant = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16", "int8": "int8"}.get(dtype or "")
        extra = tuple(path.parent / name.rsplit("/", 1)[-1] for name in facts.files[1:])
        return Starter(variant=variant, extra_files=extra)

    def runtime_check(self, *, path: Path) -> str | None:
        """A safetensors file has no graph to run."""
        raise RuntimeUnavailable("safetensors holds weights only; there is nothing to run")


FORMAT = SafetensorsFormat()
