"""The Help menu's windows: rule reference, bundle format reference, keyboard shortcuts, problem report."""
