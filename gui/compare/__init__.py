"""Champion/challenger comparison in the desktop app: two versions side by side, what changed.

- :func:`open_compare` asks which two versions to compare (a dialog with sensible defaults),
  then opens them in a :class:`CompareWindow`;
- :func:`show_comparison` opens a :class:`CompareWindow` on two versions straight away;
- :func:`modelgate.gui.compare.screenshot.grab_comparison` renders one to a PNG file.
"""

from __future__ import annotations

from modelgate.gui.compare.compare_view import CompareView
from modelgate.gui.compare.compare_window import CompareWindow, show_comparison

__all__ = ["CompareView", "CompareWindow", "open_compare", "show_comparison"]


def open_compare(*, parent, connection, workers, progress_panel, challenger: tuple[str, str] | None = None,
                 champion: tuple[str, str] | None = None):
    """Show the dialog that chooses the two versions and return it (it is window-modal and returns
    at once). ``challenger`` defaults the B side (typically the selected version) and ``champion``
    the A side (default: the production version of B's model). Accepting opens a
    :class:`CompareWindow`, kept as the dialog's ``compare_window`` and announced by its
    ``compare_opened`` signal."""
    from modelgate.gui.dialogs.compare_dialog import CompareDialog

    dialog = CompareDialog(connection=connection, workers=workers, progress_panel=progress_panel,
                           challenger=challenger, champion=champion, parent=parent)
    dialog.open()
    return dialog
