"""A restricted unpickler for pkl files from other tools (OpenGait, pyskl, Scoliosis1K).

``pickle.load`` executes whatever a file tells it to; these files come from outside, so
every pkl read in gaitpose goes through :func:`load_pickle`, which admits numpy arrays,
numpy scalars/dtypes and plain containers only, and refuses anything else *before*
it is called.
"""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path
from typing import Any

# (module, name) pairs a pickle may reference. Builtin containers/scalars need no
# global lookup; these are what numpy arrays and scalars reduce to.
_ALLOWED: set[tuple[str, str]] = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy", "core.multiarray._reconstruct"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("builtins", "slice"),
    ("builtins", "complex"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "bytearray"),
    ("collections", "OrderedDict"),
    ("collections", "defaultdict"),
    ("_codecs", "encode"),  # how protocol 2 pickles bytes
}


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle referenced a global that is not on the allow list."""


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise UnsafePickleError(f"refused to load global '{module}.{name}' (not a numpy array or plain container)")


def loads_pickle(data: bytes) -> Any:
    """Unpickle ``data`` with the restricted unpickler."""
    return _RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load()


def load_pickle(path: str | os.PathLike) -> Any:
    """Load a pkl file safely; raises :class:`UnsafePickleError` naming the file on refusal."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            return _RestrictedUnpickler(fh, encoding="latin1").load()
    except UnsafePickleError as exc:
        raise UnsafePickleError(f"{path}: {exc}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as exc:
        raise pickle.UnpicklingError(f"{path}: not a readable pickle ({exc})") from None


def dump_pickle(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as a pickle atomically (protocol 4, readable by OpenGait's loaders)."""
    from gaitpose.io.atomic import atomic_write_bytes

    atomic_write_bytes(path, pickle.dumps(obj, protocol=4))
