"""Data sets in one canonical class order: RAF-DB, FERPlus, FED-RO, RAN's occlusion/pose subsets,
folder-per-class and CSV layouts, and SynthFER (synthetic). See docs/training.md."""

from fer.data.registry import DATASETS, dataset_info, open_dataset

__all__ = ["DATASETS", "dataset_info", "open_dataset"]
