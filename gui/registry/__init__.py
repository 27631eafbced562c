"""The registry listing: its table model and panel."""
