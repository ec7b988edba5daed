import torch
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

from harness.run.live.data import DataSplits


def load(seed):
    """Breast cancer, split 60/20/20 by the seed, standardised on the training split."""
    x, y = load_breast_cancer(return_X_y=True)
    x, x_test, y, y_test = train_test_split(x, y, test_size=0.2, random_state=seed, stratify=y)
    x, x_val, y, y_val = train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)
    mean, std = x.mean(0), x.std(0)
    xs = [torch.tensor((a - mean) / std, dtype=torch.float32) for a in (x, x_val, x_test)]
    ys = [torch.tensor(a, dtype=torch.int64) for a in (y, y_val, y_test)]
    return DataSplits(xs[0], ys[0], xs[1], ys[1], n_classes=2, x_test=xs[2], y_test=ys[2])


def build_model(config, input_shape, n_classes):
    """An MLP; the built-in trainer reads lr, weight_decay, batch_size and optimizer from the same config."""
    width = config["width"]
    return torch.nn.Sequential(torch.nn.Linear(input_shape[0], width), torch.nn.ReLU(),
                               torch.nn.Dropout(config["dropout"]), torch.nn.Linear(width, n_classes))
