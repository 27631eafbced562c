"""The GUI's doors to the core: the background builder, the worker threads and processes, and one module per
registry domain (the connection and listing in :mod:`.registry`, review, promotion and rollback
in :mod:`.workflow`, :mod:`.signing`, :mod:`.compare`, :mod:`.audit`). Nothing else in the app
imports the registry; an import-linter contract in pyproject.toml holds it to that."""
