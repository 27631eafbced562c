"""The frozen app's ``modelgate-gui`` executable: the desktop app (a windowed program on Windows and macOS)."""

from modelgate.gui.launch import entry

if __name__ == "__main__":
    entry()
