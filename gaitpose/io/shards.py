"""Shards for cluster array jobs: ``I/N`` takes every N-th item of a sorted list, from the I-th.

Used by ``gaitpose extract --shard`` and ``gaitpose features --shard`` (e.g.
``--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`` with ``#SBATCH --array=0-(N-1)``).
The share depends only on the sorted keys, so the N shards together cover every item exactly once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` → (I, N) with 0 <= I < N; ValueError otherwise."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m or not 0 <= int(m[1]) < int(m[2]):
        raise ValueError(f"expected I/N with 0 <= I < N (e.g. 0/4 ... 3/4), got {text!r}")
    return int(m[1]), int(m[2])


def take_shard(items: Iterable[T], shard: tuple[int, int] | None, key: Callable[[T], str]) -> list[T]:
    """Shard (I, N)'s share: items sorted by ``key``, every N-th from the I-th (all when None)."""
    items = list(items)
    if shard is None:
        return items
    i, n = shard
    return sorted(items, key=key)[i::n]
