"""Data files: the bundle JSON Schema and spec, the default policy, templates."""
