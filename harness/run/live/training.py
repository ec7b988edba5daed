"""The training loop: batches come from indexing tensors that already sit on the device."""

from __future__ import annotations


def pick_device():
    """The GPU when one is visible to this process (Ray hides it from trials given none), else the CPU."""
    import torch

    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def as_input(x):
    """uint8 images (the compact cached form) become floats in [0, 1]; float tensors pass through."""
    import torch

    return x.mul(1.0 / 255.0) if x.dtype == torch.uint8 else x  # one kernel: uint8 * float -> float32


def augment(x, generator, pad: int = 4):
    """Random crop (from a ``pad``-pixel zero border) and horizontal flip, per image, batched on x's device."""
    import torch

    n, _, h, w = x.shape
    shifts = torch.randint(0, 2 * pad + 1, (2, n), generator=generator).to(x.device)
    flips = (torch.rand(n, generator=generator) < 0.5).to(x.device)
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad))
    rows = (torch.arange(h, device=x.device)[None, :] + shifts[0][:, None])[:, None, :, None]
    cols = torch.arange(w, device=x.device)[None, :].expand(n, w)
    cols = torch.where(flips[:, None], cols.flip(1), cols) + shifts[1][:, None]
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    chans = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    return padded[batch, chans, rows, cols[:, None, None, :]]


FLOAT_BUDGET_BYTES = 1 << 30  # expand uint8 inputs to float32 once per worker when they fit in this


def expand_inputs(data, budget_bytes: int = FLOAT_BUDGET_BYTES):
    """``data`` (DataSplits) with uint8 inputs turned into float32 in [0, 1] once, when all splits fit
    in ``budget_bytes``: batches are then plain slices. Larger sets stay compact and are converted
    batch by batch (the cache file on disk is uint8 either way)."""
    import dataclasses

    import torch

    parts = [v for v in (data.x_train, data.x_valid, data.x_test) if v is not None]
    if not all(v.dtype == torch.uint8 for v in parts) or sum(v.numel() for v in parts) * 4 > budget_bytes:
        return data
    return dataclasses.replace(
        data,
        x_train=as_input(data.x_train),
        x_valid=as_input(data.x_valid),
        x_test=None if data.x_test is None else as_input(data.x_test),
    )


def batches(x, y, batch_size: int, generator):
    """One epoch of (float inputs, labels) batches in a seeded order.

    Each batch is one ``index_select`` of tensors already on the device (measured here: faster than
    gathering the whole epoch first, and no second copy of the data): no per-sample Python.
    """
    import torch

    order = torch.randperm(len(y), generator=generator).to(x.device)
    for idx in order.split(batch_size):
        yield as_input(x.index_select(0, idx)), y.index_select(0, idx)


def train_epoch(model, optimizer, x, y, batch_size: int, generator, augmented: bool = False) -> float:
    """One pass over (x, y) in a seeded random order; returns the mean training loss."""
    import torch
    import torch.nn.functional as F

    model.train()
    total, seen = torch.zeros((), device=x.device), 0
    on_gpu = x.device.type == "cuda"  # bf16 autocast and channels_last pay on tensor cores, not on this CPU
    for xb, yb in batches(x, y, batch_size, generator):
        if augmented:
            xb = augment(xb, generator)
        if on_gpu and xb.ndim == 4:
            xb = xb.contiguous(memory_format=torch.channels_last)
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=on_gpu):
            loss = F.cross_entropy(model(xb), yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.detach().float() * len(yb)
        seen += len(yb)
    return float(total / max(seen, 1))


def evaluate(model, x, y, batch_size: int = 1024) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` on (x, y)."""
    import torch
    import torch.nn.functional as F

    model.eval()
    loss_sum, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(y), batch_size):
            xb, yb = as_input(x[start : start + batch_size]), y[start : start + batch_size]
            logits = model(xb).float()
            loss_sum += float(F.cross_entropy(logits, yb, reduction="sum"))
            correct += int((logits.argmax(1) == yb).sum())
    n = max(len(y), 1)
    return loss_sum / n, correct / n
