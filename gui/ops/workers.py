"""The app's background threads.

Every registry call runs on one thread, in the order asked, so the database sees one
conversation at a time whatever the user clicks (each core call opens and closes its
own session). The listing's pages and counts alone run on a thread of their own, read-only,
so that a key typed in the filter never waits behind a work queue or a promotion. Heavy
work (opening archives, hashing, loading ONNX, validating, comparing, drawing charts, and
the registry reads that judge many versions: the queue, the listing's standings) runs on
a small pool beside them, so it never holds up the registry listing; each of its threads
hands the work to a worker process (:mod:`.processes`) and waits, so the window's
interpreter stays free.
Work reaches them through :class:`~modelgate.gui.ops.background.BackgroundOperation` only,
whose docstring says which thread owns what.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from modelgate.gui.ops.processes import ProcessPool


class Workers:
    """The registry thread, the bundle pool and its worker processes; :meth:`shutdown` when the app closes."""

    # Three: a long job (validating a large bundle, reading the queue of a large registry) and
    # the inspector's own may run while a page's standings or a chart still gets a process.
    def __init__(self, *, bundle_threads: int = 3) -> None:
        self.registry = ThreadPoolExecutor(max_workers=1, thread_name_prefix="modelgate-registry")
        self.listing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="modelgate-listing")
        self.bundles = ThreadPoolExecutor(max_workers=bundle_threads, thread_name_prefix="modelgate-bundle")
        self.processes = ProcessPool(size=bundle_threads)

    def shutdown(self, *, wait: bool = True) -> None:
        """Drop queued work and, with ``wait``, let running work finish (the worker processes are
        stopped first: work waiting on one ends at once)."""
        self.processes.shutdown()
        for executor in (self.listing, self.registry, self.bundles):
            executor.shutdown(wait=wait, cancel_futures=True)
