"""Bundles: opening folders and archives, the manifest and its schema, digests, lock, model card, init."""
