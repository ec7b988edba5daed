"""A user's own problem: a small PyTorch MLP regressing scikit-learn's diabetes target, trained by her own loop."""

import torch
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split


def _split(seed):
    x, y = load_diabetes(return_X_y=True)
    x_rest, x_test, y_rest, y_test = train_test_split(x, y, test_size=0.2, random_state=seed)
    x_train, x_val, y_train, y_val = train_test_split(x_rest, y_rest, test_size=0.25, random_state=seed)
    mean, std, scale = x_train.mean(0), x_train.std(0), y_train.std()
    t = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    return [(t((a - mean) / std), t(b / scale)) for a, b in ((x_train, y_train), (x_val, y_val), (x_test, y_test))]


def train(config, seed):
    """Yields, after every epoch, the validation and held-out test RMSE (in units of the target's spread)."""
    (x, y), (xv, yv), (xt, yt) = _split(seed)
    model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], config["width"]), torch.nn.ReLU(),
                                torch.nn.Linear(config["width"], 1))
    opt = torch.optim.Adam(model.parameters(), lr=config["lr"])
    gen = torch.Generator().manual_seed(seed)
    rmse = lambda a, b: float(((model(a).squeeze(1) - b) ** 2).mean().sqrt())  # noqa: E731
    while True:
        for batch in torch.randperm(len(x), generator=gen).split(32):
            opt.zero_grad()
            loss = ((model(x[batch]).squeeze(1) - y[batch]) ** 2).mean()
            loss.backward()
            opt.step()
        with torch.no_grad():
            yield {"val_rmse": rmse(xv, yv), "test_rmse": rmse(xt, yt), "train_loss": float(loss)}
