"""The training loop: batches come from indexing tensors that already sit on the device."""

from __future__ import annotations


def pick_device():
    """The GPU when one is visible to this process (Ray hides it from trials given none), else the CPU."""
    import torch

    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def as_input(x):
    """uint8 images (the compact cached form) become floats in [0, 1]; float tensors pass through."""
    import torch

    return x.float().div_(255.0) if x.dtype == torch.uint8 else x


def train_epoch(model, optimizer, x, y, batch_size: int, generator) -> float:
    """One pass over (x, y) in a seeded random order; returns the mean training loss."""
    import torch
    import torch.nn.functional as F

    model.train()
    n = len(y)
    order = torch.randperm(n, generator=generator).to(x.device)
    total, seen = torch.zeros((), device=x.device), 0
    use_bf16 = x.device.type == "cuda"  # bf16 autocast pays on tensor cores, not on this CPU
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=use_bf16):
            loss = F.cross_entropy(model(as_input(x[idx])), y[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.detach().float() * len(idx)
        seen += len(idx)
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
