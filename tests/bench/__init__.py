"""Benchmarks: ``python -m tests.bench [NAME ...] [--size-mib N]`` (``make bench``).

These are not unit tests and pytest does not collect them. Each benchmark
module in this package exposes ``NAME``, ``DESCRIPTION`` and
``run(args) -> list[Result]`` (see :mod:`tests.bench.common`) and is listed in
``BENCHMARKS`` in :mod:`tests.bench.__main__`.
"""
