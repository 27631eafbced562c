"""The frozen app's ``modelgate-gui`` executable: the desktop app (a windowed program on Windows and macOS)."""

import sys

from modelgate.core.formats.sandbox import serve_if_asked
from modelgate.core.cli.main import gui_entry as entry
from modelgate.gui.ops.processes import serve_if_asked as serve_bundles_if_asked

if __name__ == "__main__":
    # The bounded model process and the bundle worker processes are this executable started
    # again with a flag (it has no -c).
    if not serve_if_asked(sys.argv) and not serve_bundles_if_asked(sys.argv):
        entry()
