"""OpenGait's P×K triplet sampler."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from torch.utils.data import Sampler


class PKSampler(Sampler[list[int]]):
    """Infinite batch sampler: each batch holds P distinct identities × K sequences each.

    An identity is a subject by default (``dataset.subjects``); the trainer passes the triplet
    loss's identities (``loss_cfg.identity``). An identity with fewer than K sequences is sampled with replacement (its clips are then
    different frame subsets of the same sequences). With ``world_size > 1`` every rank
    draws the same global batch stream and keeps its own contiguous 1/world_size share.

    Args:
        dataset: anything with a ``subjects`` list (one subject per index).
        P: identities per batch; K: sequences per identity.
        seed: the stream is a deterministic function of the seed.
        rank, world_size: distributed share (P*K must be divisible by world_size).
        identities: one identity per index (default ``dataset.subjects``).

    Yields:
        lists of P*K/world_size dataset indices (use as a DataLoader ``batch_sampler``).
    """

    def __init__(self, dataset, P: int, K: int, seed: int = 0, rank: int = 0, world_size: int = 1,
                 identities=None) -> None:
        if P < 1 or K < 1:
            raise ValueError(f"P and K must be >= 1, got P={P}, K={K}")
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"need 0 <= rank < world_size, got rank={rank}, world_size={world_size}")
        if (P * K) % world_size:
            raise ValueError(f"P*K = {P * K} is not divisible by world_size = {world_size}")
        groups: dict[str, list[int]] = {}
        for i, s in enumerate(dataset.subjects if identities is None else identities):
            groups.setdefault(str(s), []).append(i)
        if len(groups) < P:
            raise ValueError(f"P = {P} identities per batch, but the dataset has only {len(groups)}")
        self.subjects = sorted(groups)
        self.groups = [np.asarray(groups[s]) for s in self.subjects]
        self.P, self.K, self.seed, self.rank, self.world_size = P, K, seed, rank, world_size

    def __iter__(self) -> Iterator[list[int]]:
        rng = np.random.default_rng(self.seed)
        share = self.P * self.K // self.world_size
        while True:
            batch: list[int] = []
            for g in rng.choice(len(self.groups), size=self.P, replace=False):
                members = self.groups[g]
                pick = rng.choice(members, size=self.K, replace=len(members) < self.K)
                batch.extend(int(i) for i in pick)
            yield batch[self.rank * share : (self.rank + 1) * share]
