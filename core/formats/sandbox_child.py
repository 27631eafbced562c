"""The bounded model process's own side: the jobs it runs, the memory guard around each, and
its loop (see :mod:`.sandbox` for the parent, which starts it, sets the limits and kills it)."""

from __future__ import annotations

import json
import os
import sys
import threading

#: Exit status of a child whose watchdog saw its resident memory cross the budget.
_MEMORY_EXIT = 86
#: How far a job got, as the parent reports a breach: loading, session creation, inference.
LOADING = "loading"
SESSION = "session creation"
INFERENCE = "inference"


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
