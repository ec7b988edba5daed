"""The small interface between data sets and the trainer: tensors already split, nothing more."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DataSplits:
    """Train/valid/test tensors (``x`` float or uint8, ``y`` int64 class indices).

    ``x_*`` hold whole splits so that the trainer batches by indexing tensors that already sit
    on the training device: no DataLoader, no per-sample Python in the hot path.
    """

    x_train: Any
    y_train: Any
    x_valid: Any
    y_valid: Any
    n_classes: int
    x_test: Any = None
    y_test: Any = None
    augment: bool = False  # random crop + flip per batch, on the device (image data sets)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    def to(self, device: Any) -> DataSplits:
        moved = {k: (v.to(device) if hasattr(v, "to") and not isinstance(v, bool) else v) for k, v in self.__dict__.items()}
        return DataSplits(**moved)
