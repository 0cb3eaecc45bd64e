"""Subject-disjoint, class-stratified, seeded splits (test sets and validation sets).

One rule serves both the synthetic cohort (``gaitpose synth`` draws TEST_SET, then VAL_SET
from the remaining training subjects) and datasets whose partition has no ``VAL_SET``
(Scoliosis1K: :func:`carve_validation` carves one from ``TRAIN_SET``, leaving OpenGait's
``TEST_SET`` untouched):

    within each class (in ``gaitpose.LABELS`` order), the class's subjects are put in a random
    order (``rng.permutation``) and whole subjects are taken, in that order, while the drawn
    sequences are fewer than ``fraction`` of the class's sequences, never taking the class's
    last sequence (the test draw of ``gaitpose synth`` alone takes a class's only sequence).

A subject's sequences are never split between sets, so no subject is both trained on and
selected or tested on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from gaitpose import LABELS


def draw_subjects(
    subjects: Sequence[tuple[str, str, int]],
    fraction: float,
    rng: np.random.Generator,
    take_single: bool = False,
) -> set[str]:
    """Whole subjects drawn per class until they hold ``fraction`` of the class's sequences.

    Args:
        subjects: ``(subject, class, number of sequences)`` in a fixed order (the draw depends
            on it and on ``rng`` only).
        fraction: share of each class's sequences to draw, in [0, 1).
        rng: the random stream (advanced by one permutation per non-empty class).
        take_single: draw a class's only sequence (when ``fraction`` > 0) instead of keeping it.

    Returns:
        the drawn subjects.
    """
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"fraction must be in [0, 1), got {fraction}")
    drawn: set[str] = set()
    for cls in LABELS:
        members = [i for i, (_, c, _) in enumerate(subjects) if c == cls]
        if not members:
            continue
        total = sum(subjects[i][2] for i in members)
        got = 0
        for i in rng.permutation(members):
            k = subjects[i][2]
            if got < fraction * total and (got + k <= total - 1 or (take_single and total <= 1)):
                drawn.add(subjects[i][0])
                got += k
    return drawn


def carve_validation(
    train_ids: Iterable[str],
    classes: dict[str, str],
    subjects: dict[str, str] | None,
    fraction: float,
    seed: int,
) -> tuple[list[str], list[str]]:
    """Split a ``TRAIN_SET`` into (training ids, validation ids) by :func:`draw_subjects`.

    Args:
        train_ids: the partition's ``TRAIN_SET``.
        classes: id → class name for (at least) every training id.
        subjects: id → subject; None or a missing id: the id is its own subject (Scoliosis1K's
            ids are one per sequence).
        fraction: share of each class's training sequences that goes to validation.
        seed: seed of ``numpy.random.default_rng``.

    Returns:
        (train, val) id lists, both in the order of ``train_ids``.
    """
    ids = [str(i) for i in train_ids]
    subjects = subjects or {}
    members: dict[str, list[str]] = {}
    cls_of: dict[str, str] = {}
    for i in ids:
        if i not in classes:
            continue  # not in the data: neither trained on nor validated on
        s = subjects.get(i, i)
        members.setdefault(s, []).append(i)
        if cls_of.setdefault(s, classes[i]) != classes[i]:
            raise ValueError(f"subject {s} has sequences of two classes ({cls_of[s]}, {classes[i]})")
    table = [(s, cls_of[s], len(members[s])) for s in sorted(members)]
    val_subjects = draw_subjects(table, fraction, np.random.default_rng(seed))
    val = [i for i in ids if i in classes and subjects.get(i, i) in val_subjects]
    chosen = set(val)
    return [i for i in ids if i not in chosen], val
