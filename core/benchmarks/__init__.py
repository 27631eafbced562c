"""Benchmark results: reading them, the rows charts draw, champion/challenger regression, charts."""
