"""PyTorch and pickle checkpoints (.pt .pth .bin .ckpt .pkl, joblib): scanned, never unpickled."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path

from modelgate.core.formats.interface import (FormatError, ModelFacts, RuntimeUnavailable, Starter, TensorInfo,
                                              read_head, single_file)
from modelgate.core.formats.pickle.imports import ALLOWED, STORAGE_DTYPES, is_unsafe
from modelgate.core.formats.pickle.scan import MAX_MEMBERS, Scan, form_of, scan_file, too_many_members
from modelgate.core.formats.rules import PICKLE_LIMIT, UNLISTED_IMPORT, UNSAFE_IMPORT


def _tensors(scan: Scan) -> tuple[TensorInfo, ...]:
    """One entry per storage ``data.pkl`` names: its key, element type, length and bytes."""
    found, seen = [], set()
    for key, kind, numel in scan.walk.storages:
        if key in seen:
            continue
        seen.add(key)
        dtype, width = STORAGE_DTYPES.get(kind, (kind, None))
        nbytes = scan.storage_sizes.get(key)
        if numel is None and nbytes is not None and width:
            numel = nbytes // width
        found.append(TensorInfo(f"storage {key}", dtype, (numel,) if numel is not None else ("?",), nbytes))
    return tuple(found)


def _findings(scan: Scan, label: str) -> list:
    findings, reported = [], set()
    dangerous = set(scan.scanner_dangerous)
    for name in dict.fromkeys(scan.walk.imports):
        if name in ALLOWED:
            continue
        reported.add(name)
        if name in dangerous or is_unsafe(name):
            findings.append(UNSAFE_IMPORT.finding(f"{label} imports {name}: loading the file would run it",
                                                  file=label))
        else:
            findings.append(UNLISTED_IMPORT.finding(
                f"{label} imports {name}, which is not a tensor-rebuild callable", file=label))
    for name in sorted(dangerous - reported):  # picklescan condemns a callable our allow-list lets through
        findings.append(UNSAFE_IMPORT.finding(f"{label} imports {name} (found by picklescan): loading the "
                                              "file would run it", file=label))
    findings.extend(PICKLE_LIMIT.finding(f"{label}: {text}", file=label) for text in scan.limits)
    return findings


class PickleFormat:
    """Python pickles and the archives torch.save wraps them in. Loading one runs code."""

    names = ("pytorch",)
    title = "PyTorch / pickle"
    suffixes = (".pt", ".pth", ".bin", ".ckpt", ".pkl", ".pickle", ".joblib")
    runtimes = ("transformers",)
    executes_code = True
    onnx_checks = False

    def detect(self, *, head: bytes, path: Path) -> bool:
        """A pickle stream (compressed or not), a zip holding a .pkl member, or a legacy torch.save tar."""
        form = form_of(head, path)
        if form != "zip":
            return form is not None
        if too_many_members(path) is not None:  # never listed: claimed by name, refused by read()
            return path.suffix.lower() in self.suffixes
        try:
            with zipfile.ZipFile(path) as archive:
                return any(name.endswith(".pkl") for name in archive.namelist()[:MAX_MEMBERS])
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return False

    def read(self, *, path: Path, label: str) -> ModelFacts:
        """Every pickle stream in the file, walked opcode by opcode; picklescan judges its imports."""
        form = form_of(read_head(path), path)
        if form is None:
            raise FormatError(f"{label} is neither a pickle nor a torch.save archive")
        try:
            scan = scan_file(path, form=form)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, tarfile.TarError, EOFError, ValueError) as error:
            raise FormatError(f"{label}: the {form} archive cannot be read ({error.__class__.__name__}: "
                              f"{' '.join(str(error).split())[:160]})") from None
        metadata = [("form", form), ("pickle protocol", str(scan.walk.protocol)),
                    ("pickle streams", ", ".join(scan.streams)[:300] or "none")]
        if scan.walk.arrays:
            metadata.append(("joblib arrays", f"{scan.walk.arrays:,} stepped over, not read"))
        return ModelFacts(format="pytorch", path=label, size=path.stat().st_size, tensors=_tensors(scan),
                          metadata=tuple(metadata), imports=tuple(dict.fromkeys(scan.walk.imports)),
                          findings=tuple(_findings(scan, label)))

    def companions(self, *, path: Path) -> tuple[str, ...]:
        """The artifact is this one file."""
        return single_file(path=path)

    def cross_check(self, *, facts: ModelFacts, manifest):
        """A pickle carries no metadata of its own to compare."""
        return iter(())

    def starter(self, *, path: Path, facts: ModelFacts) -> Starter:
        """The dominant storage type names the variant."""
        dtype = facts.dtypes[0] if facts.dtypes else None
        return Starter(variant={"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}.get(dtype or ""))

    def runtime_check(self, *, path: Path) -> str | None:
        """Never: loading a pickle to test it would run whatever it carries."""
        raise RuntimeUnavailable("a pickle is never loaded: loading it would run the code it carries")


FORMAT = PickleFormat()
