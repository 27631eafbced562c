"""Removing folders that hold read-only files (the bundle store makes its copies read-only)."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path


def remove_tree(path: Path, *, ignore_errors: bool = False) -> None:
    """``shutil.rmtree`` that first makes a read-only folder writable when a removal fails."""

    def retry(function, failed_path, _exc_info):
        parent = os.path.dirname(failed_path)
        try:
            os.chmod(parent, os.stat(parent).st_mode | stat.S_IWUSR | stat.S_IXUSR)
            if os.path.isdir(failed_path) and not os.path.islink(failed_path):
                os.chmod(failed_path, os.stat(failed_path).st_mode | stat.S_IWUSR | stat.S_IXUSR)
            function(failed_path)
        except OSError:
            if not ignore_errors:
                raise

    shutil.rmtree(path, onerror=retry)
