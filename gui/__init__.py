"""The ModelGate desktop app (PySide6): the registry on the left, the inspector on the right.

It uses the core only through the functions the command line calls, runs every long
task off the UI thread (see :mod:`.operations`), and shows every error the core raises
in one dialog (:mod:`.dialogs.error`). Importing this package imports nothing heavy.
"""
