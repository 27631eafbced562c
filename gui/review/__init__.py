"""Reviewing: the review panel, the gates checklist, the acting user's queue, the version's actions."""
