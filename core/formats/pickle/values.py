"""The symbolic values the opcode walk keeps on its stack instead of the objects a load would build.

Only what the walk needs is kept: short strings and small ints (names, shapes, persistent
ids), the callables imported, and for joblib's arrays the wrapper, its state and its dtype
(core/formats/pickle/arrays.py). Everything else is :data:`UNKNOWN`.
"""

from __future__ import annotations


class PickleLimit(Exception):
    """The pickle breaks a limit or ends early; the message says which."""


class _Unknown:
    __slots__ = ()


UNKNOWN = _Unknown()


class Imported(str):
    """An imported callable on the stack: never mistaken for a module or name string."""


WRAPPER = "joblib.numpy_pickle.NumpyArrayWrapper"
_STATE_KEYS = 16


class Wrapper:
    """A ``NumpyArrayWrapper`` built on the symbolic stack, waiting for its state."""

    __slots__ = ()


class State(dict):
    """The state dict being built for a :class:`Wrapper` (only its first few string keys)."""


class Dtype(str):
    """A ``numpy.dtype(code, ...)`` built on the symbolic stack: its type code, e.g. ``f4``."""


def instance(cls):
    """What ``NEWOBJ`` of ``cls`` leaves on the stack."""
    return Wrapper() if isinstance(cls, Imported) and cls == WRAPPER else UNKNOWN


def reduced(func, args):
    """What ``REDUCE`` of ``func(*args)`` leaves on the stack: a dtype is kept by its code."""
    if isinstance(func, Imported) and func in ("numpy.dtype", "numpy.core.multiarray.dtype") \
            and isinstance(args, tuple) and args and type(args[0]) is str:
        return Dtype(args[0])
    return UNKNOWN


def state_for(below):
    """``EMPTY_DICT`` pushed right above a wrapper: its state, recorded; any other dict is unknown."""
    return State() if isinstance(below, Wrapper) else UNKNOWN


def state_from_items(items: list, *, below):
    """``DICT`` (protocol 0 and 1) over ``items``: recorded when it is a wrapper's state."""
    state = state_for(below)
    add_items(state, items)
    return state


def add_items(target, items: list) -> None:
    """``SETITEM(S)`` of key/value ``items`` into ``target``, recorded when it is a wrapper's state."""
    if not isinstance(target, State):
        return
    for key, value in zip(items[::2], items[1::2]):
        if type(key) is str and len(target) < _STATE_KEYS:
            target[key] = value
