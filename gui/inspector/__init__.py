"""The inspector: one tab per module, each showing one aspect of the selected version."""
