"""The frozen app's ``modelgate`` executable: the whole command line, ``modelgate gui`` included."""

import sys

from modelgate.core.formats.sandbox import serve_if_asked
from modelgate.core.cli.main import entry
from modelgate.gui.ops.processes import serve_if_asked as serve_bundles_if_asked

if __name__ == "__main__":
    # The bounded model process, and the desktop app's bundle worker processes when `modelgate
    # gui` runs, are this executable started again with a flag (it has no -c). Neither import
    # loads Qt.
    if not serve_if_asked(sys.argv) and not serve_bundles_if_asked(sys.argv):
        entry()
