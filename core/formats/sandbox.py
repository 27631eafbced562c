"""Model work that hostile input can turn into a bomb runs in a bounded child process.

onnx's checker, onnxruntime's session creation (which folds constants, so a
``ConstantOfShape`` of a constant shape allocates at load time) and the smoke
inference (a run-time shape or a ``Loop`` with a 2^62 trip count) can each take
any amount of memory or time a model asks for. They run here in one child
process, a fresh interpreter (never a ``fork``: the parent may hold threads, Qt
or database connections; and not multiprocessing's spawn, which re-imports the
caller's main module), reused for the next model while it stays healthy. Parent
and child speak length-prefixed JSON over the child's stdin and stdout, so
nothing the child sends is ever unpickled by the parent. Each job gets:

- a memory cap: on Linux and macOS the child lowers its soft ``RLIMIT_AS`` to its
  current address space plus the budget, so a large allocation fails inside
  onnxruntime instead of growing; a watchdog thread in the child also checks its
  resident size every few milliseconds and exits at once when it crosses the
  budget (macOS does not enforce ``RLIMIT_AS``). Windows has no ``resource``
  module: there the deadline applies and the memory is not capped;
- a wall-clock deadline that covers loading, session creation and inference;
  the parent kills the child when it passes, or when the user cancels.

On a breach the child is killed and :class:`LimitExceeded` says which limit
and how far the work got (loading / session creation / inference). The parent
only ever receives small results (messages, output dtypes and shapes), so its
own memory stays flat whatever the model does.
"""

from __future__ import annotations

import atexit
import os
import queue
import sys
import threading
import time
from dataclasses import dataclass

from modelgate.core import settings
from modelgate.core.errors import OperationCancelled
from modelgate.core.formats.sandbox_child import (_MEMORY_EXIT, INFERENCE, LOADING, SESSION,  # noqa: F401
                                                  _Channel, serve)

#: How often the parent looks at the pipe, the deadline and the cancel flag.
_POLL_S = 0.05
_GIB = 1024**3



@dataclass(frozen=True)
class Limits:
    """The memory budget (bytes above the child's idle footprint) and the wall-clock deadline."""

    memory_bytes: int
    deadline_s: float

    @classmethod
    def for_model(cls, *, model_bytes: int) -> Limits:
        """Limits from the settings, scaled by the size of the model and its external data:
        an honest model needs memory and time in proportion to its weights."""
        gib = model_bytes / _GIB
        memory = settings.get(settings.MODEL_MEMORY_MB) * 1024**2 + \
            settings.get(settings.MODEL_MEMORY_PER_MODEL_BYTE) * model_bytes
        deadline = settings.get(settings.SMOKE_TIMEOUT_S) + settings.get(settings.SMOKE_TIMEOUT_PER_GIB_S) * gib
        return cls(memory_bytes=int(memory), deadline_s=float(deadline))


class LimitExceeded(Exception):
    """The child crossed a limit and was stopped; ``limit`` is ``"memory"`` or ``"time"``."""

    def __init__(self, *, limit: str, stage: str, limits: Limits, elapsed: float) -> None:
        self.limit, self.stage, self.limits, self.elapsed = limit, stage, limits, elapsed
        if limit == "memory":
            text = (f"it needed more than the {limits.memory_bytes / 1024**2:,.0f} MiB memory limit "
                    f"during {stage} (MODELGATE_MODEL_MEMORY_MB)")
        else:
            text = (f"it did not finish within the {limits.deadline_s:.3g} s time limit; it was stopped "
                    f"during {stage} (MODELGATE_SMOKE_TIMEOUT_S)")
        super().__init__(text)
        self.message = text


class ModelFailure(Exception):
    """The work failed inside the child with an ordinary error (onnx or onnxruntime's message).

    ``stage`` says where; ``kind`` is the exception's class name; ``inputs`` describes the
    synthetic inputs of a failed inference.
    """

    def __init__(self, *, stage: str, kind: str, message: str, inputs: str = "") -> None:
        super().__init__(message)
        self.stage, self.kind, self.message, self.inputs = stage, kind, message, inputs


# ----------------------------------------------------------------------------- the child

# ----------------------------------------------------------------------------- the parent

#: The argument that makes a frozen (PyInstaller) executable serve as the model process.
FROZEN_FLAG = "--modelgate-model-process"


def _command() -> list[str]:
    if getattr(sys, "frozen", False):  # the app's own executable: it has no `-c`
        return [sys.executable, FROZEN_FLAG]
    return [sys.executable, "-c", "from modelgate.core.formats.sandbox_child import serve; serve()"]


def serve_if_asked(argv: list[str]) -> bool:
    """For frozen entry points: serve as the model process when started as one."""
    if argv[1:] == [FROZEN_FLAG]:
        serve()
        return True
    return False


class _Child:
    def __init__(self) -> None:
        import queue
        import subprocess

        self.process = subprocess.Popen(
            _command(),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.channel = _Channel(self.process.stdout, self.process.stdin)
        self.messages: queue.Queue = queue.Queue()
        self.ready = threading.Event()
        self.jobs = 0
        # A reader thread, because waiting on a pipe with a timeout is not portable.
        self.reader = threading.Thread(target=self._read, name="modelgate-model-reader", daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                message = self.channel.recv()
            except (EOFError, OSError, ValueError):
                self.ready.set()
                self.messages.put(None)
                return
            if message == ["ready", None]:
                self.ready.set()
            else:
                self.messages.put(message)

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.process.kill()
        try:
            self.process.wait(5)
        except Exception:  # a process that will not die within 5 s is left to the OS
            pass
        # The dead child's pipe reads as ended: let the reader thread finish with the stream
        # before it is closed under it (never leave it blocked in a read at interpreter exit).
        if self.reader is not threading.current_thread():
            self.reader.join(5)
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass


_lock = threading.Lock()
_child: _Child | None = None


def _take_child() -> _Child:
    global _child
    # macOS and others only know a peak resident size, which a reused child would carry over.
    reuse = sys.platform.startswith("linux")
    if _child is not None and (not _child.alive() or not reuse and _child.jobs):
        _child.kill()
        _child = None
    if _child is None:
        _child = _Child()
    return _child


def _drop_child() -> None:
    global _child
    if _child is not None:
        _child.kill()
        _child = None


def prewarm() -> None:
    """Start the model process now, so its imports overlap with the caller's other work
    (hashing, the manifest checks) instead of delaying the first model check. Never waits:
    when another validation holds the process, there is nothing to start."""
    if _lock.acquire(blocking=False):
        try:
            _take_child()
        finally:
            _lock.release()


def shutdown() -> None:
    """Stop the reusable child (it also dies with this process)."""
    with _lock:
        _drop_child()


def _shutdown_at_exit() -> None:
    # The reusable child and its reader thread end before the interpreter does: a daemon
    # thread still reading a pipe while the interpreter tears down its objects is not safe.
    # A job still running on another thread holds the lock: then only its process is killed.
    if _lock.acquire(timeout=5):
        try:
            _drop_child()
        finally:
            _lock.release()
    elif _child is not None and _child.alive():
        _child.process.kill()


atexit.register(_shutdown_at_exit)


#: Longest the model process may take to start (import onnx and onnxruntime) before a job.
_START_S = 300.0


def _wait_ready(child: _Child, progress) -> None:
    """Wait for the child's imports; they are the same for every model, so they do not count
    against a model's deadline (a loaded machine may take seconds)."""
    started = time.monotonic()
    while not child.ready.wait(_POLL_S):
        if progress is not None and progress.cancelled:
            _drop_child()
            raise OperationCancelled()
        if time.monotonic() - started > _START_S:
            _drop_child()
            raise ModelFailure(stage=LOADING, kind="start",
                               message=f"the model process did not start within {_START_S:g} s")


def run(job: str, path: str, *args, limits: Limits, progress=None):
    """Run ``job`` (``check``, ``session``, ``smoke`` or ``runtime``) on the model at ``path`` in the
    bounded child (which has its own working folder: the path is made absolute here).

    Returns the job's small result; raises :class:`LimitExceeded` on a breach,
    :class:`ModelFailure` when onnx or onnxruntime refused the model, and
    :class:`OperationCancelled` when ``progress`` was cancelled (the child is killed).
    """
    args = (os.path.abspath(path), *args)
    with _lock:  # one job at a time: the GUI's workers and the CLI share one child
        child = _take_child()
        child.jobs += 1
        _wait_ready(child, progress)
        started = time.monotonic()
        stage, inputs = LOADING, ""
        try:
            child.channel.send((job, limits.memory_bytes, list(args)))
        except OSError:
            _drop_child()
            child = _take_child()
            child.jobs += 1
            _wait_ready(child, progress)
            child.channel.send((job, limits.memory_bytes, list(args)))
        while True:
            elapsed = time.monotonic() - started
            if progress is not None and progress.cancelled:
                _drop_child()
                raise OperationCancelled()
            if elapsed > limits.deadline_s:
                _drop_child()
                raise LimitExceeded(limit="time", stage=stage, limits=limits, elapsed=elapsed)
            try:
                message = child.messages.get(timeout=_POLL_S)
            except queue.Empty:
                continue
            if message is None:  # the child died: the watchdog's exit, or the kernel's kill
                try:
                    code = child.process.wait(5)
                except Exception:
                    code = None
                _drop_child()
                # The watchdog's exit; the kernel's OOM kill; or an allocation failure that
                # onnxruntime could not turn into an error (std::bad_alloc ends in abort()).
                if code in (_MEMORY_EXIT, -9, -6):
                    raise LimitExceeded(limit="memory", stage=stage, limits=limits, elapsed=elapsed)
                how = f"signal {-code}" if code is not None and code < 0 else f"status {code}"
                raise ModelFailure(stage=stage, kind="crash",
                                   message=f"onnxruntime crashed (the model process ended with {how})")
            kind, payload = message
            if kind == "stage":
                stage = payload
            elif kind == "inputs":
                inputs = payload
            elif kind == "ok":
                return payload
            elif kind == "memory":
                # The allocator refused memory: the child is healthy but may be fragmented.
                _drop_child()
                raise LimitExceeded(limit="memory", stage=stage, limits=limits, elapsed=elapsed)
            else:
                name, text = payload
                raise ModelFailure(stage=stage, kind=name, message=text, inputs=inputs)
