"""Comparing two bundles: their findings, their declared interfaces and targets (graphs: the format's own diff)."""
