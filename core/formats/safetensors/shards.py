"""A sharded safetensors checkpoint: ``model.safetensors.index.json`` and its shards, as one artifact.

The index maps every tensor to the shard file that holds it. The shards must sit beside
the index (a name that climbs out of the folder is refused, never opened), every shard must
exist and hold exactly the tensors the index gives it, and ``metadata.total_size``, when
present, must be the sum of the tensor bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

from modelgate.core.formats.interface import FormatError, ModelFacts
from modelgate.core.formats.rules import SHARDS
from modelgate.core.formats.safetensors.header import read_file

#: Indexes of real checkpoints are a few MB at most; anything larger is refused unread.
MAX_INDEX_BYTES = 64 * 1024 * 1024
INDEX_SUFFIX = ".safetensors.index.json"


def _index(path: Path, label: str) -> dict[str, str]:
    if path.stat().st_size > MAX_INDEX_BYTES:
        raise FormatError(f"{label} is larger than {MAX_INDEX_BYTES // 1024**2} MB; not a shard index")
    try:
        document = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise FormatError(f"{label} is not a JSON shard index ({error.__class__.__name__})") from None
    weight_map = document.get("weight_map") if isinstance(document, dict) else None
    if not isinstance(weight_map, dict) or not weight_map or \
            not all(isinstance(v, str) for v in weight_map.values()):
        raise FormatError(f"{label} has no weight_map naming a shard file for each tensor")
    return document


def _safe_shard(name: str) -> bool:
    return bool(name) and "/" not in name and "\\" not in name and name not in (".", "..") \
        and name.endswith(".safetensors")


def shard_names(path: Path) -> tuple[str, ...]:
    """The shard files an index names that may sit beside it; nothing for an unreadable index."""
    try:
        document = _index(path, path.name)
    except (FormatError, OSError):
        return ()
    return tuple(sorted(name for name in set(document["weight_map"].values()) if _safe_shard(name)))


def read_index(path: Path, *, label: str) -> ModelFacts:
    """The facts of every shard an index names, with the index's consistency findings."""
    document = _index(path, label)
    weight_map: dict[str, str] = document["weight_map"]
    folder = label.rsplit("/", 1)[0] + "/" if "/" in label else ""
    findings, tensors, metadata, size, files = [], [], [], path.stat().st_size, [label]
    for shard in sorted(set(weight_map.values())):
        if not _safe_shard(shard):
            findings.append(SHARDS.finding(f"{label} names shard {shard[:80]!r}, which is not a "
                                           ".safetensors file beside the index", file=label))
            continue
        shard_path = path.parent / shard
        if not shard_path.is_file():
            findings.append(SHARDS.finding(f"{label} names shard {shard!r}, which is not in the bundle",
                                           file=label))
            continue
        facts = read_file(shard_path, label=folder + shard)
        files.append(folder + shard)
        size += facts.size
        findings.extend(facts.findings)
        metadata.extend((f"{shard}:{key}", value) for key, value in facts.metadata)
        for tensor in facts.tensors:
            tensors.append(tensor)
            named = weight_map.get(tensor.name)
            if named != shard:
                where = f"in {named!r}" if named else "nowhere"
                findings.append(SHARDS.finding(f"tensor {tensor.name!r} is stored in {shard!r} but the "
                                               f"index places it {where}", file=label))
    stored = {t.name for t in tensors}
    missing = sorted(name for name, shard in weight_map.items() if name not in stored
                     and _safe_shard(shard) and (path.parent / shard).is_file())
    if missing:
        findings.append(SHARDS.finding(f"{len(missing)} tensor(s) the index lists are in no shard, e.g. "
                                       f"{missing[0]!r}", file=label))
    total = (document.get("metadata") or {}).get("total_size") if isinstance(document.get("metadata"), dict) else None
    actual = sum(t.nbytes or 0 for t in tensors)
    if isinstance(total, int) and total != actual and not findings:
        findings.append(SHARDS.finding(f"{label} gives total_size {total:,} but the shards hold "
                                       f"{actual:,} bytes of tensors", file=label))
    return ModelFacts(format="safetensors", path=label, size=size, tensors=tuple(tensors),
                      metadata=tuple(metadata), findings=tuple(findings), files=tuple(files))
