"""The walks to screen: inputs (videos and Sequence ``.npz`` files, folders searched) and
reading one of them into a :class:`~gaitpose.io.Sequence` (extracting a video)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gaitpose.io.sequence import Sequence
from gaitpose.io.video import find_videos


class WalkError(Exception):
    """A walk cannot be read; ``str(exc)`` is the reason, without the path."""


@dataclass(frozen=True)
class WalkInput:
    """One input: the file, its output name (``DIR/<name>/``) and kind (``npz`` or ``video``)."""

    path: Path
    name: str
    kind: str


def _videos_and_sequences(folder: Path) -> list[Path]:
    return sorted(set(find_videos(folder)) | {f for f in folder.rglob("*.npz") if f.is_file()})


def collect_walks(inputs: Iterable[str | os.PathLike], exclude: str | os.PathLike | None = None
                  ) -> tuple[list[WalkInput], list[Path]]:
    """Expand files and folders (recursive: videos and ``.npz`` files) into walks.

    Files named explicitly are taken whatever their extension (``.npz`` ones as Sequences, the
    rest as videos). Returns (walks in input order, each file once; missing paths).
    """
    from gaitpose.pose.batch import assign_names, collect_inputs

    files, missing = collect_inputs(inputs, exclude, find=_videos_and_sequences)
    names = assign_names(files)
    walks = [WalkInput(f, n, "npz" if f.suffix.lower() == ".npz" else "video") for f, n in zip(files, names)]
    return walks, missing


def read_walk(walk: WalkInput, progress: bool = False) -> Sequence:
    """The walk's Sequence: the file itself, or the extraction of the video (pose keypoints
    and silhouettes of the person who walks, chosen among everybody in view as ``gaitpose
    extract`` does by default; the tracks and the choice are in the Sequence's meta)."""
    if walk.kind == "npz":
        from gaitpose.io.sequence import SequenceFormatError, load_sequence

        try:
            return load_sequence(walk.path)
        except SequenceFormatError as exc:
            raise WalkError(_strip_path(str(exc), walk.path)) from None
        except OSError as exc:
            raise WalkError(exc.strerror or str(exc)) from None
    from gaitpose.pose.extract import ExtractError, extract_video

    try:
        return extract_video(walk.path, silhouettes=True, progress=progress)
    except ExtractError as exc:
        raise WalkError(_strip_path(str(exc), walk.path)) from None
    except OSError as exc:
        raise WalkError(exc.strerror or str(exc)) from None


def _strip_path(message: str, path: Path) -> str:
    """A reason without the file name the caller prints anyway."""
    for prefix in (f"{path}: ", f"{path.name}: "):
        if message.startswith(prefix):
            return message[len(prefix):]
    return message
