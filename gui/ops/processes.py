"""Bundle work in worker processes: the app's own process never reads, hashes or validates a bundle.

Opening a bundle, hashing it, loading its ONNX graphs and validating it import onnx and the
validation engine and hold the GIL for long stretches inside C extensions; in the window's
process that froze the event loop for a second at a time. :class:`ProcessPool` keeps a few
fresh interpreters (never a ``fork`` of the app: it holds Qt and threads; and not
multiprocessing's spawn, which re-imports the caller's main module), started when the app
starts, each running one job at a time (see :mod:`.process_child`).

:meth:`ProcessPool.run` is called on a bundle-pool thread, from inside a
:class:`~modelgate.gui.ops.background.BackgroundOperation`'s work: it hands the job to an idle
child, forwards the child's progress to the operation's :class:`Progress`, and returns the
result or raises the child's error. When the operation is cancelled it kills the child at
once (a validation stuck in a C extension never looks at a cancel flag) and raises
:class:`OperationCancelled`; a fresh child takes the dead one's place for the next job.
"""

from __future__ import annotations

import atexit
import queue
import subprocess
import sys
import threading

from modelgate.core.errors import ModelGateError, OperationCancelled
from modelgate.gui.ops.process_child import Channel

#: How often a waiting job looks at its cancel flag, in seconds.
POLL_S = 0.05
#: The argument that makes a frozen (PyInstaller) executable serve as a bundle worker process.
FROZEN_FLAG = "--modelgate-bundle-process"


class WorkerProcessFailed(ModelGateError):
    """A worker process ended in the middle of a job (killed from outside, out of memory, a crash)."""


def _command() -> list[str]:
    if getattr(sys, "frozen", False):  # the app's own executable: it has no `-c`
        return [sys.executable, FROZEN_FLAG]
    return [sys.executable, "-c", "from modelgate.gui.ops.process_child import serve; serve()"]


def serve_if_asked(argv: list[str]) -> bool:
    """For frozen entry points: serve as a bundle worker process when started as one."""
    if argv[1:] == [FROZEN_FLAG]:
        from modelgate.gui.ops.process_child import serve

        serve()
        return True
    return False


class _Child:
    """One worker process, and a thread that reads its messages (a pipe has no portable timeout)."""

    def __init__(self, *, preload: bool) -> None:
        self.process = subprocess.Popen(_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.channel = Channel(self.process.stdout, self.process.stdin)
        self.channel.send(("start", preload))
        self.messages: queue.Queue = queue.Queue()
        self.reader = threading.Thread(target=self._read, name="modelgate-process-reader", daemon=True)
        self.reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self) -> None:
        while True:
            try:
                message = self.channel.recv()
            except Exception:  # the pipe ended or broke: the child is gone
                self.messages.put(None)
                return
            self.messages.put(message)

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.process.kill()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:  # a process that will not die within 5 s is left to the OS
            pass
        if self.reader is not threading.current_thread():
            self.reader.join(5)
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass


class ProcessPool:
    """A few warm worker processes; :meth:`run` a job on one, :meth:`shutdown` when the app closes."""

    def __init__(self, *, size: int = 2, warm: int = 1) -> None:
        self._size = size
        self._idle: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._children: set[_Child] = set()
        self._closed = False
        #: Process ids of the children running a job now, with the job's name.
        self.busy: dict[int, str] = {}
        # One child starts with the app (its imports overlap the user's first look); more only
        # when jobs overlap, so that a 2-core machine spends launch on the window, not on imports.
        for _ in range(min(warm, size)):
            self._idle.put(self._start(preload=True))
        atexit.register(self.shutdown)

    def _start(self, *, preload: bool = False) -> _Child:
        """A new worker process; ``preload`` for those started with the app (see :func:`.process_child.serve`)."""
        child = _Child(preload=preload)
        with self._lock:
            self._children.add(child)
        return child

    def _retire(self, child: _Child) -> None:
        child.kill()
        with self._lock:
            self._children.discard(child)

    def _take(self, progress) -> _Child:
        while True:
            if progress.cancelled:
                raise OperationCancelled()
            try:
                child = self._idle.get_nowait()
            except queue.Empty:
                with self._lock:
                    grow = len(self._children) < self._size
                if grow:
                    return self._start()
                try:
                    child = self._idle.get(timeout=POLL_S)
                except queue.Empty:
                    continue
            if child.alive():
                return child
            self._retire(child)
            return self._start()

    def run(self, job: str, *, progress, **arguments):
        """Run ``job`` (a name in :data:`.process_child.JOBS`) with ``arguments`` on a worker process,
        forwarding its progress to ``progress``; blocks until it ends (call it on a worker thread)."""
        if self._closed:
            raise OperationCancelled("the app is closing")
        child = self._take(progress)
        self.busy[child.pid] = job
        try:
            result = self._converse(child, job, arguments, progress)
        except BaseException:
            self.busy.pop(child.pid, None)
            self._retire(child)       # killed mid-job, or its pipe broke: never reused; the next
            raise                     # job starts a fresh one
        self.busy.pop(child.pid, None)
        self._idle.put(child)
        return result

    def _converse(self, child: _Child, job: str, arguments: dict, progress):
        try:
            child.channel.send((job, arguments))
        except OSError as error:
            raise WorkerProcessFailed("the bundle worker process is not running",
                                      hint="Try again; a fresh worker process has been started.") from error
        while True:
            try:
                message = child.messages.get(timeout=POLL_S)
            except queue.Empty:
                progress.check()      # Cancel kills the child (in run), whatever it is doing
                continue
            if message is None:
                code = child.process.wait()
                raise WorkerProcessFailed(f"the bundle worker process stopped unexpectedly (exit status {code})",
                                          hint="It may have run out of memory; try again, or validate the "
                                               "bundle with `modelgate validate` to see its own message.")
            kind = message[0]
            if kind == "ready":
                continue
            if kind == "progress":
                _forward(progress, *message[1:])
            elif kind == "ok":
                return message[1]
            else:
                raise message[1]

    def shutdown(self) -> None:
        """Stop every worker process, busy or not (the app is closing)."""
        self._closed = True
        with self._lock:
            children = list(self._children)
            self._children.clear()
        for child in children:
            child.kill()


def _forward(progress, label: str, done: int, total: int) -> None:
    """Mirror a child's progress on the parent's Progress (which the window draws)."""
    if label != progress.label or total != progress.total or done < progress.done:
        progress.start(label=label, total=total)
    if done > progress.done:
        progress.advance(done - progress.done)
