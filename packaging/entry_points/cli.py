"""The frozen app's ``modelgate`` executable: the whole command line, ``modelgate gui`` included."""

from modelgate.core.cli.main import entry

if __name__ == "__main__":
    entry()
