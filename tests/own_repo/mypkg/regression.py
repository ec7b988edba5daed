import torch
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split


def train(config, seed):
    """Trains one configuration; yields the validation and held-out RMSE (in target SDs) after every epoch."""
    x, y = load_diabetes(return_X_y=True)
    x, x_test, y, y_test = train_test_split(x, y / y.std(), test_size=0.2, random_state=seed)
    x, x_val, y, y_val = train_test_split(x, y, test_size=0.25, random_state=seed)
    x, x_val, x_test, y, y_val, y_test = (torch.tensor(a, dtype=torch.float32) for a in (x, x_val, x_test, y, y_val, y_test))
    model = torch.nn.Sequential(torch.nn.Linear(10, config["width"]), torch.nn.ReLU(), torch.nn.Linear(config["width"], 1))
    opt = torch.optim.Adam(model.parameters(), lr=config["lr"])
    rmse = lambda a, b: float(((model(a).squeeze(1) - b) ** 2).mean().sqrt())  # noqa: E731
    while True:  # the harness stops pulling epochs at the budget's max_epochs, or when a scheduler stops the trial
        for batch in torch.randperm(len(x)).split(32):
            opt.zero_grad()
            ((model(x[batch]).squeeze(1) - y[batch]) ** 2).mean().backward()
            opt.step()
        with torch.no_grad():
            yield {"val_rmse": rmse(x_val, y_val), "test_rmse": rmse(x_test, y_test)}
