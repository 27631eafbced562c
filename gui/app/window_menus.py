"""The main window's menus: what a desktop user expects to find, where they expect it.

The Version menu's workflow actions (promote, sign, roll back, compare, report) are
added after these by :class:`~modelgate.gui.review.version_actions.VersionActions`.
"""

from __future__ import annotations

from modelgate.gui.app.actions import ActionSpec
from modelgate.gui.dialogs.about import show_about
from modelgate.gui.help.format_reference import show_format_reference
from modelgate.gui.help.problem_report import report_problem
from modelgate.gui.help.rule_reference import show_rule_reference
from modelgate.gui.help.shortcuts import show_shortcuts
from modelgate.gui.inspector.inspector import TAB_TITLES


def window_menus(window) -> dict[str, list]:
    """{menu title: entries} for ``window`` (a MainWindow); None is a separator."""
    tabs = [ActionSpec(f"{title}", f"Ctrl+{n}", lambda n=n: window.inspector.tabs.setCurrentIndex(n - 1),
                       f"Show the {title} tab") for n, title in enumerate(TAB_TITLES, start=1)]
    return {
        "&File": [
            ActionSpec("&Open bundle…", "Ctrl+O", window.choose_bundle_folder,
                       "Open a bundle folder that is not in a registry"),
            ActionSpec("Open bundle &archive…", "Ctrl+Alt+O", window.choose_bundle_archive,
                       "Open a .zip, .tar or .tar.gz bundle"),
            ActionSpec("Open &registry…", "Ctrl+Shift+O", window.choose_registry,
                       "Browse another registry (a SQLite file or a PostgreSQL URL)"),
            ActionSpec("&Import bundle into the registry…", "Ctrl+I", window.choose_bundle_to_import,
                       "Copy a bundle folder into the registry's store as a draft (submitters)"),
            ActionSpec("Import from an O&CI registry or layout…", None, window.choose_oci_import,
                       "Fetch a ModelPack artifact, verify every digest, then import it as a draft"),
            None,
            ActionSpec("&Settings…", "Ctrl+,", window.edit_settings,
                       "Registry, acting user, trust store, policy and theme"),
            None,
            ActionSpec("&Quit", "Ctrl+Q", window.close, "Close ModelGate"),
        ],
        "&View": [
            ActionSpec("&Refresh", "F5", window.refresh,
                       "Reload the registry listing and check the shown version again"),
            ActionSpec("&Find", "Ctrl+F", window.registry_panel.focus_filter,
                       "Filter the registry by name, tag or owner"),
            ActionSpec("Re-run &validation", "Ctrl+R", window.inspector.rerun_validation,
                       "Run every check again on the shown bundle"),
            ActionSpec("&Cancel running work", "Esc", window.progress.cancel_current,
                       "Stop the operation shown in the status bar"),
            None, *tabs,
        ],
        "V&ersion": [ActionSpec("&My queue", "Ctrl+Shift+Q", lambda: window.sidebar.choose("queue"),
                                "The versions waiting for you"),
                     ActionSpec("Re&gistry", "Ctrl+Shift+R", lambda: window.sidebar.choose("registry"),
                                "Every version in the registry"),
                     ActionSpec("&Audit log", "Ctrl+Shift+L", lambda: window.sidebar.choose("audit"),
                                "The registry's event log and Verify chain"),
                     None],
        "&Help": [ActionSpec("&Rule reference", "F1",
                             lambda: show_rule_reference(parent=window, workers=window.workers),
                             "Every rule: why it matters and how to fix it (as `modelgate explain`)"),
                  ActionSpec("&Bundle format reference", None, lambda: show_format_reference(parent=window),
                             "The bundle standard: layout, manifest keys, digests, model card, benchmarks"),
                  ActionSpec("&Keyboard shortcuts", "Ctrl+/", lambda: show_shortcuts(window=window),
                             "Every shortcut of this window, by menu"),
                  None,
                  ActionSpec("Report a &problem…", None, lambda: report_problem(window=window),
                             "Write a prefilled report to a text file on this computer and open it; nothing "
                             "is sent"),
                  None,
                  ActionSpec("&About ModelGate", None, lambda: show_about(parent=window),
                             "Version and credits")],
    }
