"""The audit view: the registry's event log, its filters and the chain banner."""
