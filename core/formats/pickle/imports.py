"""Which callables a weights pickle may import, and which ones run code.

A state dict needs only the callables that rebuild tensors, storages and plain
containers. Everything else is reported: callables known to run commands, evaluate
code or reach the network are :data:`~modelgate.core.formats.rules.UNSAFE_IMPORT`,
anything else outside the allow-list is :data:`~modelgate.core.formats.rules.UNLISTED_IMPORT`.
"""

from __future__ import annotations

_TORCH_REBUILD = {
    "_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_tensor_v3", "_rebuild_parameter",
    "_rebuild_parameter_with_state", "_rebuild_qtensor", "_rebuild_sparse_tensor",
    "_rebuild_device_tensor_from_numpy", "_rebuild_meta_tensor_no_storage",
    "_rebuild_wrapper_subclass", "_rebuild_nested_tensor", "_rebuild_sparse_csr_tensor",
}
#: torch storage classes, by the element type the bundle standard calls their contents.
STORAGE_DTYPES = {
    "FloatStorage": ("float32", 4), "DoubleStorage": ("float64", 8), "HalfStorage": ("float16", 2),
    "BFloat16Storage": ("bfloat16", 2), "LongStorage": ("int64", 8), "IntStorage": ("int32", 4),
    "ShortStorage": ("int16", 2), "CharStorage": ("int8", 1), "ByteStorage": ("uint8", 1),
    "BoolStorage": ("bool", 1), "ComplexFloatStorage": ("complex64", 8),
    "ComplexDoubleStorage": ("complex128", 16), "QInt8Storage": ("qint8", 1),
    "QUInt8Storage": ("quint8", 1), "QInt32Storage": ("qint32", 4), "UntypedStorage": ("uint8", 1),
}
_TORCH_DTYPES = {"float32", "float", "float64", "double", "float16", "half", "bfloat16", "int64",
                 "long", "int32", "int", "int16", "short", "int8", "uint8", "bool", "complex64",
                 "complex128", "qint8", "quint8", "qint32", "float8_e4m3fn", "float8_e5m2"}

ALLOWED = frozenset(
    {f"torch._utils.{name}" for name in _TORCH_REBUILD}
    | {f"torch.{name}" for name in STORAGE_DTYPES}
    | {f"torch.{name}" for name in _TORCH_DTYPES}
    | {"torch._tensor._rebuild_from_type_v2", "torch.Size", "torch.device", "torch.storage.UntypedStorage",
       "torch.serialization._get_layout", "torch.strided", "torch.sparse_coo", "torch.channels_last",
       "torch.contiguous_format", "torch.preserve_format",
       "collections.OrderedDict", "collections.defaultdict", "__builtin__.set", "builtins.set",
       "builtins.frozenset", "builtins.slice", "builtins.bytearray", "builtins.complex",
       "builtins.dict", "builtins.list", "builtins.tuple", "builtins.int", "builtins.float",
       "builtins.str", "builtins.bytes", "builtins.bool", "_codecs.encode", "copyreg._reconstructor",
       "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
       "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar", "numpy.ndarray",
       "numpy.dtype", "joblib.numpy_pickle.NumpyArrayWrapper", "joblib.numpy_pickle.NDArrayWrapper"}
)
#: Modules whose every callable can run commands, load code or reach the network.
_UNSAFE_MODULES = {"os", "posix", "nt", "subprocess", "runpy", "webbrowser", "socket", "sys",
                   "shutil", "pty", "importlib", "pickle", "_pickle", "dill", "ctypes", "code",
                   "commands", "requests", "httplib", "http", "urllib", "urllib2", "asyncio",
                   "multiprocessing", "platform", "pdb", "bdb", "timeit", "cProfile", "profile",
                   "torch.hub", "torch.jit", "numpy.testing", "pip", "setuptools", "marshal",
                   "types", "telnetlib", "ftplib", "smtplib", "tempfile", "signal", "threading"}
_UNSAFE_CALLABLES = {"eval", "exec", "compile", "open", "__import__", "getattr", "setattr",
                     "delattr", "globals", "locals", "vars", "breakpoint", "input", "execfile",
                     "apply", "attrgetter", "methodcaller", "system", "popen", "load", "loads"}


def is_unsafe(name: str) -> bool:
    """Whether importing ``name`` (``module.callable``) hands a pickle a way to run code."""
    if name.startswith("<"):
        return True  # an import that could not be resolved statically hides what it is
    module, _, attr = name.rpartition(".")
    root = module.split(".", 1)[0]
    return module in _UNSAFE_MODULES or root in _UNSAFE_MODULES or attr in _UNSAFE_CALLABLES \
        or (module in ("builtins", "__builtin__", "operator", "functools", "nt", "posix") and
            attr not in {n.rsplit(".", 1)[-1] for n in ALLOWED if n.startswith("builtins.")})
