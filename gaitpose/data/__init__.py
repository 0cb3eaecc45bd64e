"""Torch datasets, samplers and batching for gait clips (silhouettes, skeletons, both)."""

from gaitpose.data.collate import collate_clips
from gaitpose.data.dataset import GaitDataset, align_modalities, crop_sils, read_labels_csv
from gaitpose.data.sampler import PKSampler

__all__ = [
    "GaitDataset",
    "PKSampler",
    "align_modalities",
    "collate_clips",
    "crop_sils",
    "read_labels_csv",
]
