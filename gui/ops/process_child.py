"""A bundle worker process's own side: its loop and the jobs it runs (see :mod:`.processes` for
the parent, which starts it, streams its progress to the window and kills it on Cancel).

The child is a fresh interpreter that never imports Qt. It imports the heavy parts of the core
(onnx, the validation engine) once, when it starts, and matplotlib on a thread while it waits
for its first job, so that the app's own process never does: it gathers and validates bundles, compares stored
versions, writes reports and draws the charts the window shows as pictures.
Parent and child speak length-prefixed pickles over the child's stdin and stdout: the results
are the inspector's facts and reports, rich objects that JSON cannot carry. Both ends are this
program; the bundle's bytes only ever reach the parent as the core's own dataclasses.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
import time

#: Least time between two progress messages, in seconds: the window redraws no faster.
PROGRESS_INTERVAL_S = 0.05
#: How much lower than the app's the worker's CPU priority is (POSIX nice increment).
NICENESS = 5


class Channel:
    """Length-prefixed pickles over two binary streams."""

    def __init__(self, reader, writer) -> None:
        self.reader, self.writer = reader, writer

    def send(self, message) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        self.writer.write(len(data).to_bytes(8, "big") + data)
        self.writer.flush()

    def recv(self):
        head = self.reader.read(8)
        if len(head) < 8:
            raise EOFError
        size = int.from_bytes(head, "big")
        data = self.reader.read(size)
        if len(data) < size:
            raise EOFError
        return pickle.loads(data)


def _gather(*, path, policy, champion, progress):
    """The inspector's facts about one bundle, judged by ``policy`` (a Policy, a file, or None)."""
    from modelgate.core.checks.catalog import check_rule_ids
    from modelgate.core.policy.document import Policy, load_policy
    from modelgate.gui.inspector import facts

    judged_by = policy
    if not isinstance(policy, Policy):
        judged_by = load_policy(policy)
        check_rule_ids(judged_by)
    return judged_by, facts.gather(path=path, policy=judged_by, champion=champion, progress=progress)


def _validate(*, subject, stage, progress):
    """The validation report of the shown bundle for ``stage``."""
    from modelgate.gui.inspector import facts

    return facts.validate(subject=subject, stage=stage, progress=progress)


def _report(*, url, user, name, version, path, format, progress):
    """Write the auditor report of ``name@version`` as ``modelgate report`` does, from a registry
    this process opens itself (the app's connection belongs to its registry thread)."""
    from modelgate.core.evidence import collect, write_report
    from modelgate.core.registry import open_registry

    registry = open_registry(url=url, user=user, housekeeping=False)
    try:
        pack = collect(registry, name=name, version=version, progress=progress)
        progress.start(label=f"writing the {format.upper()} file", total=0)
        size = write_report(pack, path=path, format=format)
        return {"size": size, "chain_verdict": pack.chain.verdict, "chain_ok": pack.chain.ok,
                "stored_problem": pack.stored.problem}
    finally:
        registry.close()


def _compare(*, plan, progress):
    """Compare two stored versions as planned (a :class:`~modelgate.gui.ops.compare.PortablePlan`)."""
    from modelgate.gui.ops.compare import run_here

    return run_here(plan, progress=progress)


def _chart(*, kind, content, colours, width, height, ratio, progress):
    """Draw the chart ``kind`` of ``content`` at ``width`` x ``height`` pixels times ``ratio``:
    a :class:`~modelgate.core.benchmarks.picture.Picture` (PNG and hover map)."""
    from modelgate.core.benchmarks import picture

    return picture.render(kind=kind, content=content, colours=colours, width=width, height=height, ratio=ratio)


#: The registry this process keeps open for the window's read-only registry jobs, by the app's
#: connection to it (``opened``: one token per time the app opened a registry, so a registry
#: reopened at the same address is read afresh): opening one costs more than judging a page of
#: versions, and the listing asks page after page.
_OPEN_REGISTRY: dict = {}


def _registry(url, user, opened):
    registry = _OPEN_REGISTRY.get(opened)
    if registry is None:
        for other in _OPEN_REGISTRY.values():   # the app opened another registry since
            other.close()
        _OPEN_REGISTRY.clear()
        from modelgate.core.registry import open_registry

        # No housekeeping: the app opened this registry and owns its incoming area, where its
        # own working copies may be.
        registry = _OPEN_REGISTRY[opened] = open_registry(url=url, user=user, housekeeping=False)
    return registry


def _standings(*, url, user, opened, refs, policy, progress):
    """Where each listed ``(name, version)`` of ``refs`` stands for its next stage under ``policy``."""
    from modelgate.core.registry.standing import standings

    return standings(_registry(url, user, opened), refs=refs, policy=policy)


def _queue(*, url, user, opened, progress):
    """``user``'s work queue under the policy in force (every version's stage, approvals and
    gates are read: seconds of interpreter time on a large registry)."""
    from modelgate.core.registry.queue import work_queue

    return work_queue(_registry(url, user, opened))


#: The jobs a worker process runs, by name: only these, never a function sent by reference.
JOBS = {"gather": _gather, "validate": _validate, "report": _report, "compare": _compare, "chart": _chart,
        "standings": _standings, "queue": _queue}


def _progress(channel: Channel):
    from modelgate.core.progress import Progress

    last = [0.0, None]

    def report(label: str, done: int, total: int) -> None:
        now = time.monotonic()
        if label != last[1] or done >= total or now - last[0] >= PROGRESS_INTERVAL_S:
            last[0], last[1] = now, label
            channel.send(("progress", label, done, total))
    return Progress(callback=report)


def _portable(error: BaseException) -> BaseException:
    """``error`` if the parent can rebuild it from a pickle, else the user-facing sense of it."""
    from modelgate.core.errors import ModelGateError

    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        message = getattr(error, "message", None) or f"{error.__class__.__name__}: {error}"
        return ModelGateError(str(message), hint=getattr(error, "hint", None))


def _preload() -> None:
    """Import what validating a bundle and drawing a chart need (a second or two), so that the
    first ones a reviewer asks for do not wait for it."""
    import onnx  # noqa: F401

    import modelgate.core.checks.engine  # noqa: F401
    import modelgate.gui.inspector.facts  # noqa: F401
    import matplotlib.backends.backend_agg  # noqa: F401
    import matplotlib.figure  # noqa: F401
    import matplotlib.image  # noqa: F401


def serve() -> None:
    """The child's loop: one job at a time until the parent closes the pipe."""
    # Our messages keep the real stdout; anything a library prints goes to stderr instead.
    channel = Channel(sys.stdin.buffer, os.fdopen(os.dup(1), "wb"))
    os.dup2(2, 1)
    if hasattr(os, "nice"):
        # On a busy machine the window's own process gets the cores first: a validation may
        # take a little longer, the window never waits for one.
        os.nice(NICENESS)
    # The parent says first whether this process starts with the app (it then loads the heavy
    # libraries while the user looks around) or for one more job (it imports what its jobs
    # need, when they need it: a registry read needs neither onnx nor matplotlib).
    _, preload = channel.recv()
    channel.send(("ready", os.getpid()))
    if preload:
        # On a thread: a job that arrives meanwhile need not wait for all of it.
        threading.Thread(target=_preload, name="modelgate-preload", daemon=True).start()
    while True:
        try:
            job, arguments = channel.recv()
        except EOFError:
            return
        try:
            result = ("ok", JOBS[job](**arguments, progress=_progress(channel)))
        except BaseException as error:  # every failure goes back to the window, never lost here
            result = ("error", _portable(error))
        try:
            channel.send(result)
        except (pickle.PicklingError, TypeError, AttributeError) as error:
            channel.send(("error", _portable(error)))
