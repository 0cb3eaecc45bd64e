"""Input/output: the Sequence container, safe pickles, atomic writes, importers/exporters."""

from gaitpose.io.atomic import atomic_path, atomic_write_bytes
from gaitpose.io.safe_pickle import UnsafePickleError, dump_pickle, load_pickle
from gaitpose.io.sequence import Sequence, SequenceFormatError, load_sequence, save_sequence

__all__ = [
    "Sequence",
    "SequenceFormatError",
    "UnsafePickleError",
    "atomic_path",
    "atomic_write_bytes",
    "dump_pickle",
    "load_pickle",
    "load_sequence",
    "save_sequence",
]
