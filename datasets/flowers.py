"""Flowers through mads-datasets: ``<MADS_DATASETS_DIR>/flowers/flower_photos/<class>/*.jpg``.

Five classes of photos, decoded once to uint8 (N, 3, S, S) at the chosen image size ``S`` (the
studies used 224; a smaller size is the budget knob on a CPU) and split 70/15/15 by seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.run.live.data import DataSplits

from datasets._cache import cached, fingerprint
from datasets._common import split
from datasets._files import MADS_ENV, DataCorrupt, DataMissing, mads_dir, mads_download

SUFFIXES = (".jpg", ".jpeg")


@dataclass(frozen=True)
class Flowers:
    root: Path = field(default_factory=mads_dir)
    image_size: int = 64
    valid_frac: float = 0.15
    test_frac: float = 0.15

    @property
    def folder(self) -> Path:
        return Path(self.root) / "flowers" / "flower_photos"

    def ensure_available(self) -> None:
        hint = f"Put one folder of JPEGs per class in {self.folder}, or set {MADS_ENV} to the folder that holds flowers/."
        mads_download("FLOWERS", Path(self.root), self.folder, hint)
        if not self.classes():
            raise DataMissing(f"{self.folder} holds no class folders with JPEGs. {hint}")

    def classes(self) -> list[str]:
        return sorted(d.name for d in self.folder.iterdir() if d.is_dir() and any(_images(d)))

    def __call__(self, seed: int) -> DataSplits:
        self.ensure_available()
        files = [p for c in self.classes() for p in _images(self.folder / c)]
        key = {"source": str(self.folder), "size": self.image_size, "files": fingerprint(files)}
        data = cached(f"flowers{self.image_size}", key, self._decode)
        return split(data, seed, len(self.classes()), self.valid_frac, self.test_frac, augment=True)

    def _decode(self) -> dict:
        import numpy as np
        import torch
        from PIL import Image

        xs, ys = [], []
        for label, name in enumerate(self.classes()):
            for path in _images(self.folder / name):
                try:
                    with Image.open(path) as img:
                        img = img.convert("RGB").resize((self.image_size, self.image_size), Image.LANCZOS)
                        xs.append(np.asarray(img, dtype=np.uint8).transpose(2, 0, 1))
                except Exception as exc:
                    raise DataCorrupt(f"{path}: not a readable JPEG ({type(exc).__name__}: {exc})") from None
                ys.append(label)
        return {"x": torch.from_numpy(np.stack(xs)), "y": torch.tensor(ys, dtype=torch.int64), "classes": self.classes()}


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES)
