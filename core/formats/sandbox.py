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
import json
import os
import queue
import sys
import threading
import time
from dataclasses import dataclass

from modelgate.core import settings
from modelgate.core.errors import OperationCancelled

#: Exit status of a child whose watchdog saw its resident memory cross the budget.
_MEMORY_EXIT = 86
#: How often the parent looks at the pipe, the deadline and the cancel flag.
_POLL_S = 0.05
_GIB = 1024**3

LOADING = "loading"
SESSION = "session creation"
INFERENCE = "inference"


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

def _resident_bytes() -> int:
    """The child's current resident size (Linux), or its peak where that is all there is."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def _address_space() -> int | None:
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return None


class _Guard:
    """The child's own memory cap for one job: RLIMIT_AS plus a resident-size watchdog."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.stop = threading.Event()
        self.saved = None

    def __enter__(self) -> _Guard:
        try:
            import resource
        except ImportError:  # Windows: no rlimits; the parent's deadline still applies
            return self
        baseline = _resident_bytes()
        space = _address_space()
        if space is not None:
            self.saved = resource.getrlimit(resource.RLIMIT_AS)
            hard = self.saved[1]
            soft = space + self.budget if hard == resource.RLIM_INFINITY else min(space + self.budget, hard)
            # The soft limit only, so the next job can set its own.
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        threading.Thread(target=self._watch, args=(baseline + self.budget,), daemon=True).start()
        return self

    def _watch(self, ceiling: int) -> None:
        while not self.stop.wait(0.01):
            if _resident_bytes() > ceiling:
                os._exit(_MEMORY_EXIT)

    def __exit__(self, *exc) -> None:
        self.stop.set()
        if self.saved is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, self.saved)


def _job_check(conn, path: str) -> None:
    import onnx

    from modelgate.core.formats.onnx.load import in_function_body

    conn.send(("stage", LOADING))
    try:
        onnx.checker.check_model(path, full_check=True)
    except onnx.shape_inference.InferenceError as error:
        # onnx expands a standard operator into its function body to infer shapes; an error
        # inside that body is the onnx library's, not the model's. The model is still checked.
        if not in_function_body(str(error)):
            raise
        onnx.checker.check_model(path, full_check=False)


def _job_session(conn, path: str):
    from modelgate.core.formats.onnx.load import open_session

    conn.send(("stage", SESSION))
    return open_session(path)


def _job_smoke(conn, path: str, declared: list, values: dict, sample: dict | None = None) -> dict:
    """Inputs are synthesised (or read from a sample set) here, not in the parent: a declared
    64M-element input must not be built (or pickled) in the parent's memory."""
    import onnx

    from modelgate.core.formats.onnx import samples
    from modelgate.core.formats.onnx.info import type_text
    from modelgate.core.formats.onnx.load import synthetic_inputs
    from modelgate.core.formats.onnx.value_inputs import random_operators

    graph = onnx.load(path, load_external_data=False).graph
    initializers = {tensor.name for tensor in graph.initializer}
    ports = [info for info in graph.input if info.name not in initializers]
    elem_types = {info.name: info.type.tensor_type.elem_type for info in ports}
    if sample is None:
        try:
            feeds, bindings, shown = synthetic_inputs(declared, values)
        except ValueError as error:
            return {"skipped": str(error)}
    else:
        bindings, shown = {}, f"the inputs of {sample['folder']}"
        feeds = {ports[k].name: samples.read_value(file, ports[k].type)
                 for k, file in sample["inputs"] if k < len(ports)}
    conn.send(("inputs", shown))
    session = _job_session(conn, path)
    conn.send(("stage", INFERENCE))
    try:
        results = samples.run(session, feeds, elem_types)
    except samples.Unfeedable as error:
        return {"skipped": str(error)}
    mismatches = []
    by_value = not random_operators(graph)  # a random draw has no expected value
    if sample is not None:
        types = {info.name: info.type for info in graph.output}
        by_position = dict(sample["outputs"])
        for k, (name, _, _, value) in enumerate(results):
            if k in by_position and name in types:
                text = samples.mismatch(samples.read_value(by_position[k], types[name]), value,
                                        type_text=type_text(types[name]), by_value=by_value,
                                        rtol=sample["rtol"], atol=sample["atol"])
                if text is not None:
                    mismatches.append((name, text))
    return {"bindings": bindings, "shown": shown, "mismatches": mismatches,
            "outputs": [(name, dtype, shape) for name, dtype, shape, _ in results]}


def _job_runtime(conn, path: str, name: str) -> dict:
    """Another format's optional runtime check (llama.cpp, LiteRT), here and not in the parent."""
    from pathlib import Path

    from modelgate.core.formats.interface import RuntimeUnavailable
    from modelgate.core.formats.registry import by_name

    conn.send(("stage", LOADING))
    try:
        return {"error": by_name(name).runtime_check(path=Path(path))}
    except RuntimeUnavailable as why:
        return {"unavailable": str(why)}


_JOBS = {"check": _job_check, "session": lambda conn, path: _job_session(conn, path) and None,
         "smoke": _job_smoke, "runtime": _job_runtime}


class _Channel:
    """Length-prefixed JSON messages over two binary streams."""

    def __init__(self, reader, writer) -> None:
        self.reader, self.writer = reader, writer

    def send(self, message) -> None:
        data = json.dumps(message).encode()
        self.writer.write(len(data).to_bytes(4, "big") + data)
        self.writer.flush()

    def recv(self):
        head = self.reader.read(4)
        if len(head) < 4:
            raise EOFError
        data = self.reader.read(int.from_bytes(head, "big"))
        if len(data) < int.from_bytes(head, "big"):
            raise EOFError
        return json.loads(data)


def serve() -> None:
    """The child's loop: one job at a time until the parent closes the pipe."""
    # Our messages keep the real stdout; anything a library prints goes to stderr instead.
    channel = _Channel(sys.stdin.buffer, os.fdopen(os.dup(1), "wb"))
    os.dup2(2, 1)
    import onnx  # noqa: F401  (paid once per child, not per job)
    import onnxruntime  # noqa: F401

    channel.send(("ready", None))  # the deadline of the first job starts now, not at the imports
    while True:
        try:
            job, budget, args = channel.recv()
        except EOFError:
            return
        try:
            with _Guard(budget):
                result = _JOBS[job](channel, *args)
            channel.send(("ok", result))
        except MemoryError:
            channel.send(("memory", None))
        except Exception as error:  # onnx and onnxruntime raise their own classes
            text = str(error) or error.__class__.__name__
            if _is_allocation_failure(text):
                channel.send(("memory", None))
            else:
                channel.send(("error", (error.__class__.__name__, text)))


def _is_allocation_failure(text: str) -> bool:
    lowered = text.lower()
    return "bad_alloc" in lowered or "bad allocation" in lowered or "failed to allocate" in lowered \
        or "std::bad_array_new_length" in lowered or "cannot allocate memory" in lowered


# ----------------------------------------------------------------------------- the parent

#: The argument that makes a frozen (PyInstaller) executable serve as the model process.
FROZEN_FLAG = "--modelgate-model-process"


def _command() -> list[str]:
    if getattr(sys, "frozen", False):  # the app's own executable: it has no `-c`
        return [sys.executable, FROZEN_FLAG]
    return [sys.executable, "-c", "from modelgate.core.formats.sandbox import serve; serve()"]


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
