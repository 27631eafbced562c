"""The governance policy: its document, licence expressions against it, lifecycle stages."""
