"""Input/output: the Sequence container, safe pickles, atomic writes, importers/exporters."""

from gaitpose.io.atomic import atomic_path, atomic_write_bytes
from gaitpose.io.opengait import (
    OpenGaitFormatError,
    OpenGaitRecord,
    read_opengait_sequence,
    read_partition,
    scan_tree,
    write_opengait_sequence,
    write_partition,
)
from gaitpose.io.openpose import read_openpose_folder
from gaitpose.io.pyskl import read_pyskl, write_pyskl
from gaitpose.io.safe_pickle import UnsafePickleError, dump_pickle, load_pickle
from gaitpose.io.scoliosis1k import read_scoliosis1k_pose
from gaitpose.io.sequence import Sequence, SequenceFormatError, load_sequence, save_sequence
from gaitpose.io.trc import write_trc

__all__ = [
    "OpenGaitFormatError",
    "OpenGaitRecord",
    "Sequence",
    "SequenceFormatError",
    "UnsafePickleError",
    "atomic_path",
    "atomic_write_bytes",
    "dump_pickle",
    "load_pickle",
    "load_sequence",
    "read_opengait_sequence",
    "read_openpose_folder",
    "read_pyskl",
    "read_scoliosis1k_pose",
    "read_partition",
    "save_sequence",
    "scan_tree",
    "write_opengait_sequence",
    "write_partition",
    "write_pyskl",
    "write_trc",
]
