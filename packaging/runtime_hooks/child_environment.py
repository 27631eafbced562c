"""Runs first in the frozen app: programs it starts get the user's library path, not the app's.

On Linux the bootloader points LD_LIBRARY_PATH at the app folder so the bundled libraries are
found, and remembers the user's own value in LD_LIBRARY_PATH_ORIG. The app's own process has
loaded its libraries by then; what it starts later (xdg-open and the web browser, for a
graph or a link) must not load the app's copies of libc++, NSS or X11 in place of their own.
"""

import os
import sys


def _restore_library_path() -> None:
    original = os.environ.pop("LD_LIBRARY_PATH_ORIG", None)
    if original is not None:
        os.environ["LD_LIBRARY_PATH"] = original
    elif os.environ.get("LD_LIBRARY_PATH") == getattr(sys, "_MEIPASS", None):
        del os.environ["LD_LIBRARY_PATH"]


_restore_library_path()
