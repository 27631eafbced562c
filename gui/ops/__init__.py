"""The GUI's doors to the core: the background builder, the worker threads, the registry connection."""
