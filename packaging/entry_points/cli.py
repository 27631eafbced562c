"""The frozen app's ``modelgate`` executable: the whole command line, ``modelgate gui`` included."""

import sys

from modelgate.core.formats.sandbox import serve_if_asked
from modelgate.core.cli.main import entry

if __name__ == "__main__":
    # The bounded model process is this executable started again with a flag (it has no -c).
    if not serve_if_asked(sys.argv):
        entry()
