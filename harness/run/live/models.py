"""Model families the problems tune. Each takes (config, input_shape, n_classes) -> nn.Module.

Config keys a family does not find take the defaults below, so a search space names only what
it tunes.
"""

from __future__ import annotations

from typing import Any

CNN_DEFAULTS: dict[str, Any] = {
    "conv_layers": 2,  # each followed by 2x2 max-pooling while the halved map fits the next conv
    "filters": 16,  # filters of the first conv layer; doubled per layer
    "kernel_size": 3,
    "padding": 1,
    "batchnorm": False,
    "dropout": 0.0,
    "fc_layers": 1,  # hidden fully-connected layers before the classifier
    "units": 64,
}


def cnn(config: dict, input_shape: tuple, n_classes: int):
    """The configurable CNN of the seed studies: conv blocks with doubling filters, then an MLP head."""
    import torch
    from torch import nn

    c = {**CNN_DEFAULTS, **{k: v for k, v in config.items() if k in CNN_DEFAULTS}}
    channels, height, width = input_shape
    layers: list[nn.Module] = []
    for i in range(int(c["conv_layers"])):
        out = int(c["filters"]) * 2**i
        layers.append(nn.Conv2d(channels, out, int(c["kernel_size"]), padding=int(c["padding"])))
        if c["batchnorm"]:
            layers.append(nn.BatchNorm2d(out))
        layers.append(nn.ReLU())
        channels = out
        height = height + 2 * int(c["padding"]) - int(c["kernel_size"]) + 1
        width = width + 2 * int(c["padding"]) - int(c["kernel_size"]) + 1
        if height < 1 or width < 1:
            raise ValueError(f"cnn: {c['conv_layers']} conv layers shrink a {input_shape} input to nothing")
        # Pool while the halved map still fits the next convolution, so deep unpadded stacks stay valid.
        fits = max(1, int(c["kernel_size"]) - 2 * int(c["padding"]))
        if height // 2 >= fits and width // 2 >= fits:
            layers.append(nn.MaxPool2d(2))
            height, width = height // 2, width // 2
    layers.append(nn.Flatten())
    features = channels * height * width
    for _ in range(int(c["fc_layers"])):
        layers += [nn.Linear(features, int(c["units"])), nn.ReLU(), nn.Dropout(float(c["dropout"]))]
        features = int(c["units"])
    layers.append(nn.Linear(features, n_classes))
    return torch.nn.Sequential(*layers)


def mlp(config: dict, input_shape: tuple, n_classes: int):
    """A small MLP (hidden ``units`` x ``fc_layers``): the cheapest model, for the harness's own tests."""
    from torch import nn

    features = 1
    for d in input_shape:
        features *= d
    units = int(config.get("units", 32))
    layers: list[nn.Module] = [nn.Flatten()]
    for _ in range(int(config.get("fc_layers", 1))):
        layers += [nn.Linear(features, units), nn.ReLU(), nn.Dropout(float(config.get("dropout", 0.0)))]
        features = units
    layers.append(nn.Linear(features, n_classes))
    return nn.Sequential(*layers)


SEQ_DEFAULTS: dict[str, Any] = {
    "model": "gru",  # "gru" or "conv1d"
    "units": 64,  # GRU hidden size, or conv1d channels
    "layers": 1,
    "batchnorm": False,
    "dropout": 0.0,
}


def sequence(config: dict, input_shape: tuple, n_classes: int):
    """The gestures model: a GRU or a Conv1d stack over (channels + mask, steps) input.

    The last input channel is the padding mask (1 real step, 0 padding): the GRU reads packed
    sequences of the real lengths, the Conv1d stack averages over real steps only.
    """
    from torch import nn

    c = {**SEQ_DEFAULTS, **{k: v for k, v in config.items() if k in SEQ_DEFAULTS}}
    channels = input_shape[0] - 1
    units, layers = int(c["units"]), int(c["layers"])

    class Sequence(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm = nn.BatchNorm1d(channels) if c["batchnorm"] else nn.Identity()
            if c["model"] == "gru":
                self.body = nn.GRU(channels, units, num_layers=layers, batch_first=True,
                                   dropout=float(c["dropout"]) if layers > 1 else 0.0)
            elif c["model"] == "conv1d":
                blocks, width = [], channels
                for _ in range(layers):
                    blocks += [nn.Conv1d(width, units, 3, padding=1)]
                    blocks += [nn.BatchNorm1d(units)] if c["batchnorm"] else []
                    blocks += [nn.ReLU()]
                    width = units
                self.body = nn.Sequential(*blocks)
            else:
                raise ValueError(f"sequence: unknown model {c['model']!r}; known: gru, conv1d")
            self.head = nn.Sequential(nn.Dropout(float(c["dropout"])), nn.Linear(units, n_classes))

        def forward(self, x):
            values, mask = self.norm(x[:, :-1]), x[:, -1:]
            lengths = mask.sum(dim=(1, 2)).clamp(min=1)
            if c["model"] == "gru":
                packed = nn.utils.rnn.pack_padded_sequence(
                    values.transpose(1, 2), lengths.long().cpu(), batch_first=True, enforce_sorted=False
                )
                _, hidden = self.body(packed)
                features = hidden[-1]
            else:
                features = (self.body(values) * mask).sum(dim=2) / lengths[:, None]
            return self.head(features)

    return Sequence()


CONV1D_DEFAULTS: dict[str, Any] = {
    "conv_layers": 3,  # each halves the signal (stride 2), as in the MNIST-1D paper's CNN
    "channels": 32,
    "kernel_size": 5,
    "batchnorm": False,
    "dropout": 0.0,  # before the linear classifier
}


def conv1d(config: dict, input_shape: tuple, n_classes: int):
    """A Conv1d stack over (channels, length) signals: stride-2 convolutions, then one linear layer."""
    from torch import nn

    c = {**CONV1D_DEFAULTS, **{k: v for k, v in config.items() if k in CONV1D_DEFAULTS}}
    channels, length = input_shape
    kernel, width = int(c["kernel_size"]), int(c["channels"])
    layers: list[nn.Module] = []
    for _ in range(int(c["conv_layers"])):
        layers.append(nn.Conv1d(channels, width, kernel, stride=2, padding=kernel // 2))
        layers += [nn.BatchNorm1d(width)] if c["batchnorm"] else []
        layers.append(nn.ReLU())
        channels, length = width, (length + 2 * (kernel // 2) - kernel) // 2 + 1
    layers += [nn.Flatten(), nn.Dropout(float(c["dropout"])), nn.Linear(channels * length, n_classes)]
    return nn.Sequential(*layers)


def gru(config: dict, input_shape: tuple, n_classes: int):
    """A bidirectional GRU over (channels, length) signals, every step's state read by one linear layer.

    The MNIST-1D paper's GRU: ``units`` hidden units a direction (paper: 6), all steps flattened.
    """
    from torch import nn

    channels, length = input_shape
    units = int(config.get("units", 6))

    class Gru(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.GRU(channels, units, num_layers=int(config.get("layers", 1)), batch_first=True, bidirectional=True)
            self.head = nn.Sequential(nn.Flatten(), nn.Dropout(float(config.get("dropout", 0.0))),
                                      nn.Linear(2 * units * length, n_classes))

        def forward(self, x):
            out, _ = self.body(x.transpose(1, 2))
            return self.head(out)

    return Gru()
