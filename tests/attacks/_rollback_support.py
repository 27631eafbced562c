"""A private copy of the demo workspace per test, the command line in-process, and a snapshot
of everything a refused attack must leave unchanged."""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

from modelgate.core.cli.main import main
from modelgate.core.demo.registry import ADMIN

@dataclass
class Workspace:
    """A private copy of the demo workspace and its registry."""

    root: Path

    @property
    def url(self) -> str:
        return f"sqlite:///{self.root / 'registry.db'}"

    @property
    def store(self) -> Path:
        return self.root / "registry.store"

    def bundle(self, name: str, version: str) -> Path:
        return self.root / "bundles" / f"{name}-{version}"

    def run(self, capsys, *argv: str, user: str = ADMIN) -> tuple[int, str, str]:
        """Run ``modelgate ARGV`` as ``user``; ``(exit code, stdout, stderr)``."""
        capsys.readouterr()
        code = main([*argv, "--registry", self.url, "--user", user])
        out, err = capsys.readouterr()
        return code, out, err

    def sql(self, statement: str, **params) -> list:
        engine = create_engine(self.url)
        try:
            with engine.begin() as connection:
                result = connection.execute(text(statement), params)
                return result.all() if result.returns_rows else []
        finally:
            engine.dispose()

    def stored_folder(self, name: str, version: str) -> Path:
        (relative,) = self.sql("SELECT v.store_path FROM versions v JOIN models m ON m.id = v.model_id "
                               "WHERE m.name = :n AND v.version = :v", n=name, v=version)[0]
        return self.store.joinpath(*relative.split("/"))

    def snapshot(self) -> dict:
        """Stages, stage changes, signatures, validation runs, reviews, damage marks and audit
        events, to compare."""
        return {
            "stages": self.sql("SELECT m.name, v.version, v.stage FROM versions v "
                               "JOIN models m ON m.id = v.model_id ORDER BY m.name, v.version"),
            "promotions": self.sql("SELECT version_id, from_stage, to_stage, kind FROM promotions ORDER BY id"),
            "signatures": self.sql("SELECT version_id, key_fingerprint FROM signatures ORDER BY id"),
            "validation_runs": self.sql("SELECT version_id, stage, passed FROM validation_runs ORDER BY id"),
            "reviews": self.sql("SELECT version_id, reviewer, decision FROM reviews ORDER BY id"),
            "damage": self.sql("SELECT version_id, digest FROM store_damage ORDER BY id"),
            "events": self.sql("SELECT seq, action, subject FROM audit_events ORDER BY seq"),
        }

    def events_since(self, before: dict) -> list:
        """The audit events written after ``before`` was taken, as ``(seq, action, subject)``."""
        return self.snapshot()["events"][len(before["events"]):]

    def payload(self, seq: int) -> dict:
        import json

        (row,) = self.sql("SELECT payload FROM audit_events WHERE seq = :s", s=seq)
        return json.loads(row[0])


def demo_copy(source: Path, tmp_path: Path) -> Workspace:
    """A private copy under ``tmp_path`` of the demo workspace ``source`` (the session's
    ``demo_workspace``, built once and never changed)."""
    target = tmp_path / "demo"
    shutil.copytree(source, target, symlinks=True)
    return Workspace(target)


def writable(path: Path) -> None:
    """Let a test tamper with a read-only stored file (and its folder)."""
    for item in (path.parent, path) if path.exists() else (path.parent,):
        os.chmod(item, os.stat(item).st_mode | stat.S_IWUSR)


def flip_byte(path: Path, *, offset: int = -1) -> None:
    """Change one byte of ``path`` (the last by default), as a disk fault would."""
    writable(path)
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def model_file(folder: Path) -> Path:
    """The first ONNX model file of a stored bundle folder."""
    return sorted((folder / "model").rglob("*.onnx"))[0]


def eve_fingerprint(workspace: Workspace) -> str:
    (fingerprint,) = workspace.sql("SELECT fingerprint FROM trusted_keys WHERE name = 'eve'")[0]
    return fingerprint


def gate_line(out: str, name: str) -> str:
    """The line of gate ``name`` in a printed gate list ("  ✘ signature    reason")."""
    return next(line for line in out.splitlines()
                if line.startswith("  ") and line.strip()[1:].strip().startswith(name + " "))
